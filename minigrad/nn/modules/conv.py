"""Convolution layers with PyTorch's constructors: ``Conv1d``, ``Conv2d``, ``Conv3d``
(``F.conv1d``, ``F.conv2d``, ``F.conv3d``) and the transposed ``ConvTranspose1d``,
``ConvTranspose2d``, ``ConvTranspose3d``.

Parameters: ``weight`` (out_channels, in_channels/groups, *kernel) — transposed:
(in_channels, out_channels/groups, *kernel) — and ``bias`` (out_channels,), initialised as
Linear's with fan_in = weight.shape[1] · Πkernel (kaiming_uniform_(a=√5), bias
U(±1/√fan_in)), which for the transposed layers is out_channels/groups · Πkernel, as in
PyTorch.  Shapes: (N, C_in, H, W) → (N, C_out, OH, OW), OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1;
transposed OH = (H − 1)s − 2p + d(kh − 1) + output_padding + 1.

``padding`` is an int, a tuple, ``'valid'`` or ``'same'``.  ``padding_mode='zeros'`` pads
inside the convolution; 'reflect', 'replicate' and 'circular' pad the input first with
``F.pad`` (PyTorch's ``_reversed_padding_repeated_twice``) and convolve unpadded.  The
transposed layers support 'zeros' only and take ``output_size`` in ``forward`` (it picks
the output_padding, as PyTorch's ``_output_padding``).
A 3×3 kernel, stride 1, no padding maps 28×28 to 26×26, as in ``models/cnn.py``.
"""
from ... import creation
from ...ops.operands import int_pair
from .. import functional as F
from ..functional.conv import INVALID_PAIR, int_single, same_padding
from ..functional.volumetric import int_triple
from ..module import Module
from ..parameter import Parameter
from .linear import reset_weight_and_bias

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _as_tuple(value, name, spatial):
    """An int-or-tuple constructor argument as a tuple of ``spatial`` ints."""
    if spatial == 1:
        return (int_single(value, name),)
    if spatial == 3:
        return int_triple(value, name, "conv3d")
    return int_pair(value, name, "conv2d", INVALID_PAIR)


class _ConvNd(Module):
    """What the convolution layers share: argument checks, parameters, init, extra_repr."""

    _spatial = 2
    transposed = False
    _convolve = staticmethod(F.conv2d)      # F.conv1d / conv2d / conv3d, per subclass

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None,
                 output_padding=0):
        super().__init__()
        n = self._spatial
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size = _as_tuple(kernel_size, "kernel_size", n)
        stride = _as_tuple(stride, "stride", n)
        dilation = _as_tuple(dilation, "dilation", n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _as_tuple(padding, "padding", n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups, self.padding_mode = dilation, groups, padding_mode
        self.output_padding = _as_tuple(output_padding, "output_padding", n)
        if padding == "same":
            splits = same_padding(kernel_size, dilation)
        elif padding == "valid":
            splits = [(0, 0)] * n
        else:
            splits = [(p, p) for p in padding]
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(splits)
                                                      for v in pair)
        shape = ((in_channels, out_channels // groups) if self.transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(creation.empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty((out_channels,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self):
        n = self._spatial
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input, weight, bias):
        """``padding_mode`` other than zeros pads explicitly, then convolves unpadded."""
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._convolve(padded, weight, bias, self.stride, 0, self.dilation,
                                  self.groups)
        return self._convolve(input, weight, bias, self.stride, self.padding, self.dilation,
                              self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv2d(_ConvNd):
    """y = x ⋆ W + b over 2-D images (cross-correlation, as every framework's "conv")."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)


class Conv1d(_ConvNd):
    """y = x ⋆ W + b over sequences (N, C, L)."""

    _spatial = 1
    _convolve = staticmethod(F.conv1d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)


class Conv3d(_ConvNd):
    """y = x ⋆ W + b over volumes (N, C, D, H, W)."""

    _spatial = 3
    _convolve = staticmethod(F.conv3d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        non_spatial = 2 if input.ndim == n + 2 else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must "
                             f"have {n} or {non_spatial + n} elements (got {len(output_size)})")
        min_sizes = [(input.shape[d + non_spatial] - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {min_sizes} to {max_sizes} (for an input of "
                                 f"{input.size()[non_spatial:]})")
        return tuple(size - low for size, low in zip(output_size, min_sizes))


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d (a learned upsampling): (N, C_in, H, W) → (N, C_out, H_out,
    W_out); ``weight`` (in_channels, out_channels/groups, kh, kw)."""

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d: (N, C_in, L) → (N, C_out, L_out)."""

    _spatial = 1

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)


class ConvTranspose3d(_ConvTransposeNd):
    """The adjoint of Conv3d: (N, C_in, D, H, W) → (N, C_out, D_out, H_out, W_out)."""

    _spatial = 3

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)
