"""The op catalogue, one family per module. Importing this package attaches every op's
method to Tensor; the functional forms are re-exported by ``minigrad``."""
import importlib
from types import ModuleType as _ModuleType

from .operands import accept_numpy_names as _accept_numpy_names

from .broadcast import sum_to, broadcast_to, expand, broadcast_tensors
from .conversion import clone, contiguous
from .arithmetic import (add, sub, mul, div, neg, pow, eq, ne, lt, le, gt, ge, logical_and,
                         logical_or, logical_xor, logical_not, bitwise_not, bitwise_and,
                         bitwise_or, bitwise_xor, true_divide)
from .shape import (reshape, view, flatten, unflatten, squeeze, unsqueeze, permute, transpose,
                    swapaxes, swapdims, movedim, moveaxis, ravel, t)
from .linalg import matmul, mm, bmm, dot, outer

# Each family module lists its public functions in __all__ (convolution and pooling are
# reached through nn.functional, as in PyTorch).
_FAMILIES = ("pointwise", "pointwise_inverse", "pointwise_binary", "reduction", "statistics",
             "norms", "logic", "einsum", "softmax", "indexing", "masking", "joining", "inplace",
             "convolution", "pooling", "rearrange", "sorting", "cumulative", "scatter", "sparse",
             "sampling", "inplace_forms")
for _name in _FAMILIES:
    _module = importlib.import_module(f".{_name}", __name__)
    globals().update({n: getattr(_module, n) for n in _module.__all__})

# (``minigrad.sparse`` is the torch.sparse namespace, not the family module ``sparse``)
# The functions only: the family modules themselves are not re-exported (``minigrad.linalg``
# is the torch.linalg namespace, not ``minigrad.ops.linalg``).
__all__ = [n for n, v in globals().items()
           if not n.startswith("_") and not isinstance(v, _ModuleType)]
# PyTorch's numpy-style keywords (axis=, keepdims=) on the public functions.
globals().update({n: _accept_numpy_names(globals()[n]) for n in __all__})
