"""Copies and conversions: ``to`` (dtype and device), ``clone``, ``contiguous``, and
``format(t, spec)`` of a 0-d tensor (``f"{loss:.4f}"``).

All are differentiable: a cast's VJP casts the gradient back, a device move's VJP moves it
back, and a copy's VJP is the identity.
"""
from .. import dtypes
from ..device import Device, as_device, move_array
from ..tensor import Tensor
from ..autograd.function import Function


class ToDtype(Function):
    """y = cast(x, dtype);  dx = cast(dy, x.dtype)."""

    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.array.astype(dtype)

    def backward(self, dy):
        return ToDtype.apply(dy, self.input_dtype)


class ToDevice(Function):
    """y = x copied to ``device``;  dx = dy copied back to x's device."""

    def forward(self, x, device):
        self.input_device = x.device
        return move_array(x.array, device)

    def backward(self, dy):
        return ToDevice.apply(dy, self.input_device)


class Clone(Function):
    """y = a fresh C-contiguous copy of x;  dx = dy."""

    def forward(self, x):
        return x.xp.array(x.array, copy=True, order="C")

    def backward(self, dy):
        return dy


def to(self, *args, **kwargs):
    """``Tensor.to``: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``;
    differentiable; returns self when nothing changes."""
    device, dtype, copy = parse_to_arguments(args, kwargs)
    return to_device_and_dtype(self, device, dtype, copy)


def parse_to_arguments(args, kwargs, allow_copy=True):
    """``(device, dtype, copy)`` from the forms ``to`` accepts (``Tensor.to`` and
    ``Module.to``): positional device / dtype / tensor (its device and dtype), or the
    keywords ``device``, ``dtype``, ``non_blocking`` (ignored: copies are synchronous) and,
    for tensors, ``copy``."""
    kwargs = dict(kwargs)
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False) if allow_copy else False
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, Device)):
            device = a
        else:
            dtype = a
    return device, dtype, copy


def to_device_and_dtype(tensor, device, dtype, copy=False):
    out = tensor
    if device is not None:
        device = as_device(device)
        if device != tensor.device:
            out = ToDevice.apply(out, device)
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        if dtype != out.dtype:
            if out.requires_grad and dtype.kind not in "fV":
                # Casting to an integer type ends the graph, as in PyTorch.
                out = Tensor._wrap(out.array.astype(dtype))
            else:
                out = ToDtype.apply(out, dtype)
    if copy and out is tensor:
        out = Clone.apply(tensor)
    return out


def clone(input, memory_format=None):
    return Clone.apply(input)


def contiguous(input, memory_format=None):
    return input if input.array.flags.c_contiguous else Clone.apply(input)


def format_tensor(self, format_spec):
    """``Tensor.__format__``: a 0-d tensor formats as its Python number (``f"{t:.2f}"``);
    any other tensor only with an empty spec (its repr), else TypeError, as in PyTorch."""
    if self.ndim == 0:
        return self.item().__format__(format_spec)
    return object.__format__(self, format_spec)
