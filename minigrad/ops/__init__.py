"""The op catalogue, one family per module. Importing this package attaches every op's
method to Tensor; the functional forms are re-exported by ``minigrad``."""
import importlib

from .broadcast import sum_to, broadcast_to, expand, broadcast_tensors
from .conversion import clone, contiguous
from .arithmetic import (add, sub, mul, div, neg, pow, eq, ne, lt, le, gt, ge, logical_and,
                         logical_or, logical_not, bitwise_not)
from .shape import (reshape, view, flatten, unflatten, squeeze, unsqueeze, permute, transpose,
                    swapaxes, movedim, t)
from .linalg import matmul, mm, bmm

# Each family module lists its public functions in __all__ (convolution and pooling are
# reached through nn.functional, as in PyTorch).
_FAMILIES = ("pointwise", "reduction", "softmax", "indexing", "masking", "joining", "inplace",
             "convolution", "pooling", "sampling")
for _name in _FAMILIES:
    _module = importlib.import_module(f".{_name}", __name__)
    globals().update({n: getattr(_module, n) for n in _module.__all__})

__all__ = [n for n in dir() if not n.startswith("_") and n != "importlib"]
