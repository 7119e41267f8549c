"""SHIM -- NOT torchvision. A stand-in for torchvision's data loading, used by
``minigrad_benchmarks.programs`` so that real PyTorch example programs run unchanged
(torchvision is not installed here, and its downloads cannot be reached).

It is written against the ``torch`` API, so it gives minigrad tensors when ``torch`` is
aliased to minigrad and PyTorch tensors when it is not: both backends see identical data.

* ``datasets.MNIST`` / ``FashionMNIST``: the data of ``minigrad.datasets`` (fetched through
  the package registry), with torchvision's interface (``data`` uint8 and ``targets`` int64
  tensors; ``ds[i]`` gives the image as a uint8 ``(H, W)`` numpy array -- where
  torchvision gives a PIL image -- through ``transform``).
* ``datasets.FakeData``: random uint8 images, seeded per index.
* ``transforms``: ``Compose``, ``ToTensor``, ``Normalize``, ``Lambda`` only (minigrad has no
  transforms module).
* ``utils.save_image``: writes an image grid as PNG.
* ``models.resnet18`` & co.: torchvision's OWN ``models/resnet.py`` (taken from the
  torchvision wheel into the git-ignored ``_fetched/`` by ``run.py --prepare``), executed
  under the alias with small stand-ins for its weight-registry helpers.
"""
import importlib

from . import datasets, transforms, utils

__version__ = "0.0-minigrad-shim"


def __getattr__(name):
    if name == "models":
        # resnet.py is only needed by programs that ask for models
        return importlib.import_module(__name__ + ".models")
    raise AttributeError(f"module 'torchvision' (minigrad shim) has no attribute {name!r}")
