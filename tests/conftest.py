"""Shared test configuration.

The MNIST/FashionMNIST tests read the real files from ``GMMLAB_DATA``; when it is not
set, the read-only copy in ``../shared/datasets`` (beside the repository) is used if it
exists, as ``.ci/run`` does.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
_shared = ROOT.parent / "shared" / "datasets"
if "GMMLAB_DATA" not in os.environ and _shared.is_dir():
    os.environ["GMMLAB_DATA"] = str(_shared)
