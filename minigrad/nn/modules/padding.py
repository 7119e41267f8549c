"""Padding layers around ``F.pad``: ``ConstantPad1d/2d/3d``, ``ZeroPad1d/2d/3d``,
``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d``, ``CircularPad1d/2d/3d``.

``padding`` is an int (the same on every side) or a tuple listed from the last dim
(left, right, top, bottom, front, back), as ``F.pad`` takes it; the modes are described in
``nn/functional/padding.py``.
"""
from .. import functional as F
from ..module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Constant", "Zero", "Reflection", "Replication",
                                          "Circular") for n in (1, 2, 3)]


def _sides(padding, n):
    """PyTorch's _ntuple(2n): an int repeated on every side, an iterable kept as given."""
    if hasattr(padding, "__iter__"):
        return tuple(padding)
    return (padding,) * (2 * n)


class _ConstantPadNd(Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _sides(padding, 1)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _sides(padding, 2)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _sides(padding, 3)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ModePadNd(Module):
    mode = None
    _dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _sides(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Mirror the last dim at its ends (edges not repeated)."""
    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Mirror the last two dims."""
    _dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Mirror the last three dims."""
    _dims = 3


class ReplicationPad1d(_ModePadNd):
    """Repeat the edge values of the last dim."""
    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Repeat the edge values of the last two dims."""
    _dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Repeat the edge values of the last three dims."""
    _dims = 3


class CircularPad1d(_ModePadNd):
    """Wrap the last dim around; (N, C, L) or (C, L) input."""
    mode = "circular"

    def forward(self, input):
        low = self._dims + 1
        if input.dim() not in (low, low + 1):
            raise ValueError(f"expected {low}D or {low + 1}D input (got {input.dim()}D input)")
        return super().forward(input)


class CircularPad2d(CircularPad1d):
    """Wrap the last two dims around; (N, C, H, W) or (C, H, W) input."""
    _dims = 2


class CircularPad3d(CircularPad1d):
    """Wrap the last three dims around; (N, C, D, H, W) or (C, D, H, W) input."""
    _dims = 3
