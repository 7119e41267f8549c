"""``minigrad.cuda``: the little of ``torch.cuda`` that device-agnostic code calls."""
from .device import cuda_is_available, _probe_cupy  # noqa: F401
from .random import _check_seed


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
    """Random numbers for CUDA tensors are drawn on the host from minigrad's generators
    (``minigrad.random``), so there is no CUDA generator to seed: like PyTorch's on a
    machine without a GPU, this does nothing (and returns None). Seed with
    ``minigrad.manual_seed``, which covers CUDA tensors too."""
    _check_seed(seed)


def manual_seed_all(seed):
    """``manual_seed`` for every GPU: nothing to do, as there (returns None)."""
    _check_seed(seed)


# ``minigrad.cuda.amp.autocast`` / ``.GradScaler``: PyTorch's deprecated CUDA spellings.
from .amp.device_aliases import cuda as amp  # noqa: E402,F401
