"""``F.conv2d``: checked arguments, ``padding='same'/'valid'``, bias and unbatched input,
around the differentiable ``Conv2d`` Function of ``minigrad/ops/convolution.py``.

    y[n, o] = b[o] + Σ_{c ∈ group(o)} x[n, c] ⋆ w[o, c]          (⋆: cross-correlation)

Shapes: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw), bias (O,), output
(N, O, OH, OW) with OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1 (same for OW).
Gradients (derived in ``ops/convolution.py``; a wrong printed form: docs/seeds.md#errata-001):
dx = full convolution of dy with w, dw = Σ_n x ⋆ dy, db = Σ_{n, a, b} dy[n, :, a, b].

``padding='same'`` keeps H and W (stride 1 only): the total padding d(k − 1) is split as
PyTorch splits it, ⌊·/2⌋ on the top/left and the rest on the bottom/right; an odd total is
made symmetric by first zero-padding the input one more row/column at the bottom/right.
"""
import numbers

from ...ops.convolution import Conv2d, ConvGeometry
from ...ops.operands import check_same_device, check_tensor, int_pair
from .padding import pad

__all__ = ["conv2d"]


#: PyTorch's error for a stride, padding, dilation (or kernel_size) that is not an int or pair.
INVALID_PAIR = ("{op}: expected {name} to be a single integer value or a list of 2 values to "
                "match the convolution dimensions, but got {name}={listed}")


def same_padding(kernel_size, dilation):
    """(left, right) zero padding per spatial dim that keeps the size at stride 1:
    the total d(k − 1) split as ⌊total/2⌋ before and the rest after (PyTorch's split)."""
    totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return [(t // 2, t - t // 2) for t in totals]


def _check_conv2d(input, weight, bias, groups):
    check_tensor(input, "conv2d")
    check_tensor(weight, "conv2d", "weight")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           f"input of size: {list(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: expected weight of 4 dimensions (out_channels, "
                           f"in_channels/groups, kH, kW), but got weight of size "
                           f"{list(weight.shape)}")
    tensors = [input, weight] + ([bias] if bias is not None else [])
    check_same_device(tensors, "conv2d")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        names = ", ".join(f"{n} {t.dtype}" for n, t in
                          zip(("input", "weight", "bias"), tensors))
        raise RuntimeError(f"conv2d: expected input, weight and bias to have the same dtype, "
                           f"but got {names}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"conv2d: expected a floating point input, but got dtype {input.dtype}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    out_channels, group_channels = weight.shape[:2]
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if group_channels * groups != batched.shape[1]:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(batched.shape)} to have {group_channels * groups} channels, "
                           f"but got {batched.shape[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    return batched


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` with ``weight`` plus ``bias``, PyTorch's conv2d.

    ``stride``, ``dilation``: int or pair; ``padding``: int, pair, ``'valid'`` (0) or
    ``'same'`` (output size = input size; stride 1 only)."""
    batched = _check_conv2d(input, weight, bias, groups)
    stride = int_pair(stride, "stride", "conv2d", INVALID_PAIR)
    dilation = int_pair(dilation, "dilation", "conv2d", INVALID_PAIR)
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    kernel_size = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            splits = same_padding(kernel_size, dilation)
            extra = [right - left for left, right in splits]
            if any(extra):
                batched = pad(batched, (0, extra[1], 0, extra[0]))
            padding = tuple(left for left, _ in splits)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = int_pair(padding, "padding", "conv2d", INVALID_PAIR)
        if min(padding) < 0:
            raise RuntimeError("negative padding is not supported")
    padded = [batched.shape[2 + a] + 2 * padding[a] for a in range(2)]
    span = [dilation[a] * (kernel_size[a] - 1) + 1 for a in range(2)]
    if padded[0] < span[0] or padded[1] < span[1]:
        raise RuntimeError(f"Calculated padded input size per channel: ({padded[0]} x {padded[1]}). "
                           f"Kernel size: ({span[0]} x {span[1]}). Kernel size can't be greater "
                           f"than actual input size")
    out = Conv2d.apply(batched, weight, ConvGeometry(stride, padding, dilation, int(groups)))
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out if input.ndim == 4 else out.squeeze(0)
