"""``nn.modules.batchnorm`` (PyTorch's path to BatchNorm, defined in
``nn/modules/normalization.py``)."""
from .normalization import BatchNorm1d, BatchNorm2d

__all__ = ["BatchNorm1d", "BatchNorm2d"]
