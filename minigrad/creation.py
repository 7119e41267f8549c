"""Tensor creation: ``tensor``, ``from_numpy``, ``zeros/ones/empty/full`` and their ``_like``
forms, ``arange``, ``linspace``, ``eye``, and the seeded random constructors.

Rules (PyTorch's): Python floats become the default float dtype (float32), Python ints
int64, bools bool; numpy arrays keep their dtype; ``requires_grad=True`` on an integer
dtype raises. Random numbers come from ``random.py``'s generators (``generator=``, or the global one
that ``manual_seed`` resets).
"""
import builtins
import math
import numbers

import numpy as np

from . import dtypes
from .device import as_device, move_array
from . import random
from .random import manual_seed, get_rng_state, set_rng_state  # noqa: F401
from .tensor import Tensor, to_array  # noqa: F401  (to_array is part of creation's API)

def default_generator():
    """The numpy Generator behind ``minigrad.default_generator`` (reseeded in place by
    ``manual_seed``), for code that draws with numpy's API directly."""
    return random.default_generator._numpy


def _finish(array, requires_grad):
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data``."""
    array = to_array(data, dtype, device)
    source = data.array if isinstance(data, Tensor) else data
    if array is source:
        array = array.copy()
    return _finish(array, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a numpy array or tensor when it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return _finish(to_array(data, dtype, device), False)


def from_numpy(array):
    """A tensor sharing memory with a numpy array (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return _finish(to_array(array), False)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for position, s in enumerate(size):
        if isinstance(s, Tensor) and s.ndim == 0 and s.dtype.kind in "iub":
            s = s.item()
        if not isinstance(s, numbers.Integral):
            raise TypeError(f"argument 'size' must be a tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {position}: {tuple(size)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
    return tuple(builtins.int(s) for s in size)


def _make(fill, size, dtype, device, requires_grad, default=None):
    dtype = dtypes.as_dtype(dtype) or default or dtypes.get_default_dtype()
    xp = as_device(device).xp
    return _finish(fill(xp, _size(size), dtype), requires_grad)


def _sizes(op, args, size):
    """The size given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=``."""
    if size is None:
        return args
    if args:
        raise TypeError(f"{op}() got multiple values for argument 'size'")
    return (size,)


def zeros(*args, size=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, d: xp.zeros(s, dtype=d), _sizes("zeros", args, size), dtype,
                 device, requires_grad)


def ones(*args, size=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, d: xp.ones(s, dtype=d), _sizes("ones", args, size), dtype,
                 device, requires_grad)


def empty(*args, size=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, d: xp.empty(s, dtype=d), _sizes("empty", args, size), dtype,
                 device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if isinstance(fill_value, np.generic):  # a numpy scalar fills like the Python number
        fill_value = fill_value.item()
    default = dtypes.scalar_dtype(fill_value) if isinstance(fill_value, (numbers.Number, np.bool_)) else None
    def fill(xp, shape, dtype):
        dtypes.check_representable(fill_value, dtype)
        return xp.full(shape, dtypes.cast_scalar(fill_value, dtype), dtype=dtype)
    return _make(fill, (tuple(size),), dtype, device, requires_grad, default)


def _like(fn, input, dtype, device, requires_grad, *args):
    return fn(*args, input.shape, dtype=dtype or input.dtype, device=device or input.device,
              requires_grad=requires_grad) if args else fn(
        input.shape, dtype=dtype or input.dtype, device=device or input.device,
        requires_grad=requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


# ``Tensor.new_*``: creation with the tensor's dtype and device as defaults (never its graph).
def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad=False):
    return zeros(*args, size=size, dtype=dtype or self.dtype, device=device or self.device,
                 requires_grad=requires_grad)


def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad=False):
    return ones(*args, size=size, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def new_empty(self, *args, size=None, dtype=None, device=None, requires_grad=False):
    return empty(*args, size=size, dtype=dtype or self.dtype, device=device or self.device,
                 requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` (no graph) with this tensor's dtype and device unless given."""
    if isinstance(data, Tensor):
        data = data.detach()
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _random(sample, size, dtype, device, requires_grad, generator=None):
    """Draw on the host from the seeded generator so cpu and cuda runs match bit-for-bit."""
    dtype = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    if not dtypes.is_floating(dtype):
        raise RuntimeError(f"random floating-point sampling is not implemented for dtype {dtype}")
    array = sample(random.numpy_generator(generator), _size(size)).astype(dtype)
    return _finish(move_array(array, as_device(device)), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples."""
    return _random(lambda g, s: g.standard_normal(s), size, dtype, device, requires_grad, generator)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform samples on [0, 1)."""
    return _random(lambda g, s: g.random(s), size, dtype, device, requires_grad, generator)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randint(low=None, high=None, size=None, dtype=None, device=None, generator=None,
            requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` and
    ``randint(high=, size=)`` (low 0) as in PyTorch."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        high, size = None, high
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high is None:
        if low is None:
            raise TypeError("randint() missing required argument 'high'")
        low, high = 0, low
    elif low is None:
        low = 0
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = dtypes.as_dtype(dtype) or dtypes.int64
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if low < info.min or high - 1 > info.max:
            raise RuntimeError(f"randint: [{low}, {high}) is out of bounds for {dtype}")
    array = random.numpy_generator(generator).integers(low, high, size=_size((tuple(size),)))
    array = array.astype(dtype)
    return _finish(move_array(array, as_device(device)), requires_grad)


def randperm(n, dtype=None, device=None, generator=None):
    array = random.numpy_generator(generator).permutation(n).astype(dtypes.as_dtype(dtype) or dtypes.int64)
    return _finish(move_array(array, as_device(device)), False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """[start, end) by step; int64 when all bounds are ints, else the default float."""
    if end is None:
        start, end = 0, start
    bounds = [b.item() if isinstance(b, Tensor) else b for b in (start, end, step)]
    if not all(math.isfinite(b) for b in bounds):
        raise RuntimeError(f"unsupported range: {bounds[0]} -> {bounds[1]} (step {bounds[2]})")
    if bounds[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (bounds[1] - bounds[0]) * bounds[2] < 0:
        raise RuntimeError(f"upper bound and lower bound inconsistent with step sign "
                           f"(start={bounds[0]}, end={bounds[1]}, step={bounds[2]})")
    integral = all(isinstance(b, numbers.Integral) for b in bounds)
    default = dtypes.int64 if integral else dtypes.get_default_dtype()
    dtype = dtypes.as_dtype(dtype) or default
    xp = as_device(device).xp
    # Count in float64 like PyTorch, then cast, so float32 ranges have PyTorch's length.
    array = xp.arange(*bounds, dtype=np.float64 if not integral else None).astype(dtype)
    return _finish(array, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values from start to end, by PyTorch's scalar kernel: step = (end − start) /
    (steps − 1) in float64 for float64 outputs and for integer outputs (whose start and end
    are first truncated to integers), in float32 otherwise; the first half counted up from
    start, the second down from end, then cast (integers truncate). bool raises. (PyTorch's
    vectorized CPU path rounds some values differently, by one unit in the last place, or
    by one for integer outputs, depending on the CPU's vector width.)"""
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    if dtype == dtypes.bool_:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    if dtype.kind in "iu":
        start, end, compute = builtins.int(start), builtins.int(end), np.dtype(np.float64)
    else:
        compute = np.dtype(np.float64) if dtype == dtypes.float64 else np.dtype(np.float32)
    xp = as_device(device).xp
    first, last = compute.type(start), compute.type(end)
    index = xp.arange(steps, dtype=compute)
    step = (last - first) / compute.type(max(steps - 1, 1))
    values = xp.where(index < steps // 2, first + step * index,
                      last - step * (compute.type(steps - 1) - index))
    if steps == 1:
        values = xp.full(1, first)
    return _finish(values.astype(dtype), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    for size in (n, m):
        if size is not None and size < 0:
            raise RuntimeError(f"n and m must be greater or equal to 0, got n={n}, m={m}")
    dtype = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    xp = as_device(device).xp
    return _finish(xp.eye(n, n if m is None else m, dtype=dtype), requires_grad)


def is_tensor(obj):
    return isinstance(obj, Tensor)
