"""``minigrad.accelerator`` (``torch.accelerator``): the device-agnostic view of the one
accelerator kind minigrad drives, CUDA through CuPy. Without a usable GPU there is no
accelerator: ``is_available()`` is False, ``current_accelerator()`` None,
``device_count()`` 0, which is what device-agnostic programs test for."""
import contextlib

from . import cuda
from .device import Device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "current_device_idx", "set_device_index", "set_device_idx", "device_index",
           "synchronize"]

_current_index = 0


def is_available():
    """Whether an accelerator (a CUDA GPU usable through CuPy) is present."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``device('cuda')`` when a GPU is usable, else None (``check_available`` as PyTorch:
    the answer is None either way when there is none)."""
    return Device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count() if cuda.is_available() else 0


def current_device_index():
    """The index of the current accelerator device (0 when there is none, as PyTorch)."""
    return _current_index


current_device_idx = current_device_index


def set_device_index(device):
    """Make ``device`` (an index, or a ``cuda:i`` device) the current accelerator device."""
    global _current_index
    index = device.index if isinstance(device, Device) else device
    index = 0 if index is None else int(index)
    if not is_available():
        raise RuntimeError("Cannot set the current accelerator device: no accelerator is "
                           "available")
    if not 0 <= index < device_count():
        raise RuntimeError(f"Invalid device index {index} (device_count() is {device_count()})")
    _current_index = index


set_device_idx = set_device_index


@contextlib.contextmanager
def device_index(device):
    """Within the block, ``device`` is the current accelerator device (None: unchanged)."""
    if device is None:
        yield
        return
    previous = _current_index
    set_device_index(device)
    try:
        yield
    finally:
        set_device_index(previous)


def synchronize(device=None):
    """Wait for the accelerator's queued work (nothing to wait for on the CPU)."""
    cuda.synchronize()
