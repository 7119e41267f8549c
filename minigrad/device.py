"""Devices: where a tensor's array lives and which array module (``xp``) computes on it.

``cpu`` arrays are numpy arrays; ``cuda`` arrays are CuPy arrays. Op code never names numpy
or CuPy: it asks the tensor for ``xp`` (the array module of its device), which is what lets
every Function run unchanged on both (the Chainer/DeZero ``get_array_module`` idea).
"""
import contextlib

import numpy as np

_cupy = None
_cuda_checked = False


def _probe_cupy():
    """Import CuPy and touch the device once. "No CuPy" and "CuPy without a GPU" read the
    same: CUDA unavailable (CuPy imports fine on a machine with no GPU, then fails on the
    first array)."""
    global _cupy, _cuda_checked
    if not _cuda_checked:
        _cuda_checked = True
        try:
            import cupy
            if cupy.cuda.is_available():
                cupy.zeros(1)
                _cupy = cupy
        except Exception:
            _cupy = None
    return _cupy


def cuda_is_available():
    return _probe_cupy() is not None


class Device:
    """``Device('cpu')``, ``Device('cuda')``, ``Device('cuda:0')``, like ``torch.device``.
    Compares equal to its string form, so ``t.device == 'cpu'`` works."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string or Device, got {type(spec).__name__}")
        kind, colon, idx = spec.partition(":")
        if colon and not (idx.isdigit() and idx.isascii()) or spec != spec.strip():
            raise RuntimeError(f"Invalid device string: '{spec}'")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")
        if index is not None and not colon:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise RuntimeError(f"Device index must be a non-negative int, got {index!r}")
        self.type = kind
        self.index = int(idx) if colon else index

    @property
    def xp(self):
        if self.type == "cpu":
            return np
        cupy = _probe_cupy()
        if cupy is None:
            raise RuntimeError("Torch not compiled with CUDA enabled: minigrad found no usable "
                               "CUDA device (install the 'gpu' extra, cupy, on a machine with a GPU)")
        return cupy

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


CPU = Device("cpu")


def as_device(spec):
    if spec is None:
        return CPU
    return spec if isinstance(spec, Device) else Device(spec)


def device_of_array(array):
    """The Device an xp array lives on."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return CPU
    cupy = _probe_cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return Device("cuda", array.device.id)
    return CPU


def to_host(array):
    """The array as a numpy array: itself on the CPU, a copy off the GPU for a CuPy array."""
    return array if isinstance(array, np.ndarray) else array.get()


def _dense_order(array):
    """The axis order that makes a non-overlapping, dense but non-C-contiguous array (a
    transpose or permutation of a contiguous one) C-contiguous, else None."""
    if array.flags.c_contiguous or array.ndim < 2:
        return None
    order = tuple(sorted(range(array.ndim), key=lambda d: -array.strides[d]))
    return order if array.transpose(order).flags.c_contiguous else None


def move_array(array, device):
    """Copy an array to ``device`` (no copy when it is already there). Like PyTorch's ``to``,
    a permuted dense layout (``t.mT``, ``t.permute(...)``) keeps its strides across devices,
    while any other layout arrives contiguous (CuPy's ``asarray`` and ``get`` would both
    make a permuted array C-contiguous)."""
    device = as_device(device)
    if device.type == "cpu":           # cpu:1 is the CPU too (PyTorch ignores a CPU index)
        if not hasattr(array, "__cuda_array_interface__"):
            return array
        return _transferred(array, lambda a: a.get())
    if device_of_array(array) == device:
        return array
    return _transferred(array, device.xp.asarray)


def _transferred(array, transfer):
    """``transfer(array)``, through its contiguous permutation when it has one."""
    order = _dense_order(array)
    if order is None:
        return transfer(array)
    inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
    return transfer(array.transpose(order)).transpose(inverse)


def quiet_floating_point(xp, **kinds):
    """``xp.errstate(**kinds)`` (e.g. ``divide="ignore"``) where the array module has one, else
    a context that does nothing: numpy warns about IEEE results such as log 0 = −∞ and 0/0 = NaN,
    CuPy has no ``errstate`` and never warns."""
    errstate = getattr(xp, "errstate", None)
    return errstate(**kinds) if errstate is not None else contextlib.nullcontext()
