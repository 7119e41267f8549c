"""``Conv2d``: a learned 2-D cross-correlation (``F.conv2d``) with PyTorch's constructor.

Parameters: ``weight`` (out_channels, in_channels/groups, kh, kw) and ``bias``
(out_channels,), initialised as Linear's with fan_in = in_channels/groups · kh · kw
(kaiming_uniform_(a=√5), bias U(±1/√fan_in)).  Shapes: (N, C_in, H, W) → (N, C_out, OH, OW),
OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1.

``padding`` is an int, a pair, ``'valid'`` or ``'same'``.  ``padding_mode='zeros'`` pads
inside the convolution; 'reflect', 'replicate' and 'circular' pad the input first with
``F.pad`` (PyTorch's ``_reversed_padding_repeated_twice``) and convolve unpadded.
A 3×3 kernel, stride 1, no padding maps 28×28 to 26×26, as in ``models/cnn.py``.
"""
from ... import creation
from ...ops.operands import int_pair
from .. import functional as F
from ..functional.conv import INVALID_PAIR, same_padding
from ..module import Module
from ..parameter import Parameter
from .linear import reset_weight_and_bias

__all__ = ["Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """y = x ⋆ W + b over 2-D images (cross-correlation, as every framework's "conv")."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size = int_pair(kernel_size, "kernel_size", "conv2d", INVALID_PAIR)
        stride = int_pair(stride, "stride", "conv2d", INVALID_PAIR)
        dilation = int_pair(dilation, "dilation", "conv2d", INVALID_PAIR)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = int_pair(padding, "padding", "conv2d", INVALID_PAIR)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups, self.padding_mode = dilation, groups, padding_mode
        self.transposed, self.output_padding = False, (0, 0)
        if padding == "same":
            (top, bottom), (left, right) = same_padding(kernel_size, dilation)
            self._reversed_padding_repeated_twice = (left, right, top, bottom)
        elif padding == "valid":
            self._reversed_padding_repeated_twice = (0, 0, 0, 0)
        else:
            self._reversed_padding_repeated_twice = (padding[1], padding[1],
                                                     padding[0], padding[0])
        self.weight = Parameter(creation.empty(
            (out_channels, in_channels // groups) + kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty((out_channels,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv2d(padded, weight, bias, self.stride, (0, 0), self.dilation, self.groups)
        return F.conv2d(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
