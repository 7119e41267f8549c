"""dtypes and PyTorch's type-promotion rules.

minigrad's dtypes *are* numpy dtypes (``mg.float32 is np.dtype('float32')``), so arrays and
tensors agree on them without translation. What differs from numpy is promotion:
PyTorch (and therefore minigrad) ranks operands into three groups,

    dimensioned tensors  >  zero-dim tensors  >  Python / numpy scalars,

and a lower group only changes the result when it belongs to a higher *category*
(bool < integer < floating). So ``float32_tensor * np.float64(2.0)`` stays float32 and
``int64_tensor * 2.5`` becomes the default float dtype (float32), where NumPy 2 would give
float64 in both cases.

bfloat16 is ml_dtypes' numpy extension type. Its numpy ``kind`` is ``'V'`` (not ``'f'``),
so code that asks whether a dtype is floating tests ``dtype.kind in "fV"`` (or calls
``is_floating``): every dtype minigrad accepts with kind ``'V'`` is bfloat16.
"""
import builtins

import ml_dtypes
import numpy as np

float16 = np.dtype("float16")
bfloat16 = np.dtype(ml_dtypes.bfloat16)
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_default_float = float32
_SUPPORTED = {float16, bfloat16, float32, float64, int8, uint8, int16, int32, int64, bool_}


def check_representable(values, dtype):
    """PyTorch's checked conversion of Python numbers into an integer ``dtype``: a value that
    the dtype cannot hold (out of range, inf, NaN) raises instead of wrapping around. Unsigned
    types accept ``-max..max`` (``-1`` becomes 255 in uint8), as ``c10::overflows`` does.
    ``values`` is the numpy array (or scalar) numpy inferred from the Python data."""
    if dtype.kind not in "iu":
        return
    values = np.asarray(values)
    if values.size == 0 or values.dtype.kind not in "iuf":
        return
    info = np.iinfo(dtype)
    low = -builtins.int(info.max) if dtype.kind == "u" else builtins.int(info.min)
    if values.dtype.kind in "fV":  # floats: only the dtype's own range (-1.0 is no uint8)
        with np.errstate(invalid="ignore"):
            bad = not (np.isfinite(values).all() and values.min() >= builtins.int(info.min)
                       and values.max() <= info.max)
    else:
        bad = builtins.int(values.min()) < low or builtins.int(values.max()) > info.max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")


def cast_scalar(value, dtype):
    """A checked Python number as a numpy scalar of ``dtype`` (``-3`` is 253 in uint8, which
    numpy 2 refuses to do implicitly); other values (0-d arrays) pass through."""
    if isinstance(value, (builtins.int, builtins.float, builtins.bool)):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(value).astype(dtype)[()]
    return value


def get_default_dtype():
    """The dtype Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype):
    global _default_float
    dtype = as_dtype(dtype)
    if not is_floating(dtype):
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype}")
    _default_float = dtype


def as_dtype(dtype):
    """Normalise anything dtype-like (np.float32, 'float32', mg.float32, Python float) to a
    supported numpy dtype; raise TypeError otherwise."""
    if dtype is None:
        return None
    # Python's own types mean what PyTorch makes of them.
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"cannot interpret {dtype!r} as a minigrad dtype") from e
    if dt not in _SUPPORTED:
        raise TypeError(f"unsupported dtype {dt}; minigrad supports "
                        f"{sorted(str(d) for d in _SUPPORTED)}")
    return dt


FLOAT_KINDS = "fV"   # numpy kinds of minigrad's floating dtypes ('V': bfloat16)
LOW_PRECISION = (float16, bfloat16)


def is_floating(dtype):
    return np.dtype(dtype).kind in "fV"


def is_integer(dtype):
    return np.dtype(dtype).kind in "iu"


def category(dtype):
    """0 for bool, 1 for integers, 2 for floating point."""
    kind = np.dtype(dtype).kind
    return 0 if kind == "b" else 1 if kind in "iu" else 2   # f, and V (bfloat16)


def scalar_dtype(value):
    """The dtype a Python or numpy scalar would have as a tensor of its own."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, ml_dtypes.bfloat16):
        return bfloat16
    if isinstance(value, (np.integer, np.floating)):
        return np.dtype(value.dtype) if np.dtype(value.dtype) in _SUPPORTED else as_dtype(
            int64 if isinstance(value, np.integer) else float64)
    if isinstance(value, builtins.int):
        return int64
    if isinstance(value, builtins.float):
        return _default_float
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def promote_types(a, b):
    """PyTorch's ``promote_types``: within a category numpy's lattice (int32 ∨ int64 =
    int64, float16 ∨ float32 = float32), across categories the higher category's dtype
    (float32 ∨ int64 = float32, where numpy would widen to float64). bfloat16 ∨ float16 =
    float32, as in PyTorch (neither holds the other)."""
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


_CATEGORY_DEFAULT = {0: bool_, 1: int64}


def result_type(*operands):
    """PyTorch's promotion over operands given as ``(dtype, kind)`` pairs, where kind is
    'dim' (a tensor with ndim > 0), 'zerodim' (a 0-d tensor) or 'scalar' (Python/numpy
    number). Returns the numpy dtype of the result."""
    groups = {"dim": None, "zerodim": None, "scalar": None}
    for dtype, kind in operands:
        current = groups[kind]
        groups[kind] = dtype if current is None else promote_types(current, dtype)
    result = None
    for kind in ("dim", "zerodim", "scalar"):
        dtype = groups[kind]
        if dtype is None:
            continue
        if result is None:
            result = _default_float if (kind == "scalar" and is_floating(dtype)) else dtype
        elif category(dtype) > category(result):
            # A lower-priority operand of a higher category decides the category only;
            # scalars bring the category's default dtype, 0-d tensors their own dtype.
            result = dtype if kind == "zerodim" else (
                _default_float if category(dtype) == 2 else _CATEGORY_DEFAULT[category(dtype)])
    return np.dtype(result)


# How PyTorch names dtypes in its error messages: scalar-type names ("Long", "Float") and
# C type names ("long", "float"). Messages that quote PyTorch's wording use these.
_SCALAR_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                      "int32": "Int", "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                      "float64": "Double"}
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "Half", "bfloat16": "BFloat16", "int64": "long",
                 "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char",
                 "bool": "bool"}


def scalar_type_name(dtype):
    """PyTorch's ScalarType name of a dtype, e.g. 'Long' for int64."""
    return _SCALAR_TYPE_NAMES.get(str(dtype), str(dtype))


def c_type_name(dtype):
    """PyTorch's C type name of a dtype, e.g. 'long' for int64."""
    return _C_TYPE_NAMES.get(str(dtype), str(dtype))
