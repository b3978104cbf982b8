"""pytest configuration for the whole repository (unit tests and ``--nbval book``).

Chapters re-executed by nbval must print exactly what their stored outputs hold:
progress bars (tqdm, see :mod:`gmmlab.ood`) are switched off in the kernels nbval
starts, which inherit this environment.
"""

import os

os.environ["GMMLAB_PROGRESS"] = "0"
