"""Tensor: an xp array (numpy on cpu, CuPy on cuda) plus its place in the autograd graph.

Fields: ``array`` (the xp array; ``data`` is PyTorch's detached Tensor view of it), ``requires_grad``, ``grad``, ``grad_fn`` (the Function node
that produced it, None for leaves) with ``_output_slot`` (which of that node's outputs it
is), ``_version_counter``, shared by a tensor and its views and bumped by every in-place
write, so a saved tensor knows when it has gone stale, and ``_grad_accumulator``, a weak
reference to the leaf's ``AccumulateGrad`` node while a graph uses it, and ``_hooks``
(None, or a leaf's ``autograd.hooks.LeafHooks``: its gradient and post-accumulate hooks).

This module is the bottom of the core: it imports only ``dtypes``, ``device`` and
``printing`` (the repr layout). The
class below defines attributes, conversions to Python and numpy, and ``detach``. The
operators and op methods (``t + u``, ``t.exp()``, ``t.sum()``, ``t.to(...)``,
``t.backward()``) are the functional ops of ``minigrad/ops/`` and ``minigrad/autograd/``,
bound onto the class from one table, ``minigrad/tensor_methods.py`` (DeZero's
``setup_variable`` idea); ``tensor.pyi`` beside this file lists the whole surface for
editors and type checkers.
"""

import numpy as np

from . import dtypes
from .device import as_device, cuda_is_available, device_of_array, move_array
from .printing import PRINT_OPTIONS, tensor_str

_new_object = object.__new__


def to_array(data, dtype=None, device=None):
    """Turn tensor-like data into an array of ``device`` with PyTorch's dtype inference:
    Python floats become the default float dtype, Python ints int64, numpy arrays and
    scalars keep their dtype."""
    dtype = dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        array = data.array
    elif isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        array = data
        if dtype is None and array.dtype not in dtypes._SUPPORTED:
            raise TypeError(f"can't convert np.ndarray of type {array.dtype}. The only supported "
                            "types are: float64, float32, float16, bfloat16, int64, int32, int16, int8, "
                            "uint8, and bool.")
    else:
        array = _array_from_python(data)
        if dtype is not None:
            dtypes.check_representable(array, dtype)
        else:
            if array.dtype.kind in "fV" and not isinstance(data, np.floating):
                array = array.astype(dtypes.get_default_dtype())
            elif array.dtype.kind in "iu" and not isinstance(data, np.integer):
                array = array.astype(np.int64)
            elif array.dtype not in dtypes._SUPPORTED:
                array = array.astype(dtypes.scalar_dtype(data.dtype.type(0)))
    if dtype is not None and array.dtype != dtype:
        with np.errstate(over="ignore", invalid="ignore"):   # checked above, or an array cast
            array = array.astype(dtype)
    if device is not None:
        array = move_array(array, as_device(device))
    return array


def _array_from_python(data):
    """numpy's reading of Python data, with PyTorch's errors: no complex, no None, no
    integers beyond int64 (numpy would make uint64 or object arrays of them)."""
    if data is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    try:
        array = np.array(data)
    except ValueError as error:
        raise ValueError(f"expected sequences of equal length at every dimension: {error}") from None
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError("minigrad has no complex dtypes: cannot make a tensor of "
                        f"{type(data).__name__} data with complex values")
    if kind == "u" and array.dtype.itemsize == 8 or kind == "O":
        if kind == "O":     # ints too big for int64, or mixed with floats, or not numbers
            try:
                as_float = np.array(data, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"Could not infer dtype of {type(data).__name__}") from None
            if _holds_a_float(data):
                return as_float
        raise ValueError("Overflow when unpacking long long: an integer does not fit in int64")
    if kind in "USV":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return array


def _holds_a_float(data):
    if isinstance(data, (list, tuple)):
        return any(_holds_a_float(d) for d in data)
    return isinstance(data, (float, np.floating))


class VersionCounter:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Size(tuple):
    """``torch.Size``: a tuple of ints with ``numel()``."""

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"minigrad.Size({list(self)})"


class Tensor:
    __slots__ = ("array", "_requires_grad", "_grad", "grad_fn", "_output_slot", "_retains_grad",
                 "_version_counter", "_base", "_view_version", "_grad_accumulator", "_hooks",
                 "__weakref__")
    # numpy defers to Tensor's reflected operators (ndarray + Tensor -> Tensor).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False):
        """``Tensor(data)`` is ``torch.Tensor(data)``: always the default float dtype
        (use ``minigrad.tensor`` for dtype inference)."""
        array = to_array(data, dtype=dtypes.get_default_dtype())
        self._init(array, requires_grad)
        if requires_grad:
            self.requires_grad = True

    def _init(self, array, requires_grad=False, version_counter=None):
        if type(array) is not np.ndarray and isinstance(array, np.generic):
            # numpy ufuncs on 0-d arrays return scalars; data must stay a (writable) array.
            array = np.asarray(array)
        self.array = array
        self._requires_grad = requires_grad
        self._grad = self.grad_fn = self._base = self._grad_accumulator = self._hooks = None
        self._output_slot = 0
        self._retains_grad = False
        self._version_counter = version_counter or VersionCounter()

    @classmethod
    def _wrap(cls, array, requires_grad=False, version_counter=None):
        """Wrap an xp array without copying or checking (the ops' fast path)."""
        t = _new_object(cls)
        t._init(array, requires_grad, version_counter)
        return t

    @classmethod
    def _from_node(cls, array, node, slot, requires_grad, version_counter):
        t = cls._wrap(array, requires_grad, version_counter)
        t.grad_fn, t._output_slot = node, slot
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return Size(self.array.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[_normalize_dim(dim, self.ndim)]

    @property
    def ndim(self):
        return self.array.ndim

    def dim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return device_of_array(self.array)

    @property
    def xp(self):
        # numpy is by far the common case: answer it without building a Device.
        return np if type(self.array) is np.ndarray else self.device.xp

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if flag and self.array.dtype.kind not in "fV":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got dtype {self.dtype})")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retains_grad = True

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def _version(self):
        return self._version_counter.value

    def numel(self):
        return int(self.array.size)

    def element_size(self):
        return self.array.dtype.itemsize

    def is_floating_point(self):
        return self.array.dtype.kind in "fV"

    def is_complex(self):
        return self.array.dtype.kind == "c"

    def is_signed(self):
        return self.array.dtype.kind in "ifV"

    def ndimension(self):
        return self.array.ndim

    @property
    def itemsize(self):
        return self.array.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.array.dtype.itemsize

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    def get_device(self):
        """The CUDA device index, or -1 for a CPU tensor (PyTorch's convention)."""
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

    def is_contiguous(self):
        return bool(self.array.flags.c_contiguous)

    def stride(self, dim=None):
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[_normalize_dim(dim, self.ndim)]

    # ------------------------------------------------------------------ autograd
    @property
    def data(self):
        """PyTorch's ``.data``: a Tensor sharing this one's array, cut from the graph and
        with a version counter of its own, so in-place writes through it (``p.data.add_``,
        manual SGD, custom init) are invisible to autograd's staleness checks."""
        return Tensor._wrap(self.array, False)

    @data.setter
    def data(self, value):
        """``t.data = u`` makes ``t`` use ``u``'s array (any shape; same device kind)."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        if (value.array.dtype.kind in "fV") != (self.array.dtype.kind in "fV") and self.requires_grad:
            raise RuntimeError(f"data set to a tensor of dtype {value.dtype} on a tensor "
                               f"of dtype {self.dtype} that requires grad")
        self.array = value.array

    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this tensor's shape, dtype and device), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        """Assigning checks what PyTorch checks, so an optimizer never meets a gradient it
        cannot apply (and never applies half a step before finding out)."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__module__}.{type(value).__name__}"
                                if type(value).__module__ != "builtins" else
                                "assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.array.shape != self.array.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value.array.shape)}' to a tensor of size "
                                   f"'{list(self.array.shape)}'. Please ensure that the "
                                   "gradient and the tensor are the same size")
            if value.array.dtype != self.array.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype "
                                   f"'{value.dtype}' to a tensor with dtype '{self.dtype}'. "
                                   "The gradient must match the tensor's dtype")
            if value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient located on device "
                                   f"'{value.device}' to a tensor located on device "
                                   f"'{self.device}'. Please ensure that the gradient and the "
                                   "tensor are on the same device")
        self._grad = value

    def detach(self):
        """The same array and version counter, cut from the graph."""
        return Tensor._wrap(self.array, False, self._version_counter)

    def detach_(self):
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn, self._requires_grad = None, False
        return self

    # ------------------------------------------------------------------ conversion
    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                                "Use Tensor.cpu() to copy the tensor to host memory first.")
            return self.array.get()
        return self.array

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: as ``t.numpy()``, so a tensor that requires grad refuses
        (PyTorch's RuntimeError: detach it first)."""
        array = self.numpy(force=False) if self.device.type == "cpu" else self.detach().numpy(force=True)
        return array if dtype is None else array.astype(dtype, copy=False)

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self.array.reshape(()).item()

    def tolist(self):
        return self.array.tolist() if self.device.type == "cpu" else self.array.get().tolist()

    def __float__(self):
        return float(self._python_scalar())

    def __int__(self):
        return int(self._python_scalar())

    def _python_scalar(self):
        # float(t)/int(t) raise ValueError where t.item() raises RuntimeError (PyTorch's split).
        if self.numel() != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"(got a tensor of shape {tuple(self.shape)})")
        return self.item()

    def __index__(self):
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self):
        body = tensor_str(np.asarray(self.detach().numpy(force=True)), indent=len("tensor("))
        extras = []
        if self.numel() == 0 and self.ndim != 1:
            extras.append(f"size={tuple(self.shape)}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        default = dtypes.get_default_dtype()
        if self.dtype not in (default, dtypes.int64, dtypes.bool_) or (
                self.numel() == 0 and self.dtype != default):
            extras.append(f"dtype=minigrad.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        # PyTorch's _add_suffixes: a suffix that would pass column 80 starts a new line (its
        # width measured as PyTorch's "torch.<dtype>", so both break their lines alike).
        text = "tensor(" + body
        last_line = len(text) - text.rfind("\n") + 1
        for extra in extras:
            width = len(extra.replace("minigrad.", "torch."))
            if last_line + width + 2 > PRINT_OPTIONS['linewidth']:
                text += ",\n" + " " * len("tensor(") + extra
                last_line = len("tensor(") + width
            else:
                text += ", " + extra
                last_line += width + 2
        return text + ")"

    # ------------------------------------------------------------------ devices and dtypes
    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def bfloat16(self):
        return self.to(dtypes.bfloat16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def byte(self):
        return self.to(dtypes.uint8)

    def char(self):
        return self.to(dtypes.int8)

    def short(self):
        return self.to(dtypes.int16)

    # ------------------------------------------------------------------ storage questions
    def data_ptr(self):
        """The address of the first element (numpy's or CuPy's pointer)."""
        interface = getattr(self.array, "__array_interface__", None)
        return interface["data"][0] if interface is not None else self.array.data.ptr

    def storage_offset(self):
        """Elements between the start of the base's storage and this view's first element."""
        base = self._base
        if base is None:
            return 0
        return (self.data_ptr() - base.data_ptr()) // self.array.itemsize

    def is_pinned(self):
        return False

    def pin_memory(self, device=None):
        """A copy on the host for fast copies to the GPU. Without CUDA PyTorch raises, and so
        does minigrad; with it, minigrad copies into ordinary (pageable) host memory, so
        ``is_pinned()`` stays False and ``to('cuda', non_blocking=True)`` is a plain copy.
        Only a CPU tensor can be pinned, as in PyTorch."""
        if not cuda_is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if self.device.type != "cpu":
            raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
        return self.clone()

    def is_shared(self):
        return False

    def share_memory_(self):
        """A no-op on numpy arrays (worker processes receive copies); returns self."""
        return self

    def type_as(self, other):
        return self.to(other.dtype)


def _normalize_dim(dim, ndim):
    """Map a possibly negative dim into range, raising IndexError like PyTorch."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                         f"but got {dim})")
    return dim % rank
