"""Questions about dtypes and tensors that PyTorch answers at the top level: ``finfo`` and
``iinfo`` (the limits of a dtype), ``promote_types`` / ``result_type`` / ``can_cast``
(PyTorch's promotion, see ``dtypes.py``), ``is_floating_point``, ``is_nonzero``, ``numel``,
and the float32 matmul precision setting (recorded; minigrad's CPU matmul is always full
float32)."""
import ml_dtypes
import numpy as np

from . import dtypes
from .ops.operands import result_dtype
from .tensor import Tensor

# ``torch.dtype``: minigrad's dtypes are numpy dtypes, so isinstance(x, minigrad.dtype) works.
dtype = np.dtype


class finfo:
    """The limits of a floating dtype (default: the default dtype), PyTorch's fields."""

    def __init__(self, type=None):
        dt = dtypes.as_dtype(type) if type is not None else dtypes.get_default_dtype()
        if dt.kind not in "fV":
            raise TypeError("minigrad.finfo() requires a floating point input type. Use "
                            "minigrad.iinfo to handle 'minigrad.finfo'")
        info = ml_dtypes.finfo(dt) if dt == dtypes.bfloat16 else np.finfo(dt)
        self.bits, self.dtype = info.bits, str(dt)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision       # PyTorch: exactly 10^-digits

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer (or bool) dtype, PyTorch's fields."""

    def __init__(self, type):
        dt = dtypes.as_dtype(type)
        if dt.kind not in "iub":
            raise TypeError("minigrad.iinfo() requires an integer input type. Use "
                            "minigrad.finfo to handle 'minigrad.iinfo'")
        info = np.iinfo(np.uint8 if dt.kind == "b" else dt)
        self.bits, self.dtype = info.bits, str(dt)
        self.max, self.min = (1, 0) if dt.kind == "b" else (int(info.max), int(info.min))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1, type2):
    """The smallest dtype both promote to (PyTorch's table, not numpy's)."""
    return dtypes.promote_types(dtypes.as_dtype(type1), dtypes.as_dtype(type2))


def result_type(tensor1, tensor2):
    """The dtype ``tensor1 op tensor2`` would have (tensors or Python numbers)."""
    return result_dtype(tensor1, tensor2)


def can_cast(from_, to):
    """Whether a cast keeps the category (bool < integer < floating) from falling:
    ``can_cast(float32, int32)`` is False, ``can_cast(int64, uint8)`` True."""
    return dtypes.category(dtypes.as_dtype(from_)) <= dtypes.category(dtypes.as_dtype(to))


def is_floating_point(input):
    _check(input, "is_floating_point")
    return input.dtype.kind in "fV"


def is_nonzero(input):
    """The truth of a one-element tensor; RuntimeError for any other size, as in PyTorch."""
    _check(input, "is_nonzero")
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def numel(input):
    _check(input, "numel")
    return input.numel()


_MATMUL_PRECISION = {"value": "highest"}


def set_float32_matmul_precision(precision):
    """Recorded for ``get_float32_matmul_precision`` ('highest', 'high' or 'medium');
    minigrad never lowers float32 matmul precision."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision '{precision}': expected 'highest', 'high' or "
                           "'medium'")
    _MATMUL_PRECISION["value"] = precision


def get_float32_matmul_precision():
    return _MATMUL_PRECISION["value"]


def _check(value, op):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(value).__name__}")
