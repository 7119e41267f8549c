"""``minigrad.backends`` (``torch.backends``): the switches programs set for PyTorch's
vendor libraries. minigrad uses neither cuDNN nor Metal, so both report unavailable; the
cuDNN flags are kept (settable, read back) so programs that set them run unchanged."""
from . import cudnn, mps

__all__ = ["cudnn", "mps"]
