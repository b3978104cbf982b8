"""K-means clustering: Lloyd's algorithm and Elkan's acceleration of it, k-means++
and class-mean seeding, missing data.

Used by the "Clustering and K-means" chapters (``book/*/02_kmeans``,
``book/*/03_kmeans_mnist``: :class:`KMeans`, :func:`kmeans_plusplus`,
:func:`class_means`, :func:`lloyd_step`) and by the assignment chapter on missing
data (``book/*/08_kmeans_missing``: :class:`MissingDataKMeans`, pen-and-paper
question 1). The Gaussian-mixture code initialises EM with :class:`KMeans`.

Everything means what it means in scikit-learn's ``KMeans``: ``tol`` is relative
to the mean feature variance and compared with the total squared center shift, a
run ends with a final assignment step, and ``n_iter_`` counts Lloyd iterations.
Started from the same centers, the results agree with scikit-learn's to rounding
error. The estimators are scikit-learn estimators (``get_params``/``set_params``,
:func:`sklearn.base.clone`, ``GridSearchCV``) and take what a scikit-learn user
passes: ``sample_weight`` (a point of weight ``w`` counts as ``w`` copies of it:
weighted means, weighted inertia, weighted k-means++), ``n_init="auto"``,
``verbose``, ``algorithm="lloyd"`` or ``"elkan"`` (:func:`_elkan`, the same
iterations with fewer distances). Sparse input is refused with a TypeError: the
data are centred on their mean, which would make them dense.

Randomness. ``random_state`` is None, an int or a ``numpy.random.RandomState``,
turned into a RandomState by :func:`sklearn.utils.check_random_state`; every draw
(k-means++, ``init="random"``) is made from it in scikit-learn's order. No numpy
Generator is involved.

Numerics. Squared distances are computed with BLAS as
``||x||^2 - 2 x.c + ||c||^2`` on data centred on its mean (which keeps that
expansion accurate), in chunks of rows so memory stays bounded for large ``n``.
An empty cluster is re-seeded deterministically with the point farthest from its
own center (as scikit-learn does). ``float32`` and ``float64`` data keep their
precision (integer data become ``float64``); sums of squares are accumulated in
``float64``. With ``device=`` (``"cpu"``, ``"cuda"``, ...) the same kernels run
on torch tensors.

Where to read what (modules of this package):

- :mod:`~gmmlab.kmeans.lloyd`: the assignment kernels, :func:`lloyd_step` and Lloyd's
  loop (``_iterate``, shared by every engine, and ``_lloyd``), for numpy arrays and
  torch tensors alike (``device=``);
- :mod:`~gmmlab.kmeans.elkan`: Elkan's triangle-inequality pruning (``_elkan``);
- :mod:`~gmmlab.kmeans.seeding`: :func:`kmeans_plusplus` (and ``_kmeans_plusplus``,
  shown in ``book/*/02_kmeans``), :func:`class_means`, the initial centers of a run;
- :mod:`~gmmlab.kmeans.estimator`: :class:`KMeans`;
- :mod:`~gmmlab.kmeans.missing`: :class:`MissingDataKMeans` and the kernels of its
  ``distance="submitted"`` rule.

Every public name is importable from ``gmmlab.kmeans`` itself.
"""

from .estimator import KMeans
from .lloyd import CHUNK_SIZE, TORCH_CHUNK_SIZE, lloyd_step  # noqa: F401
from .missing import MissingDataKMeans
from .seeding import class_means, kmeans_plusplus

__all__ = ["KMeans", "MissingDataKMeans", "kmeans_plusplus", "class_means", "lloyd_step"]
