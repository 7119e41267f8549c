"""Checking the operands of ops and turning those of an n-ary op into Tensors of one dtype
on one device.

``check_tensor`` raises PyTorch's TypeError for an argument that must be a Tensor, and
``int_pair`` reads an int-or-pair argument (kernel_size, stride, padding, dilation) with
PyTorch's checks; ops and ``nn`` share both.

Every op that takes two or more values calls ``promote`` first. It applies PyTorch's
promotion (see ``minigrad.dtypes.result_type``): dimensioned tensors outrank 0-d tensors,
which outrank Python/numpy scalars, and a lower rank only lifts the *category*. Tensors of
another dtype are cast with the differentiable ``to`` (so their gradient comes back in
their own dtype); scalars become 0-d constant tensors.
"""
import functools
import inspect
import numbers

import numpy as np

from .. import dtypes
from ..tensor import Tensor, VersionCounter


def _kind(value):
    if isinstance(value, Tensor):
        return "dim" if value.ndim else "zerodim"
    if isinstance(value, (numbers.Number, np.bool_, np.number)):
        return "scalar"
    raise TypeError(f"unsupported operand type {type(value).__name__}; expected a Tensor or a number")


def check_tensor(value, op, arg="input"):
    """Raise PyTorch's ``{op}(): argument '{arg}' must be Tensor, not {type}`` unless ``value``
    is a Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(value).__name__}")


def check_floating(value, op):
    """PyTorch's refusal of an integer or bool input to an op whose kernel exists only for
    floating dtypes: ``NotImplementedError: "{op}" not implemented for 'int64'``."""
    if value.dtype.kind not in "fcV":
        raise NotImplementedError(f'"{op}" not implemented for \'{value.dtype}\': pass a '
                                  "floating point tensor")


def int_pair(value, name, op, invalid):
    """``value`` (an int, or a tuple/list of one or two ints) as a pair of Python ints, like
    PyTorch's ``_pair`` with the checks its C++ ops apply (a bool is not an int here).
    Anything else raises ``RuntimeError(invalid.format(op=op, name=name, value=value,
    listed=value as a list))``: ``invalid`` is the calling op's PyTorch message."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(
            isinstance(v, numbers.Integral) for v in value):
        return (int(value[0]), int(value[-1]))
    listed = list(value) if isinstance(value, (tuple, list)) else value
    raise RuntimeError(invalid.format(op=op, name=name, value=value, listed=listed))


def common_device(tensors):
    """The device an op on ``tensors`` runs on: the first one off the CPU, else the CPU
    (PyTorch's TensorIterator rule)."""
    for t in tensors:
        if t.device.type != "cpu":
            return t.device
    return tensors[0].device


def check_same_device(tensors, op="op", allow_cpu_scalars=False):
    """PyTorch's refusal of tensors on two devices, word for word: ``Expected all tensors to
    be on the same device, but found at least two devices, cuda:0 and cpu!`` (the device
    the op runs on first). With ``allow_cpu_scalars`` a 0-d CPU tensor may join tensors on
    a GPU, as in PyTorch's pointwise ops (the caller moves it). ``op`` is kept for callers;
    PyTorch's message does not name the op."""
    if len(tensors) < 2:
        return
    device = common_device(tensors)
    for t in tensors:
        other = t.device
        if other != device and not (allow_cpu_scalars and other.type == "cpu" and t.ndim == 0):
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {device} and {other}!")


def result_dtype(*values):
    operands = []
    for v in values:
        kind = _kind(v)
        operands.append((v.dtype if isinstance(v, Tensor) else dtypes.scalar_dtype(v), kind))
    return dtypes.result_type(*operands)


# The version counter of the operand tensors ``promote`` wraps Python numbers in: they never
# reach the user, so nothing writes them, and one shared counter spares an object per op.
_NEVER_WRITTEN = VersionCounter()


def promote(*values, op="op", dtype=None):
    if dtype is None and len(values) == 2:
        a, b = values
        # Fast paths for the common cases: two tensors of one dtype and array type, or a
        # float tensor with a Python number (which never changes a float dtype).
        if isinstance(a, Tensor):
            if isinstance(b, Tensor):
                if a.array.dtype == b.array.dtype and type(a.array) is type(b.array) is np.ndarray:
                    return a, b
            elif type(b) in (float, int) and a.array.dtype.kind in "fV":
                return a, Tensor._wrap(np.asarray(b, dtype=a.array.dtype) if type(a.array) is np.ndarray
                                       else a.xp.asarray(b, dtype=a.array.dtype), False, _NEVER_WRITTEN)
        elif type(a) in (float, int) and isinstance(b, Tensor) and b.array.dtype.kind in "fV":
            return Tensor._wrap(np.asarray(a, dtype=b.array.dtype) if type(b.array) is np.ndarray
                                else b.xp.asarray(a, dtype=b.array.dtype), False, _NEVER_WRITTEN), b
    return _promote_general(values, op, dtype)


def _promote_general(values, op, dtype):
    """Return the values as Tensors sharing one dtype (``dtype`` if given) and device.
    numpy arrays count as tensors of their own dtype, as ``torch.as_tensor`` would make them."""
    values = [Tensor._wrap(v) if isinstance(v, np.ndarray) and v.ndim else
              v[()] if isinstance(v, np.ndarray) else v for v in values]
    tensors = [v for v in values if isinstance(v, Tensor)]
    device = None
    if len(tensors) > 1:
        check_same_device(tensors, op, allow_cpu_scalars=True)
        device = common_device(tensors)
    target = dtype if dtype is not None else result_dtype(*values)
    xp = device.xp if device is not None else tensors[0].xp if tensors else np
    out = []
    for v in values:
        if isinstance(v, Tensor):
            if device is not None and v.device != device:      # a 0-d CPU tensor joins a GPU op
                v = v.to(device)
            out.append(v if v.dtype == target else v.to(target))
        else:
            if target.kind in "iu" and isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                v = dtypes.cast_scalar(int(v), target)  # wraps like PyTorch: uint8 + 300 is 44+x
            out.append(Tensor._wrap(xp.asarray(v, dtype=target)))
    return out


def sizes_argument(args, keyword, op, name):
    """The sizes/dims of a ``*args`` op that PyTorch also accepts by keyword
    (``x.reshape(shape=(6,))``, ``x.permute(dims=(1, 0))``): ``args`` unless the keyword was
    given, in which case it is returned as a one-element tuple holding it."""
    if keyword is None:
        return args
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    return (tuple(keyword),) if isinstance(keyword, (tuple, list)) else (keyword,)


def broadcast_shapes(*shapes):
    """The broadcast shape, or RuntimeError naming both shapes like PyTorch."""
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        a, b = shapes[0], shapes[1] if len(shapes) > 1 else ()
        raise RuntimeError(f"The size of tensor a {tuple(a)} must match the size of tensor b "
                           f"{tuple(b)} (shapes {', '.join(str(tuple(s)) for s in shapes)} "
                           f"are not broadcastable)") from None


# PyTorch's functions written in Python take only ``dim`` (``torch.split``, ``torch.norm``).
_DIM_ONLY = frozenset({"split", "norm"})


def accept_numpy_names(function):
    """``function`` also accepting numpy's keyword names ``axis=`` for ``dim=`` and
    ``keepdims=`` for ``keepdim=``, as PyTorch's argument parser does for every native op
    (``torch.sum(x, axis=0, keepdims=True)``, ``t.max(axis=1)``); ``function`` itself when it
    has neither parameter or PyTorch does not alias it. Applied once to the public surface:
    ``minigrad``'s functions (``ops/__init__.py``) and Tensor's methods (the table)."""
    return _aliased(function) if callable(function) else function


@functools.cache  # one wrapper per function: mg.sum and Tensor.sum are the same object
def _aliased(function):
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return function
    if function.__name__ in _DIM_ONLY or ("dim" not in parameters and "keepdim" not in parameters):
        return function

    @functools.wraps(function)
    def aliased(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            for numpy_name, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if numpy_name in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{function.__name__}() got multiple values for argument "
                                        f"'{name}' (as '{numpy_name}')")
                    kwargs[name] = kwargs.pop(numpy_name)
        return function(*args, **kwargs)
    return aliased
