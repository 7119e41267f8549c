"""PyTorch's legacy tensor types: ``minigrad.FloatTensor(2, 3)``, ``LongTensor([1, 2])``,
``isinstance(t, minigrad.FloatTensor)``, and the type strings of ``Tensor.type()``
(``'torch.FloatTensor'``, ``'torch.cuda.LongTensor'``: PyTorch's spelling, since programs
compare against it), plus the layout/backend predicates that are always False for
minigrad's tensors (``is_sparse``, ``is_quantized``, ``is_meta``, ``is_xpu``, ``is_mps``).

A legacy type is a class (of the metaclass ``LegacyTensorType``) holding one dtype: calling
it builds a CPU tensor of that dtype, from sizes (uninitialized) or from data, and
``isinstance`` asks whether a tensor has that dtype and lives on the CPU, as in PyTorch.
"""
import numbers

from . import dtypes
from .creation import empty, tensor
from .device import as_device
from .ops.conversion import to_device_and_dtype
from .tensor import Size, Tensor

# dtype -> PyTorch's legacy type name
TYPE_NAMES = {dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor",
              dtypes.float16: "HalfTensor", dtypes.bfloat16: "BFloat16Tensor",
              dtypes.int64: "LongTensor", dtypes.int32: "IntTensor",
              dtypes.int16: "ShortTensor", dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor",
              dtypes.bool_: "BoolTensor"}


class LegacyTensorType(type):
    """The metaclass of ``FloatTensor`` and its kin (each with a ``dtype`` attribute)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'minigrad.{cls.__name__}'>"

    def __call__(cls, *args, device=None):
        """``T()`` empty, ``T(2, 3)`` / ``T(Size)`` uninitialized of that size, ``T(data)`` a
        copy of a sequence, ``T(tensor)`` the tensor itself (its dtype must be T's)."""
        if device is not None and as_device(device).type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{as_device(device).type} was passed")
        if not args:
            return empty(0, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                raise TypeError(f"expected {cls.__name__} of dtype {cls.dtype} (got a tensor of "
                                f"dtype {args[0].dtype})")
            return args[0]
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args) or (
                len(args) == 1 and isinstance(args[0], Size)):
            return empty(*args, dtype=cls.dtype)
        if len(args) == 1 and not isinstance(args[0], (numbers.Number, str)):
            return tensor(args[0], dtype=cls.dtype)
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")


def _legacy(dtype):
    return LegacyTensorType(TYPE_NAMES[dtype], (), {"dtype": dtype, "__module__": "minigrad"})


FloatTensor = _legacy(dtypes.float32)
DoubleTensor = _legacy(dtypes.float64)
HalfTensor = _legacy(dtypes.float16)
BFloat16Tensor = _legacy(dtypes.bfloat16)
LongTensor = _legacy(dtypes.int64)
IntTensor = _legacy(dtypes.int32)
ShortTensor = _legacy(dtypes.int16)
CharTensor = _legacy(dtypes.int8)
ByteTensor = _legacy(dtypes.uint8)
BoolTensor = _legacy(dtypes.bool_)
_BY_NAME = {cls.__name__: cls for cls in (FloatTensor, DoubleTensor, HalfTensor,
                                          BFloat16Tensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
                                          BoolTensor)}


def type_name(t):
    """``'torch.FloatTensor'`` (``'torch.cuda.FloatTensor'`` on a GPU) for a float32 tensor."""
    where = "torch.cuda." if t.device.type == "cuda" else "torch."
    return where + TYPE_NAMES[t.dtype]


def tensor_type(self, dtype=None, non_blocking=False):
    """``Tensor.type``: without ``dtype`` the type string (``'torch.FloatTensor'``); with a
    dtype, a legacy type or a type string, this tensor converted (itself if unchanged)."""
    if dtype is None:
        return type_name(self)
    device = None
    if isinstance(dtype, str):
        prefix, _, name = dtype.rpartition(".")
        if name not in _BY_NAME or prefix not in ("torch", "torch.cuda", "minigrad",
                                                  "minigrad.cuda"):
            raise ValueError(f"invalid type: '{dtype}'")
        device = "cuda" if prefix.endswith("cuda") else "cpu"
        dtype = _BY_NAME[name].dtype
    elif isinstance(dtype, LegacyTensorType):
        device, dtype = "cpu", dtype.dtype
    return to_device_and_dtype(self, device, dtype)


def always_false(self) -> bool:
    """``is_sparse``, ``is_quantized``, ``is_meta``, ``is_xpu``, ``is_mps``: minigrad's
    tensors are dense, unquantized, hold data, and live on the CPU or a CUDA GPU."""
    return False


__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]
