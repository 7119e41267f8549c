"""``minigrad.cpu``: the little of ``torch.cpu`` that device-agnostic code calls, and the
``minigrad.cpu.amp`` aliases (``autocast``, ``GradScaler`` for the CPU)."""
from .amp.device_aliases import cpu as amp  # noqa: F401


def is_available():
    return True


def device_count():
    return 1


def synchronize(device=None):
    """CPU work is synchronous: nothing to wait for."""
