"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d`` and the
max unpooling layers ``MaxUnpool1d/2d`` (no parameters).

Each stores its constructor arguments as given (PyTorch prints them unnormalised) and
calls the matching ``F.`` function; ``stride`` defaults to ``kernel_size``.  Max pooling
picks the largest value of each window (its gradient goes to that pixel), average pooling
the window mean ``(1/n) Σ_{i ∈ window} x_i``.
"""
from .. import functional as F
from ..module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "MaxUnpool2d", "MaxUnpool1d",
           "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "LPPool1d", "LPPool2d", "AvgPool3d", "MaxPool3d",
           "AdaptiveAvgPool3d", "LPPool3d", "MaxUnpool3d",
           "AdaptiveMaxPool3d"]


class MaxPool2d(Module):
    """Max over kh×kw windows: (N, C, H, W) → (N, C, OH, OW); ``return_indices=True``
    also returns the arg-max positions (flat in each H·W plane)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kh×kw windows: (N, C, H, W) → (N, C, OH, OW), with PyTorch's
    ``count_include_pad`` and ``divisor_override`` rules."""

    _pool = staticmethod(F.avg_pool2d)          # F.avg_pool3d in AvgPool3d

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool3d(AvgPool2d):
    """Mean over kd×kh×kw windows: (N, C, D, H, W) → (N, C, OD, OH, OW) (``F.avg_pool3d``)."""

    _pool = staticmethod(F.avg_pool3d)


class AdaptiveAvgPool2d(Module):
    """Mean over the windows that tile the input into ``output_size`` cells:
    (N, C, H, W) → (N, C, OH, OW) for any H, W (None keeps that input size)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class MaxUnpool2d(Module):
    """The partial inverse of MaxPool2d: values back at their arg-max positions, zeros
    elsewhere; ``forward(input, indices, output_size=None)``."""

    _dims = 2
    _unpool = staticmethod(F.max_unpool2d)      # F.max_unpool1d / 2d / 3d, per subclass

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self._dims)
        self.stride = _tuple(stride if stride is not None else kernel_size, self._dims)
        self.padding = _tuple(padding, self._dims)

    def forward(self, input, indices, output_size=None):
        return self._unpool(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(MaxUnpool2d):
    """MaxUnpool2d for (N, C, L) input."""

    _dims = 1
    _unpool = staticmethod(F.max_unpool1d)


class MaxPool1d(MaxPool2d):
    """Max over windows of ``kernel_size`` along L: (N, C, L) → (N, C, OL)."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """Mean over windows of ``kernel_size`` along L: (N, C, L) → (N, C, OL)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 1)
        self.stride = _tuple(stride if stride is not None else kernel_size, 1)
        self.padding = _tuple(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Mean over the windows that tile L into ``output_size`` cells."""

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Mean over the windows that tile (D, H, W) into ``output_size`` cells."""

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)


class MaxPool3d(MaxPool2d):
    """Max over kd×kh×kw windows: (N, C, D, H, W) → (N, C, OD, OH, OW); indices flat in
    each D·H·W volume."""

    def forward(self, input):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AdaptiveMaxPool2d(Module):
    """Max over the windows that tile the input into ``output_size`` cells;
    ``return_indices=True`` also returns the arg-max positions."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max over the windows that tile L into ``output_size`` cells."""

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class LPPool2d(Module):
    """Power-average pooling (Σ_window x^p)^(1/p) over kh×kw windows."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(LPPool2d):
    """Power-average pooling along L."""

    def forward(self, input):
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool3d(LPPool2d):
    """Power-average pooling over kd×kh×kw windows."""

    def forward(self, input):
        return F.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class MaxUnpool3d(MaxUnpool2d):
    """The partial inverse of MaxPool3d (indices flat in each D·H·W volume)."""

    _dims = 3
    _unpool = staticmethod(F.max_unpool3d)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """Max over the windows that tile (D, H, W) into ``output_size`` cells."""

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)
