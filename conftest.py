"""pytest configuration for the whole repository (unit tests and ``--nbval book``).

Chapters re-executed by nbval must print exactly what their stored outputs hold. The
kernels nbval starts (and those of ``.ci/execute.py``, which imports this file) inherit
this environment:

* progress bars (tqdm, see :mod:`gmmlab.ood`) are switched off;
* OpenBLAS's kernels are pinned to the ones the stored outputs were computed with, its
  AVX2 ("Haswell") kernels, as on the machines this project runs on (which set
  ``OPENBLAS_CORETYPE=Haswell`` and ``OPENBLAS_L2_SIZE=512``). OpenBLAS otherwise picks
  its kernels by processor when numpy loads, and another kernel rounds differently --
  enough to move a K-means run on MNIST to another local minimum and a printed digit of
  chapters 03 and 08 (its AVX-512 kernels do). When ``OPENBLAS_CORETYPE`` is already
  set, or the processor has no AVX2, nothing changes.
"""

import os
from pathlib import Path

os.environ["GMMLAB_PROGRESS"] = "0"


def _has_avx2() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:  # not Linux
        return False
    return " avx2" in flags


if "OPENBLAS_CORETYPE" not in os.environ and _has_avx2():
    os.environ["OPENBLAS_CORETYPE"] = "Haswell"
    os.environ.setdefault("OPENBLAS_L2_SIZE", "512")
