"""gmmlab: the library behind the gmmlab course book.

Clustering (K-means), Gaussian mixtures fitted by EM, the variational view of EM
(ELBO and KL), and density-based out-of-distribution detection on MNIST.
Every chapter of the book (``book/fr`` and ``book/pt``) imports it.
"""

__version__ = "0.1.0"
