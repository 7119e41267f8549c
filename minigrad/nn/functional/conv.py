"""``F.conv2d``, ``F.conv1d`` and the transposed ``F.conv_transpose2d``/``conv_transpose1d``:
checked arguments, ``padding='same'/'valid'``, bias and unbatched input, around the
differentiable Functions of ``minigrad/ops/convolution.py``.

    y[n, o] = b[o] + Σ_{c ∈ group(o)} x[n, c] ⋆ w[o, c]          (⋆: cross-correlation)

Shapes: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw), bias (O,), output
(N, O, OH, OW) with OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1 (same for OW).
Gradients (derived in ``ops/convolution.py``; a wrong printed form: docs/seeds.md#errata-001):
dx = full convolution of dy with w, dw = Σ_n x ⋆ dy, db = Σ_{n, a, b} dy[n, :, a, b].

``padding='same'`` keeps H and W (stride 1 only): the total padding d(k − 1) is split as
PyTorch splits it, ⌊·/2⌋ on the top/left and the rest on the bottom/right; an odd total is
made symmetric by first zero-padding the input one more row/column at the bottom/right.

``conv1d`` is ``conv2d`` on a height-1 image: (N, C, L) → (N, C, 1, L), weight (O, C/g, k) →
(O, C/g, 1, k), stride/padding/dilation (1, s), (0, p), (1, d).  A kernel of height 1 over
one row reads exactly the 1-D windows, so values and gradients (of any order) are the 1-D
convolution's, not an approximation.

``conv_transpose2d(x, w)`` is the adjoint of ``conv2d`` for the same weight and geometry:
the map δ ↦ ∂⟨δ, conv2d(z, w)⟩/∂z, i.e. the Function ``Conv2dInputGrad`` applied to the
input as δ, with weight (C_in, C_out/g, kh, kw) read as conv2d's (O, C/g, kh, kw).  Its
output size is the conv2d input size that maps back to H:

    H_out = (H − 1)s − 2p + d(kh − 1) + output_padding + 1.

output_padding (< stride or < dilation) adds rows at the bottom/right that no window of
the forward conv2d reaches; when output_padding ≥ s (allowed when < d) the forward conv2d
of an H_out image would have ⌊output_padding/s⌋ more rows than x, so x is zero-padded to
that size first (the extra rows multiply nothing).  Gradients come from the closed family
(``ops/convolution.py``): dx = conv2d(dy, w), dw = Conv2dWeightGrad(dy, x).
"""
import numbers

from ...ops.convolution import Conv2d, Conv2dInputGrad, ConvGeometry
from ...ops.operands import check_same_device, check_tensor, int_pair
from .padding import pad
from ...amp.autocast_mode import autocast_op

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


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
    if input.dtype.kind not in "fV":
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


@autocast_op("conv2d")
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


#: PyTorch's error for a 1-D conv argument that is not an int or a one-element list.
INVALID_SINGLE = ("expected {name} to be a single integer value or a list of 1 values to match "
                  "the convolution dimensions, but got {name}={listed}")


def int_single(value, name):
    """A 1-D conv argument (an int or a one-element tuple/list) as a Python int."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (tuple, list)) and len(value) == 1 and isinstance(value[0],
                                                                          numbers.Integral):
        return int(value[0])
    listed = list(value) if isinstance(value, (tuple, list)) else value
    raise RuntimeError(INVALID_SINGLE.format(name=name, listed=listed))


def _check_1d(input, weight, op):
    check_tensor(input, op)
    check_tensor(weight, op, "weight")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to {op}, but got "
                           f"input of size: {list(input.shape)}")
    if weight.ndim != 3:
        batched = input.shape if input.ndim == 3 else (1,) + tuple(input.shape)
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {list(weight.shape)}, but got 3-dimensional "
                           f"input of size {list(batched)} instead")


@autocast_op("conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: (N, C, L) or (C, L) with weight (O, C/groups, k) → (N, O, OL),
    OL = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1; computed as conv2d on a height-1 image."""
    _check_1d(input, weight, "conv1d")
    stride, dilation = int_single(stride, "stride"), int_single(dilation, "dilation")
    if not isinstance(padding, str):
        padding = (0, int_single(padding, "padding"))
    batched = input if input.ndim == 3 else input.unsqueeze(0)
    # the channel check in conv2d would print the height-1 shapes; the other checks of
    # groups (type, sign, divisibility of the weight) are left to it
    valid_groups = isinstance(groups, numbers.Integral) and groups > 0 \
        and weight.shape[0] % groups == 0
    if valid_groups and weight.shape[1] * groups != batched.shape[1]:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(batched.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {batched.shape[1]} channels instead")
    out = conv2d(batched.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), padding,
                 (1, dilation), groups).squeeze(2)
    return out if input.ndim == 3 else out.squeeze(0)


def check_conv_operands(input, weight, bias, op, spatial):
    """PyTorch's checks of a ``spatial``-D convolution's operands: Tensors, an input of
    ``spatial + 1`` (unbatched) or ``spatial + 2`` dims, a weight of ``spatial + 2``, one
    device and one dtype."""
    check_tensor(input, op)
    check_tensor(weight, op, "weight")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) "
                           f"input to {op}, but got input of size: {list(input.shape)}")
    if weight.ndim != spatial + 2:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {list(weight.shape)}, but got {spatial + 2}-"
                           f"dimensional input of size {list(input.shape)} instead")
    tensors = [input, weight] + ([bias] if bias is not None else [])
    check_same_device(tensors, op)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        names = ", ".join(f"{n} {t.dtype}" for n, t in zip(("input", "weight", "bias"), tensors))
        raise RuntimeError(f"{op}: expected input, weight and bias to have the same dtype, but "
                           f"got {names}")


def _check_transposed(input, weight, bias, groups, op, spatial):
    check_conv_operands(input, weight, bias, op, spatial)
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f"{op}: expected a floating point input, but got dtype "
                                  f"{input.dtype}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    batched = input if input.ndim == spatial + 2 else input.unsqueeze(0)
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size [{list(weight.shape)}] instead")
    if weight.shape[0] != batched.shape[1]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(batched.shape)} to have {weight.shape[0]} channels, but "
                           f"got {batched.shape[1]} channels instead")
    out_channels = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {out_channels} elements, but got bias "
                           f"of size {list(bias.shape)} instead")
    return batched


def _transposed_geometry(values, op):
    """stride, padding, output_padding, dilation as pairs, with PyTorch's checks."""
    stride, padding, output_padding, dilation = values
    for name, value in (("padding", padding), ("output_padding", output_padding)):
        if isinstance(value, str):
            raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not str")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    return stride, padding, output_padding, dilation


def _conv_transpose(batched, weight, bias, stride, padding, output_padding, dilation, groups,
                    spatial):
    """conv_transpose2d of a batched 4-D input with pair geometry (``spatial`` only names the
    dims in messages)."""
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width") if spatial == 2 else ("width",)
        pick = (lambda pair: pair) if spatial == 2 else (lambda pair: pair[1:])
        listed = " ".join(f"{label}_{name}: {v}" for label, pair in
                          (("output_padding", output_padding), ("stride", stride),
                           ("dilation", dilation)) for name, v in zip(names, pick(pair)))
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but "
                           f"got {listed}")
    kernel = weight.shape[2:]
    sizes = tuple(batched.shape[2:])
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                zip(sizes, stride, padding, dilation, kernel, output_padding))
    if min(out) <= 0:
        shown = sizes if spatial == 2 else sizes[1:]
        given = " x ".join(str(v) for v in shown)
        calculated = " x ".join(str(v) for v in (out if spatial == 2 else out[1:]))
        raise RuntimeError(f"Given input size per channel: ({given}). Calculated output size per "
                           f"channel: ({calculated}). Output size is too small")
    # rows (columns) conv2d of the output would produce; more than x has when op ≥ s
    forward = [(o + 2 * p - d * (k - 1) - 1) // s + 1 for o, p, d, k, s in
               zip(out, padding, dilation, kernel, stride)]
    extra = [f - n for f, n in zip(forward, sizes)]
    if any(extra):
        batched = pad(batched, (0, extra[1], 0, extra[0]))
    x_shape = (batched.shape[0], weight.shape[1] * groups) + out
    result = Conv2dInputGrad.apply(batched, weight, x_shape,
                                   ConvGeometry(stride, padding, dilation, int(groups)))
    if bias is not None:
        result = result + bias.reshape(1, -1, 1, 1)
    return result


@autocast_op("conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution (the adjoint of conv2d; "deconvolution"):
    (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw) → (N, C_out, H_out, W_out)."""
    batched = _check_transposed(input, weight, bias, groups, "conv_transpose2d", 2)
    op = "conv_transpose2d"
    geometry = [int_pair(v, name, op, INVALID_PAIR) if not isinstance(v, str) else v
                for v, name in ((stride, "stride"), (padding, "padding"),
                                (output_padding, "output_padding"), (dilation, "dilation"))]
    stride, padding, output_padding, dilation = _transposed_geometry(geometry, op)
    out = _conv_transpose(batched, weight, bias, stride, padding, output_padding, dilation,
                          groups, 2)
    return out if input.ndim == 4 else out.squeeze(0)


@autocast_op("conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution: (N, C_in, L) with weight (C_in, C_out/groups, k) →
    (N, C_out, (L − 1)s − 2p + d(k − 1) + output_padding + 1); conv_transpose2d at height 1."""
    batched = _check_transposed(input, weight, bias, groups, "conv_transpose1d", 1)
    op = "conv_transpose1d"
    geometry = [v if isinstance(v, str) else (1 if name in ("stride", "dilation") else 0,
                                              int_single(v, name))
                for v, name in ((stride, "stride"), (padding, "padding"),
                                (output_padding, "output_padding"), (dilation, "dilation"))]
    stride, padding, output_padding, dilation = _transposed_geometry(geometry, op)
    out = _conv_transpose(batched.unsqueeze(2), weight.unsqueeze(2), bias, stride, padding,
                          output_padding, dilation, groups, 1).squeeze(2)
    return out if input.ndim == 3 else out.squeeze(0)
