"""``minigrad.cuda``: the little of ``torch.cuda`` that device-agnostic code calls."""
from .device import cuda_is_available, _probe_cupy  # noqa: F401


def is_available():
    return cuda_is_available()


def device_count():
    cupy = _probe_cupy()
    return cupy.cuda.runtime.getDeviceCount() if cupy is not None else 0


def synchronize():
    cupy = _probe_cupy()
    if cupy is not None:
        cupy.cuda.Device().synchronize()


def manual_seed(seed):
    """Random numbers are drawn on the host from minigrad's generator, so this is a no-op
    kept for code written for PyTorch; seed with ``minigrad.manual_seed``."""
