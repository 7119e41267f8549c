"""Tensor: an xp array (numpy on cpu, CuPy on cuda) plus its place in the autograd graph.

Fields: ``data`` (the array), ``requires_grad``, ``grad``, ``grad_fn`` (the Function node
that produced it, None for leaves) with ``_output_slot`` (which of that node's outputs it
is), and ``_version_counter``, shared by a tensor and its views and bumped by every
in-place write, so a saved tensor knows when it has gone stale.

Operations live in ``minigrad/ops/``, one family per file; each attaches its methods to
Tensor with ``@tensor_method``, so ``t.exp()`` and ``mg.exp(t)`` are the same function.
"""
import numpy as np

from . import dtypes
from .device import as_device, device_of_array, move_array
from .autograd.grad_mode import is_grad_enabled, no_grad


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
    __slots__ = ("data", "_requires_grad", "grad", "grad_fn", "_output_slot", "_retains_grad",
                 "_version_counter", "_base", "__weakref__")
    # numpy defers to Tensor's reflected operators (ndarray + Tensor -> Tensor).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False):
        """``Tensor(data)`` is ``torch.Tensor(data)``: always the default float dtype
        (use ``minigrad.tensor`` for dtype inference)."""
        from .creation import to_array
        array = to_array(data, dtype=dtypes.get_default_dtype())
        self._init(array, requires_grad)
        if requires_grad:
            self.requires_grad = True

    def _init(self, array, requires_grad=False, version_counter=None):
        if isinstance(array, np.generic):
            # numpy ufuncs on 0-d arrays return scalars; data must stay a (writable) array.
            array = np.asarray(array)
        self.data = array
        self._requires_grad = requires_grad
        self.grad = None
        self.grad_fn = None
        self._output_slot = 0
        self._retains_grad = False
        self._version_counter = version_counter or VersionCounter()
        self._base = None

    @classmethod
    def _wrap(cls, array, requires_grad=False, version_counter=None):
        """Wrap an xp array without copying or checking (the ops' fast path)."""
        t = cls.__new__(cls)
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
        return Size(self.data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_normalize_dim(dim, self.ndim)]

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return device_of_array(self.data)

    @property
    def xp(self):
        # numpy is by far the common case: answer it without building a Device.
        return np if type(self.data) is np.ndarray else self.device.xp

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
        if flag and self.data.dtype.kind != "f":
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
        return int(self.data.size)

    def element_size(self):
        return self.data.dtype.itemsize

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_contiguous(self):
        return bool(self.data.flags.c_contiguous)

    def stride(self, dim=None):
        strides = tuple(s // self.data.itemsize for s in self.data.strides)
        return strides if dim is None else strides[_normalize_dim(dim, self.ndim)]

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) · gradient into every leaf's ``.grad``."""
        from .autograd.engine import run_backward
        from .autograd.functional import seed_gradient
        gradient = seed_gradient(self, gradient)
        if retain_graph is None:
            retain_graph = create_graph
        run_backward([self], [gradient], retain_graph=retain_graph, create_graph=create_graph)

    def detach(self):
        """The same array and version counter, cut from the graph."""
        return Tensor._wrap(self.data, False, self._version_counter)

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
            return self.data.get()
        return self.data

    def __array__(self, dtype=None, copy=None):
        array = self.detach().numpy(force=True)
        return array if dtype is None else array.astype(dtype, copy=False)

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist() if self.device.type == "cpu" else self.data.get().tolist()

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
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self):
        values = np.asarray(self.detach().numpy(force=True))
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        # PyTorch's style: "1., 2." for integral floats, otherwise four fixed decimals.
        fixed = values.dtype.kind == "f" and bool((finite != np.round(finite)).any())
        body = np.array2string(values, separator=", ", prefix="tensor(", precision=4,
                               floatmode="fixed" if fixed else "maxprec")
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
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------ in-place support
    def _write_inplace(self, function, *args, **kwargs):
        """Run ``function`` out of place on (self, *args), then write the result into self's
        array and make self the output of the recorded node.

        The node's input is a snapshot of self's old value, taken only when recording, so a
        backward that needs the old value (mul_, div_) still has it (PyTorch's original_self).
        """
        if not getattr(getattr(self.data, "flags", None), "writeable", True):  # an expand()ed view
            raise RuntimeError(f"unsupported operation: more than one element of the written-to "
                               f"tensor (shape {list(self.shape)}) refers to a single memory "
                               f"location. Please clone() the tensor before performing the "
                               f"operation.")
        others = [a for a in args if isinstance(a, Tensor)]
        record = is_grad_enabled() and (self.requires_grad or any(o.requires_grad for o in others))
        if record and self.grad_fn is None and self.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        if record and self._base is not None and self._base.requires_grad:
            raise RuntimeError("minigrad does not support in-place operations on a view of a "
                               "tensor that requires grad; use the out-of-place form")
        if record:
            source = Tensor._from_node(self.data.copy(), self.grad_fn, self._output_slot,
                                       self.requires_grad, VersionCounter())
            result = function.apply(source, *args, **kwargs)
        else:
            with no_grad():
                result = function.apply(self.detach(), *args, **kwargs)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                               f"shape {list(result.shape)}")
        if dtypes.category(result.dtype) > dtypes.category(self.dtype):
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output "
                               f"type {self.dtype}")
        self.data[...] = result.data
        self._version_counter.value += 1
        if record:
            node = result.grad_fn
            self.grad_fn, self._output_slot, self._requires_grad = node, 0, True
            import weakref
            node.outputs = (weakref.ref(self),)
            for record_ in node._saved_output_records:
                record_.weak_output, record_.data = weakref.ref(self), self.data
                record_.version_counter = self._version_counter
                record_.version = self._version_counter.value
        return self

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other_tensor)``;
        differentiable; returns self when nothing changes."""
        from .ops.conversion import to_device_and_dtype
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, str) or type(a).__name__ == "Device":
                device = a
            else:
                dtype = a
        return to_device_and_dtype(self, device, dtype, copy)

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

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def type_as(self, other):
        return self.to(other.dtype)


def _normalize_dim(dim, ndim):
    """Map a possibly negative dim into range, raising IndexError like PyTorch."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                         f"but got {dim})")
    return dim % rank


def tensor_method(*names):
    """Attach a functional op to Tensor under the given method names."""
    def attach(fn):
        for name in names:
            setattr(Tensor, name, fn)
        return fn
    return attach


def move_to(array, device):
    return move_array(array, as_device(device))


def _bind_autograd():
    from .autograd import function
    function.Tensor, function._wrap = Tensor, Tensor._wrap


_bind_autograd()
