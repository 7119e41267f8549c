"""``F.conv3d``, ``F.conv_transpose3d``, ``F.avg_pool3d``, ``F.max_pool3d``,
``F.adaptive_avg_pool3d``: the 3-D (volumetric) layers, built
from the 2-D ones by splitting the depth axis, so values and gradients (of any order) are
those of ``conv2d``/``conv_transpose2d``/``avg_pool2d`` composed with slicing and sums.

conv3d — input (N, C, D, H, W) or (C, D, H, W), weight (O, C/groups, kd, kh, kw):

    y[n, o, t] = b[o] + Σ_{u < kd} conv2d(xpad[n, :, t·s_d + u·d_d], w[:, :, u])[o]

i.e. depth tap u reads the depth plane t·s_d + u·d_d of the depth-padded input.  All OD
output planes of one tap are one conv2d over a batch of N·OD images.  Output
OD = ⌊(D + 2p_d − d_d(kd − 1) − 1)/s_d⌋ + 1 (same for OH, OW).
Gradients: those of conv2d (``ops/convolution.py``) routed back through the slices.

conv_transpose3d — the adjoint of conv3d: input (N, C_in, D, H, W), weight
(C_in, C_out/groups, kd, kh, kw).  Each input plane t and depth tap u adds
conv_transpose2d(x[:, :, t], w[:, :, u]) to output plane t·s_d + u·d_d − p_d:

    y = Σ_u shift_{u·d_d − p_d}(dilate_{s_d}(conv_transpose2d(x, w[:, :, u])))

with D_out = (D − 1)s_d − 2p_d + d_d(kd − 1) + output_padding_d + 1.

avg_pool3d — y[n, c, t, a, b] = (window sum of zero-padded x) / divisor, the window sum
being avg_pool2d's (divisor 1) over H, W followed by a sum of kd strided depth slices.
The divisor is separable: per axis, a window starting at i = o·s − p counts
min(i + k, L + p) − i cells (``count_include_pad``) or min(i + k, L) − max(i, 0) cells,
and the 3-D divisor is the product of the three (PyTorch's rule, also in ceil mode);
``divisor_override`` replaces it.  dx: dy / divisor spread evenly over each window.

max_pool3d — y[n, c, t, a, b] = max_u m[n, c, t·s_d − p_d + u·d_d, a, b] where m is
max_pool2d of every depth plane and planes outside the input are −∞; the first maximal
depth tap wins (``max(dim)``), so, with max_pool2d's first maximum in each plane, the
gradient goes to the first maximum in (depth, row, column) order, as PyTorch's.  Indices:
flat positions d·H·W + h·W + w in each (D·H·W) volume.

lp_pool3d — (sign(s)·relu(|s|)·kd·kh·kw)^(1/p) of the window means s = avg_pool3d(x^p)
(PyTorch's formula; p = ±∞ is max pooling of ±|x|).  max_unpool3d — max_unpool2d of the
(D, H·W) view: the flat D·H·W indices are flat indices of that plane.

adaptive_max_pool3d — adaptive_max_pool2d's arg-max in every depth plane, then the first
maximal plane of each adaptive depth window [⌊a·D/OD⌋, ⌈(a+1)·D/OD⌉); the values are a
gather at the flat D·H·W indices, so the gradient goes to that one voxel, as in PyTorch.

adaptive_avg_pool3d — y = x ×_D R_D ×_H R_H ×_W R_W with R = adaptive_pool_matrix (row a
averages PyTorch's window [⌊a·in/out⌋, ⌈(a+1)·in/out⌉)); adaptive windows are separable.
"""
import numbers

import numpy as np

from ...ops.operands import check_tensor
from ...ops.pooling import PlaneGather, adaptive_average_pool2d, adaptive_pool_matrix
from ...ops.joining import stack
from ...tensor import Tensor
from .conv import check_conv_operands, conv2d, conv_transpose2d, same_padding
from .padding import pad
from .pooling import (_lp_finish, _max_unpool, _output_size, _tuple, _unpool_output_size,
                      adaptive_max_pool2d_with_indices, avg_pool2d, max_pool2d_with_indices)
from ...amp.autocast_mode import autocast_op

__all__ = ["conv3d", "conv_transpose3d", "avg_pool3d", "max_pool3d", "max_pool3d_with_indices",
           "adaptive_avg_pool3d", "lp_pool3d", "max_unpool3d",
           "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices"]


def int_triple(value, name, op):
    """An int or a tuple/list of one or three ints as a triple (PyTorch's ``_triple``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * 3
    if isinstance(value, (tuple, list)) and len(value) in (1, 3) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value) if len(value) == 3 else (int(value[0]),) * 3
    listed = list(value) if isinstance(value, (tuple, list)) else value
    raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of 3 "
                       f"values to match the convolution dimensions, but got {name}={listed}")


def _check_5d(input, weight, bias, op):
    check_conv_operands(input, weight, bias, op, 3)
    return input if input.ndim == 5 else input.unsqueeze(0)


@autocast_op("conv3d")
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of ``input`` with ``weight`` plus ``bias``, PyTorch's conv3d.

    ``stride``, ``dilation``: int or triple; ``padding``: int, triple, ``'valid'`` or
    ``'same'`` (stride 1 only)."""
    op = "conv3d"
    batched = _check_5d(input, weight, bias, op)
    stride, dilation = int_triple(stride, "stride", op), int_triple(dilation, "dilation", op)
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if isinstance(groups, numbers.Integral) and groups > 0 and \
            weight.shape[1] * groups != batched.shape[1]:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(batched.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {batched.shape[1]} channels instead")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            if stride != (1, 1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            splits = same_padding(kernel, dilation)
            batched = pad(batched, (splits[2][0], splits[2][1], splits[1][0], splits[1][1],
                                    splits[0][0], splits[0][1]))
            padding = (0, 0, 0)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = int_triple(padding, "padding", op)
        if min(padding) < 0:
            raise RuntimeError("negative padding is not supported")
    if padding[0]:
        batched = pad(batched, (0, 0, 0, 0, padding[0], padding[0]))
    n, c, depth, h, w = batched.shape
    span = dilation[0] * (kernel[0] - 1) + 1
    sizes = (depth, h + 2 * padding[1], w + 2 * padding[2])
    if any(size < dilation[a] * (kernel[a] - 1) + 1 for a, size in enumerate(sizes)):
        spans = " x ".join(str(dilation[a] * (kernel[a] - 1) + 1) for a in range(3))
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(str(v) for v in sizes)}). Kernel size: ({spans}). "
                           f"Kernel size can't be greater than actual input size")
    out_depth = (depth - span) // stride[0] + 1
    out = None
    for u in range(kernel[0]):
        start = u * dilation[0]
        planes = batched[:, :, start:start + stride[0] * (out_depth - 1) + 1:stride[0]]
        planes = planes.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, h, w)
        tap = conv2d(planes, weight[:, :, u], None, stride[1:], padding[1:], dilation[1:], groups)
        out = tap if out is None else out + tap
    out = out.reshape((n, out_depth) + tuple(out.shape[1:])).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out if input.ndim == 5 else out.squeeze(0)


@autocast_op("conv_transpose3d")
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution (the adjoint of conv3d): (N, C_in, D, H, W) with weight
    (C_in, C_out/groups, kd, kh, kw) → (N, C_out, D_out, H_out, W_out)."""
    op = "conv_transpose3d"
    batched = _check_5d(input, weight, bias, op)
    if weight.shape[0] != batched.shape[1]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(batched.shape)} to have {weight.shape[0]} channels, but "
                           f"got {batched.shape[1]} channels instead")
    for name, value in (("padding", padding), ("output_padding", output_padding)):
        if isinstance(value, str):
            raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not str")
    stride, padding = int_triple(stride, "stride", op), int_triple(padding, "padding", op)
    output_padding = int_triple(output_padding, "output_padding", op)
    dilation = int_triple(dilation, "dilation", op)
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        listed = " ".join(f"{label}_{axis}: {v}" for label, triple in
                          (("output_padding", output_padding), ("stride", stride),
                           ("dilation", dilation))
                          for axis, v in zip(("depth", "height", "width"), triple))
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but "
                           f"got {listed}")
    n, c, depth, h, w = batched.shape
    kd = weight.shape[2]
    full = (depth - 1) * stride[0] + dilation[0] * (kd - 1) + 1 + output_padding[0]
    out_depth = full - 2 * padding[0]
    if out_depth <= 0:
        raise RuntimeError(f"Given input size per channel: ({depth} x {h} x {w}). Calculated "
                           f"output size per channel: ({out_depth} x ...). Output size is too "
                           f"small")
    planes = batched.permute(0, 2, 1, 3, 4).reshape(n * depth, c, h, w)
    dilated = (depth - 1) * stride[0] + 1
    out = None
    for u in range(kd):
        tap = conv_transpose2d(planes, weight[:, :, u], None, stride[1:], padding[1:],
                               output_padding[1:], groups, dilation[1:])
        tap = tap.reshape((n, depth) + tuple(tap.shape[1:])).permute(0, 2, 3, 4, 1)
        if stride[0] > 1:  # put the D planes s_d apart
            tap = pad(tap.unsqueeze(-1), (0, stride[0] - 1))
            tap = tap.reshape(tuple(tap.shape[:4]) + (depth * stride[0],))[..., :dilated]
        before = u * dilation[0]
        tap = pad(tap, (before, full - before - dilated))
        out = tap if out is None else out + tap
    out = out[..., padding[0]:padding[0] + out_depth].permute(0, 1, 4, 2, 3)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out if input.ndim == 5 else out.squeeze(0)


def _window_counts(size, kernel, stride, padding, out, include_pad):
    """Cells each of the ``out`` windows along one axis averages over."""
    start = np.arange(out) * stride - padding
    if include_pad:
        return np.minimum(start + kernel, size + padding) - start
    return np.minimum(start + kernel, size) - np.maximum(start, 0)


@autocast_op("avg_pool3d")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling of (N, C, D, H, W) or (C, D, H, W); ``stride`` defaults to
    ``kernel_size``; padding at most half the kernel; divisor as in the module docstring."""
    op = "avg_pool3d"
    check_tensor(input, op)
    if input.ndim not in (4, 5) or any(v == 0 for v in input.shape[-4:]):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    k = int_triple(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else int_triple(stride, "stride", op)
    p = int_triple(padding, "padding", op)
    if min(k) <= 0:
        raise RuntimeError("kernel_size must be greater than zero")
    if min(s) <= 0:
        raise RuntimeError("stride should not be zero")
    bad = [a for a in range(3) if p[a] < 0 or p[a] > k[a] // 2]
    if bad:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={p[bad[0]]}, kernel_size={k[bad[0]]} and dilation=1")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    batched = input if input.ndim == 5 else input.unsqueeze(0)
    n, c, depth, h, w = batched.shape
    if depth < k[0] or h < k[1] or w < k[2]:
        raise RuntimeError(f"input image (T: {depth} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    outs = [_output_size(size, k[a], s[a], p[a], 1, ceil_mode)
            for a, size in enumerate((depth, h, w))]
    if min(outs) < 1:
        raise RuntimeError(f"Given input size: ({c}x{depth}x{h}x{w}). Calculated output size: "
                           f"({c}x{outs[0]}x{outs[1]}x{outs[2]}). Output size is too small")
    sums = avg_pool2d(batched.reshape(n, c * depth, h, w), k[1:], s[1:], p[1:], ceil_mode,
                      True, 1)
    sums = sums.reshape(n, c, depth, outs[1], outs[2]).permute(0, 1, 3, 4, 2)
    reach = (outs[0] - 1) * s[0] + k[0]  # padded depth the last window reaches
    sums = pad(sums, (p[0], max(0, reach - depth - p[0])))
    out = None
    for u in range(k[0]):
        tap = sums[..., u:u + s[0] * (outs[0] - 1) + 1:s[0]]
        out = tap if out is None else out + tap
    out = out.permute(0, 1, 4, 2, 3)
    if divisor_override is not None:
        out = out / int(divisor_override)
    else:
        counts = [_window_counts(size, k[a], s[a], p[a], outs[a], count_include_pad)
                  for a, size in enumerate((depth, h, w))]
        divisor = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
        out = out / Tensor._wrap(out.xp.asarray(divisor, dtype=out.dtype))
    return out if input.ndim == 5 else out.squeeze(0)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``(values, indices)`` of 3-D max pooling; indices are int64 flat positions in each
    (D·H·W) input volume."""
    op = "max_pool3d"
    check_tensor(input, op)
    if input.ndim not in (4, 5) or any(v == 0 for v in input.shape[-4:]):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    k = int_triple(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else int_triple(stride, "stride", op)
    p, d = int_triple(padding, "padding", op), int_triple(dilation, "dilation", op)
    if min(k) <= 0:
        raise RuntimeError("kernel_size must be greater than zero")
    if min(s) <= 0:
        raise RuntimeError("stride should not be zero")
    if min(d) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    bad = [a for a in range(3) if p[a] < 0 or p[a] > k[a] // 2]
    if bad:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={p[bad[0]]}, kernel_size={k[bad[0]]} and dilation={d[bad[0]]}")
    batched = input if input.ndim == 5 else input.unsqueeze(0)
    n, c, depth, h, w = batched.shape
    outs = [_output_size(size, k[a], s[a], p[a], d[a], ceil_mode)
            for a, size in enumerate((depth, h, w))]
    if min(outs) < 1:
        raise RuntimeError(f"Given input size: ({c}x{depth}x{h}x{w}). Calculated output size: "
                           f"({c}x{outs[0]}x{outs[1]}x{outs[2]}). Output size is too small")
    planes, plane_index = max_pool2d_with_indices(batched.reshape(n, c * depth, h, w), k[1:],
                                                  s[1:], p[1:], d[1:], ceil_mode)
    planes = planes.reshape(n, c, depth, outs[1], outs[2]).permute(0, 1, 3, 4, 2)
    reach = (outs[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1
    planes = pad(planes, (p[0], max(0, reach - depth - p[0])), value=float("-inf"))
    last = s[0] * (outs[0] - 1) + 1
    taps = stack([planes[..., u * d[0]:u * d[0] + last:s[0]] for u in range(k[0])])
    values, tap = taps.max(dim=0)
    values = values.permute(0, 1, 4, 2, 3)
    xp = values.xp
    source = (xp.arange(outs[0]) * s[0] - p[0])[:, None, None] \
        + tap.array.transpose(0, 1, 4, 2, 3) * d[0]
    plane_index = plane_index.array.reshape(n, c, depth, outs[1], outs[2])
    indices = source * (h * w) + xp.take_along_axis(plane_index, source, axis=2)
    indices = Tensor._wrap(indices.astype(xp.int64))
    if input.ndim == 4:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return values, indices


@autocast_op("max_pool3d")
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W); ``(values, indices)`` with
    ``return_indices``."""
    values, indices = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation,
                                              ceil_mode)
    return (values, indices) if return_indices else values


@autocast_op("adaptive_avg_pool3d")
def adaptive_avg_pool3d(input, output_size):
    """Average over PyTorch's adaptive windows along D, H and W; ``output_size``: int or
    triple, None keeping that input size."""
    check_tensor(input, "adaptive_avg_pool3d")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got "
                           f"{list(input.shape)}")
    sizes = tuple(input.shape[-3:])
    if output_size is None or isinstance(output_size, (tuple, list)):
        given = (None,) * 3 if output_size is None else tuple(output_size)
        if len(given) != 3:
            raise RuntimeError(f"adaptive_avg_pool3d: output_size must be 3, but got "
                               f"{len(given)}")
    else:
        given = (output_size,) * 3
    outs = tuple(sizes[a] if v is None else int(v) for a, v in enumerate(given))
    out = adaptive_average_pool2d(input, outs[1:])           # (..., D, OH, OW)
    rows = Tensor._wrap(adaptive_pool_matrix(sizes[0], outs[0], out.xp, out.dtype))
    return (out.transpose(-3, -1) @ rows.T).transpose(-3, -1)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling (Σ_window x^p)^(1/p) over kd×kh×kw windows."""
    k = int_triple(kernel_size, "kernel_size", "lp_pool3d")
    if norm_type == float("inf"):
        return max_pool3d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool3d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool3d(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, k[0] * k[1] * k[2])


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``: each value written at its arg-max position in
    a zero (N, C, OD, OH, OW) volume, OD = (D − 1)s + k − 2p unless ``output_size`` picks
    another size within one stride."""
    check_tensor(input, "max_unpool3d")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a "
                           f"tensor with {input.ndim} dimensions.")
    kernel_size = _tuple(kernel_size, 3)
    stride = _tuple(stride, 3) if stride is not None else kernel_size
    padding = _tuple(padding, 3)
    size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    lead = tuple(input.shape[:-3])
    plane = lambda t: t.reshape(lead + (t.shape[-3], t.shape[-2] * t.shape[-1]))  # noqa: E731
    out = _max_unpool(plane(input), plane(indices), [size[0], size[1] * size[2]], "max_unpool3d")
    return out.reshape(lead + tuple(size))


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``(values, indices)`` of 3-D adaptive max pooling; indices flat in each D·H·W
    volume (the first maximum in (depth, row, column) order)."""
    op = "adaptive_max_pool3d"
    check_tensor(input, op)
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{op}(): Expected 4D or 5D tensor, but got: {list(input.shape)}")
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    given = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    sizes = tuple(input.shape[-3 + a] if v is None else int(v) for a, v in enumerate(given))
    batched = input if input.ndim == 5 else input.unsqueeze(0)
    n, c, depth, h, w = batched.shape
    planes, plane_index = adaptive_max_pool2d_with_indices(
        batched.detach().reshape(n, c * depth, h, w), sizes[1:])
    xp = planes.xp
    values = planes.array.reshape(n, c, depth, sizes[1], sizes[2])
    plane_index = plane_index.array.reshape(n, c, depth, sizes[1], sizes[2])
    flat = []
    for a in range(sizes[0]):
        start, end = (a * depth) // sizes[0], -((-(a + 1) * depth) // sizes[0])
        chosen = start + values[:, :, start:end].argmax(axis=2)[:, :, None]
        flat.append(chosen[:, :, 0] * (h * w)
                    + xp.take_along_axis(plane_index, chosen, axis=2)[:, :, 0])
    flat = xp.stack(flat, axis=2).astype(xp.int64)          # (N, C, OD, OH, OW)
    gather = Tensor._wrap(flat.reshape(n, c, sizes[0], sizes[1] * sizes[2]))
    out = PlaneGather.apply(batched.reshape(n, c, depth, h * w), gather)
    out, indices = out.reshape(n, c, *sizes), Tensor._wrap(flat)
    if input.ndim == 4:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return out, indices


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows along D, H, W; with ``return_indices`` also the
    arg-max positions."""
    values, indices = adaptive_max_pool3d_with_indices(input, output_size)
    return (values, indices) if return_indices else values
