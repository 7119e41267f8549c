"""A strict numpy-backed stand-in for CuPy, for tests only (``MINIGRAD_FAKE_CUDA=1``).

``tests/conftest.py`` puts ``tests/fake_cuda`` first on ``sys.path`` when that variable is
set and the real CuPy does not import, so ``import cupy`` finds this package,
``minigrad.cuda_is_available()`` is True and every ``[cuda]`` variant of the suite runs on
the CPU.  It exists to make minigrad's CUDA path *fail loudly* where it relies on numpy.

What it mimics (where CuPy differs from numpy):

* ``cupy.ndarray`` is its own type (a wrapper around a numpy array, not a subclass) whose
  module name starts with ``cupy``, so ``get_array_module``/dispatch see a device array;
* no floating-point warnings: every computation runs under ``np.errstate(all="ignore")``
  whatever the caller's ``errstate`` (CuPy computes IEEE results silently);
* implicit conversion to numpy raises CuPy's ``TypeError`` (``np.asarray(x)``,
  ``__array__``, a numpy function or ufunc handed one, ``numpy_array[...] = x``); ``.get()``
  and ``cupy.asnumpy`` are the only ways to the host;
* mixing a device array with a numpy array of ndim > 0 in a ufunc, operator or array
  function raises ``TypeError`` (numpy scalars and 0-d numpy arrays are accepted, as by
  CuPy); ``cupy.asarray``/``cupy.array`` copy host data in (never a view of it);
* reductions and ``x[i]`` give 0-d device arrays, never numpy scalars;
* ``flags`` has ``c_contiguous``, ``f_contiguous``, ``owndata`` and *no* ``writeable``:
  ``broadcast_to`` returns a writable view with zero strides (a write lands on every
  element that shares the location, as on a GPU), and there is no ``errstate``/``seterr``;
* ``.device.id``, ``__cuda_array_interface__`` (the pointer is a host address: never
  hand it to a real kernel), ``cupy.cuda.Device``/``Stream``/``is_available``/
  ``runtime.getDeviceCount``/``get_current_stream``, ``cupy.get_array_module``;
* ``host_syncs`` (fake only) counts device -> host reads, so a test can bound the
  synchronisations of a hot loop (``.item()``, ``float(t)``, ``bool(t)`` on a real GPU);
* ``cupy.random``: its own ``RandomState``/``Generator`` whose streams differ from numpy's
  for the same seed (as CuPy's do), so code that expects host and device draws to agree
  must draw on the host and move.

* layouts: ``asarray`` of a non-contiguous host array and ``get()`` give C-contiguous
  copies, as CuPy's do.

What it cannot catch: speed and asynchrony (every call is synchronous numpy on the CPU, so
a hidden ``.item()``/``.get()`` sync in a hot loop costs nothing here: count them with
``host_syncs`` instead); real kernels (``RawKernel``, ``ElementwiseKernel``, ``fuse`` raise;
numba.cuda kernels are not dispatched to these arrays); device memory limits; multiple
GPUs; CuPy's exact API coverage (any numpy function name is accepted and computed by numpy,
so a function or keyword CuPy lacks passes here, and numpy index arrays are accepted in
``x[key]``); CuPy's own numerics (dtype promotion, rounding and NaN handling are numpy's).
"""
import numpy as _np


__version__ = "0.0-fake"
_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")
# numpy names CuPy does not have: looking them up raises AttributeError, as on CuPy.
_ABSENT = frozenset({"errstate", "seterr", "geterr", "seterrcall", "geterrcall", "seterrobj",
                     "ma", "rec", "char", "frombuffer", "fromfile", "ctypeslib", "memmap"})
# Our own submodules: never numpy's (``from . import random`` would otherwise find np.random).
_SUBMODULES = frozenset({"cuda", "lib", "random"})
# Functions that take host data in (host -> device copies); every other one refuses numpy.
_HOST_IN = frozenset({"array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray"})


# Device -> host reads (``get``, ``item``, ``tolist``, ``float()``/``int()``/``bool()``...):
# each one is a synchronisation on a real GPU. Tests read ``host_syncs`` before and after a
# piece of code to bound the syncs in a hot loop (a fake-only name: CuPy has no such thing).
host_syncs = 0


def _synced():
    global host_syncs
    host_syncs += 1


class _Flags:
    """CuPy's flags: no ``writeable`` (CuPy arrays are always writable)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a):
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)

    def __getitem__(self, key):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[key])


class _MemoryPointer:
    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]


def _unwrap(value, allow_host):
    """Fake arrays -> their numpy array; refuse numpy arrays (ndim > 0) unless allowed."""
    if type(value) is ndarray:
        return value._a
    if isinstance(value, _np.ndarray):
        if value.ndim and not allow_host:
            raise TypeError(f"Unsupported type {type(value)}")
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, allow_host) for v in value)
    return value


def _wrap(value):
    if isinstance(value, _np.ndarray):
        return ndarray._of(value)
    if isinstance(value, _np.generic):
        return ndarray._of(_np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _call(fn, args, kwargs, allow_host=False):
    args = _unwrap(args, allow_host)
    kwargs = {k: _unwrap(v, allow_host) for k, v in kwargs.items()}
    with _np.errstate(all="ignore"):          # CuPy never warns about IEEE results
        return _wrap(fn(*args, **kwargs))


# ndarray attributes CuPy has; anything else (tobytes, tofile, ctypes, writeable...) is absent.
_METHODS = frozenset("""all any argmax argmin argpartition argsort astype choose clip compress
conj conjugate copy cumprod cumsum diagonal dot fill flatten max mean min nonzero partition
prod ptp put ravel repeat reshape round searchsorted sort squeeze std sum swapaxes take
trace transpose var view""".split())
_PLAIN = frozenset("dtype shape ndim size itemsize nbytes strides".split())
_VIEWS = frozenset("T mT real imag".split())


class ndarray:
    """A device array: a numpy array the rest of the world may not read implicitly."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the fake CuPy has no raw device memory")
        self._a = _np.empty(shape, dtype, order=order)

    @classmethod
    def _of(cls, a):
        self = object.__new__(cls)
        self._a = a
        return self

    # ------------------------------------------------------------------ host boundary
    def __array__(self, *args, **kwargs):
        raise TypeError(_IMPLICIT)

    def get(self, stream=None, order="C", out=None, blocking=True):
        _synced()
        if out is not None:
            out[...] = self._a
            return out
        return _np.array(self._a, order=order)

    def set(self, arr, stream=None):
        self._a[...] = arr

    def tolist(self):
        _synced()
        return self._a.tolist()

    def item(self, *args):
        _synced()
        return self._a.item(*args)

    def __float__(self):
        _synced()
        return float(self._a)

    def __int__(self):
        _synced()
        return int(self._a)

    def __complex__(self):
        _synced()
        return complex(self._a)

    def __bool__(self):
        _synced()
        return bool(self._a)

    def __index__(self):                          # CuPy: 0-d integer arrays only
        if self._a.ndim or self._a.dtype.kind not in "iub":
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        _synced()
        return int(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec) if self._a.ndim == 0 else format(str(self), spec)

    __hash__ = None

    def __reduce__(self):
        return (array, (self._a,))

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(self._a.copy())

    # ------------------------------------------------------------------ device facts
    @property
    def device(self):
        return cuda.Device(0)

    @property
    def flags(self):
        return _Flags(self._a)

    @property
    def data(self):
        return _MemoryPointer(self._a)

    @property
    def base(self):
        return None if self._a.base is None else ndarray._of(self._a.base) \
            if isinstance(self._a.base, _np.ndarray) else None

    @property
    def __cuda_array_interface__(self):
        interface = dict(self._a.__array_interface__)
        return {"shape": interface["shape"], "typestr": interface["typestr"],
                "data": (interface["data"][0], False), "strides": interface["strides"],
                "version": 3, "stream": 1}

    def __getattr__(self, name):
        if name in _PLAIN:
            return getattr(self._a, name)
        if name in _VIEWS:
            return ndarray._of(getattr(self._a, name))
        if name in _METHODS:
            method = getattr(self._a, name)
            return lambda *args, **kwargs: _call(method, args, kwargs)
        raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")

    # ------------------------------------------------------------------ numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            if any(type(o) is not ndarray for o in kwargs["out"]):
                raise TypeError("out must be a cupy.ndarray")
            kwargs["out"] = tuple(o._a for o in kwargs["out"])
        with _np.errstate(all="ignore"):
            result = getattr(ufunc, method)(*_unwrap(inputs, False), **kwargs)
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return _call(func, args, kwargs)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, True)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, True)] = _unwrap(value, False)


def _binary(name):
    ufunc = getattr(_np, name)

    def forward(self, other):
        return self.__array_ufunc__(ufunc, "__call__", self, other)

    def reflected(self, other):
        return self.__array_ufunc__(ufunc, "__call__", other, self)

    def inplace(self, other):
        self.__array_ufunc__(ufunc, "__call__", self, other, out=(self,))
        return self

    return forward, reflected, inplace


for _op, _ufunc in {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
                    "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
                    "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
                    "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift"}.items():
    _f, _r, _i = _binary(_ufunc)
    setattr(ndarray, f"__{_op}__", _f)
    setattr(ndarray, f"__r{_op}__", _r)
    setattr(ndarray, f"__i{_op}__", _i)
for _op, _ufunc in {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
                    "eq": "equal", "ne": "not_equal"}.items():
    setattr(ndarray, f"__{_op}__", _binary(_ufunc)[0])
for _op, _ufunc in {"neg": "negative", "pos": "positive", "abs": "absolute",
                    "invert": "invert"}.items():
    setattr(ndarray, f"__{_op}__", (lambda u: lambda self: _call(u, (self,), {}))(getattr(_np, _ufunc)))


# ---------------------------------------------------------------------- module functions
def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if type(a) is ndarray:
        return a.get(order=order, out=out)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    return __import__(__name__) if any(type(a) is ndarray for a in args) else _np


def broadcast_to(array, shape):
    """A writable zero-stride view, as CuPy's (numpy's own is read-only)."""
    a = _unwrap(array, False)
    view = _np.broadcast_to(a, shape)
    return ndarray._of(_np.lib.stride_tricks.as_strided(a, view.shape, view.strides,
                                                         writeable=True))


class RawKernel:
    """CUDA C cannot run without a GPU: constructing one raises."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("the fake CuPy (tests/fake_cuda) cannot compile or run CUDA kernels")


RawModule = ElementwiseKernel = ReductionKernel = RawKernel


def fuse(*args, **kwargs):
    raise RuntimeError("the fake CuPy (tests/fake_cuda) cannot compile or run CUDA kernels")


_module_cache = {}


def __getattr__(name):
    if name in _ABSENT or name in _SUBMODULES or name.startswith("__"):
        raise AttributeError(f"module 'cupy' has no attribute '{name}'")
    if name in _module_cache:
        return _module_cache[name]
    value = getattr(_np, name)                     # AttributeError for names numpy lacks
    if isinstance(value, _np.ufunc):
        value = _Ufunc(value)
    elif callable(value) and not isinstance(value, type):
        value = _function(value, allow_host=name in _HOST_IN)
    _module_cache[name] = value
    return value


def _function(fn, allow_host):
    def device_function(*args, **kwargs):
        if allow_host and kwargs.get("dtype") is None and args and type(args[0]) is ndarray:
            if fn is _np.array and kwargs.get("copy", True):
                return ndarray._of(args[0]._a.copy())
        result = _call(fn, args, kwargs, allow_host)
        if (allow_host and args and isinstance(args[0], _np.ndarray)
                and _np.may_share_memory(result._a, args[0])):
            result = ndarray._of(result._a.copy())  # host -> device is always a copy
        return result
    device_function.__name__ = device_function.__qualname__ = fn.__name__
    device_function.__module__ = __name__
    device_function.__doc__ = fn.__doc__
    return device_function


class _Ufunc:
    """A numpy ufunc taking and giving device arrays (``cupy.add``, ``cupy.add.at``...)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout = ufunc.nin, ufunc.nout

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs)

    def __getattr__(self, method):
        if method not in ("reduce", "accumulate", "at", "outer", "reduceat"):
            raise AttributeError(method)
        fn = getattr(self._ufunc, method)
        return lambda *args, **kwargs: _call(fn, args, kwargs)


array = _function(_np.array, allow_host=True)
asarray = _function(_np.asarray, allow_host=True)


# Submodules, as in CuPy (imported last: they use the names above).
from . import cuda, lib, random  # noqa: E402,F401
