"""``F.max_pool2d``, ``F.avg_pool2d``, ``F.adaptive_avg_pool2d``: PyTorch's argument rules
and messages around the Functions of ``minigrad/ops/pooling.py``.

    max_pool2d  y[n, c, a, b] = max over the window at (a·s − p, b·s − p), taps d apart
                dx: dy routed to each window's arg-max (summed where windows share it)
    avg_pool2d  y[n, c, a, b] = (window sum of zero-padded x) / D[a, b]
                dx: dy / D spread evenly over each window
    adaptive_avg_pool2d  y = mean over PyTorch's adaptive windows, any (OH, OW)

Shapes: (N, C, H, W) or unbatched (C, H, W) → (N, C, OH, OW) with
OH = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1 (⌈·⌉ in ceil mode, whose last window must start inside
the input or the left padding).  ``stride`` defaults to ``kernel_size``.  Padding may be at
most half the kernel.  A CNN's shapes (26×26 → 2×2 max pool → 13×13, 11×11 → 5×5, floor
mode) are tested in ``tests/nn/test_functional_conv.py``.
"""
import numpy as np

from ... import dtypes
from ...ops import pointwise
from ...ops.operands import check_tensor, int_pair
from ...ops.rounding import sign
from ...ops.pooling import (AvgPool2d, AvgPoolWindow, MaxPool2d, MaxPoolWindow, MaxUnpool2d,
                            PlaneGather, adaptive_average_pool2d)
from ...tensor import Tensor

__all__ = ["max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d",
           "max_unpool2d", "max_unpool1d", "max_pool1d", "max_pool1d_with_indices",
           "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool1d",
           "adaptive_max_pool1d_with_indices", "lp_pool1d", "lp_pool2d"]


#: PyTorch's error for a kernel_size, stride, padding or dilation that is not an int or pair.
_INVALID_PAIR = ("{op}: {name} must either be a single int, or a tuple of two ints "
                 "(got {name}={value!r})")


def _output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's ``pooling_output_shape``: windows along one axis (may be ≤ 0)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def _pool_geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check and normalise pooling arguments; returns (batched input, k, s, p, d)."""
    check_tensor(input, op)
    if input.ndim not in (3, 4) or any(n == 0 for n in input.shape[-3:]):
        raise RuntimeError(f"{op}: non-empty 3D or 4D (batch mode) tensor expected for input, "
                           f"but got input of size {list(input.shape)}")
    k = int_pair(kernel_size, "kernel_size", op, _INVALID_PAIR)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else int_pair(stride, "stride", op, _INVALID_PAIR)
    p = int_pair(padding, "padding", op, _INVALID_PAIR)
    d = int_pair(dilation, "dilation", op, _INVALID_PAIR)
    if min(k) <= 0:
        raise RuntimeError(f"kernel_size must be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if min(s) <= 0:
        raise RuntimeError("stride should not be zero")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        bad = 0 if p[0] > k[0] // 2 or p[0] < 0 else 1
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={p[bad]}, kernel_size={k[bad]} and dilation={d[bad]}")
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    c, h, w = batched.shape[1:]
    oh, ow = (_output_size(n, k[a], s[a], p[a], d[a], ceil_mode) for a, n in enumerate((h, w)))
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")
    return batched, k, s, p, d


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``(values, indices)`` of 2-D max pooling; indices are int64 flat positions in each
    (H·W) input plane, as ``F.max_unpool2d`` expects."""
    batched, k, s, p, d = _pool_geometry("max_pool2d", input, kernel_size, stride, padding,
                                         dilation, ceil_mode)
    values, indices = MaxPool2d.apply(batched, MaxPoolWindow(k, s, p, d, bool(ceil_mode)))
    if input.ndim == 3:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return values, indices


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling (padding counts as −∞); with ``return_indices`` also the arg-max
    positions."""
    values, indices = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation,
                                              ceil_mode)
    return (values, indices) if return_indices else values


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling; the divisor is ``divisor_override`` if given, else the window
    area clipped to the padded input (``count_include_pad``) or to the input itself."""
    batched, k, s, p, _ = _pool_geometry("avg_pool2d", input, kernel_size, stride, padding, 1,
                                         ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if batched.dtype.kind not in "fV":
        raise RuntimeError(f"avg_pool2d: expected a floating point input, got dtype {input.dtype}")
    window = AvgPoolWindow(k, s, p, bool(ceil_mode), bool(count_include_pad),
                           None if divisor_override is None else int(divisor_override))
    out = AvgPool2d.apply(batched, window)
    return out.squeeze(0) if input.ndim == 3 else out


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive windows: output cell a covers input rows
    [⌊a·H/OH⌋, ⌈(a+1)·H/OH⌉), likewise columns.  ``output_size``: int or pair, where None
    keeps that input size."""
    check_tensor(input, "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(input.shape)}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(f"adaptive_avg_pool2d: output_size must be 2, got "
                               f"{len(output_size)} values ({list(output_size)})")
        sizes = tuple(input.shape[-2 + a] if o is None else int(o)
                      for a, o in enumerate(output_size))
    else:
        sizes = (int(output_size), int(output_size))
    if min(sizes) < 0 or any(n == 0 for n in input.shape[-2:]):
        raise RuntimeError(f"adaptive_avg_pool2d(): expected a non-negative output_size and "
                           f"non-empty spatial dims, got output_size {list(sizes)} for input "
                           f"{list(input.shape)}")
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"adaptive_avg_pool2d: expected a floating point input, got dtype "
                           f"{input.dtype}")
    return adaptive_average_pool2d(input, sizes)


def _tuple(value, n):
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """PyTorch's ``_unpool_output_size``: the default (H − 1)s + k − 2p per dim, or a
    requested size strictly within a stride of it."""
    n = len(kernel_size)
    default = [(input.shape[input.ndim - n + d] - 1) * stride[d] + kernel_size[d]
               - 2 * padding[d] for d in range(n)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, "
                         f"but it has a length of '{len(output_size)}'")
    for d in range(n):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f'{low} and {high})')
    return [int(v) for v in output_size]


def _max_unpool(input, indices, size, op):
    """Scatter a batched or unbatched (C, H, W) input into zeros of spatial ``size``."""
    check_tensor(input, op)
    check_tensor(indices, op, "indices")
    if indices.dtype != dtypes.int64:
        names = {"int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "float32": "Float", "float64": "Double", "bool": "Bool"}
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{names.get(str(indices.dtype), indices.dtype)}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a "
                           f"tensor with {input.ndim} dimensions.")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f"\"max_unpool2d\" not implemented for '{input.dtype}'")
    oh, ow = size
    flat = indices.array.reshape(-1)
    invalid = (flat < 0) | (flat >= oh * ow)
    if bool(invalid.any()):
        bad = int(flat[int(invalid.argmax())])      # PyTorch names one (not always the first)
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{oh}x{ow})")
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    index = indices if indices.ndim == 4 else indices.unsqueeze(0)
    out = MaxUnpool2d.apply(batched, index, tuple(batched.shape[:2]) + (oh, ow))
    return out if input.ndim == 4 else out.squeeze(0)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: each value written at its arg-max position
    (``indices`` from ``return_indices=True``) in a zero (N, C, OH, OW) output, OH = (H − 1)s
    + k − 2p unless ``output_size`` picks another size within one stride."""
    kernel_size = _tuple(kernel_size, 2)
    stride = _tuple(stride, 2) if stride is not None else kernel_size
    padding = _tuple(padding, 2)
    size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    return _max_unpool(input, indices, size, "max_unpool2d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_unpool2d`` for (N, C, L) or (C, L) input (``indices`` from max_pool1d)."""
    kernel_size = _tuple(kernel_size, 1)
    stride = _tuple(stride, 1) if stride is not None else kernel_size
    padding = _tuple(padding, 1)
    size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    return _max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1],
                       "max_unpool1d").squeeze(-1)


# ------------------------------------------------------------------------- 1-D pooling
# A 1-D pool over (N, C, L) is the 2-D pool of the (N, C, 1, L) image with a height-1
# window: the same windows, the same divisors, and flat plane indices l·1 + 0 = l.
def _single(value, name, op):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{op}() {name} must be an int, list of ints or tuple of ints of "
                               f"size 1 but got size {len(value)}")
        value = value[0]
    return int(value)


def _as_image(input, op):
    check_tensor(input, op)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {op})")
    return input.unsqueeze(-2)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``(values, indices)`` of 1-D max pooling over (N, C, L) or (C, L); indices are
    positions along L."""
    op = "max_pool1d"
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(stride, "stride", op)
    values, indices = max_pool2d_with_indices(
        _as_image(input, op), (1, k), (1, s), (0, _single(padding, "padding", op)),
        (1, _single(dilation, "dilation", op)), ceil_mode)
    return values.squeeze(-2), indices.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling; with ``return_indices`` also the arg-max positions."""
    values, indices = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation,
                                              ceil_mode)
    return (values, indices) if return_indices else values


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L)."""
    op = "avg_pool1d"
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(stride, "stride", op)
    out = avg_pool2d(_as_image(input, op), (1, k), (1, s), (0, _single(padding, "padding", op)),
                     ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Average over PyTorch's adaptive windows along L: cell a covers [⌊aL/OL⌋, ⌈(a+1)L/OL⌉)."""
    op = "adaptive_avg_pool1d"
    size = _single(output_size, "output_size", op)
    return adaptive_avg_pool2d(_as_image(input, op), (1, size)).squeeze(-2)


# ------------------------------------------------------------------ adaptive max pooling
def _adaptive_windows(xp, in_size, out_size):
    """(index (out, K), valid (out, K)) of PyTorch's adaptive windows along one dim: cell a
    covers [⌊a·in/out⌋, ⌈(a+1)·in/out⌉), K the longest window (shorter ones padded)."""
    a = np.arange(out_size)
    start = (a * in_size) // out_size
    end = ((a + 1) * in_size + out_size - 1) // out_size
    width = int((end - start).max()) if out_size else 0
    index = start[:, None] + np.arange(width)[None, :]
    valid = index < end[:, None]
    return xp.asarray(np.minimum(index, in_size - 1)), xp.asarray(valid)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``(values, indices)`` of adaptive max pooling: the max of each adaptive window (as
    adaptive_avg_pool2d's) and its flat position in the (H·W) plane (the first maximum in
    row-major order).  The values are a gather at those indices, so the gradient goes to
    that one pixel, as in PyTorch."""
    op = "adaptive_max_pool2d"
    check_tensor(input, op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f"\"{op}\" not implemented for '{input.dtype}'")
    if isinstance(output_size, (tuple, list)):
        sizes = tuple(input.shape[-2 + a] if o is None else int(o)
                      for a, o in enumerate(output_size))
    else:
        sizes = (int(output_size), int(output_size))
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    xp, (h, w) = batched.xp, batched.shape[2:]
    rows, row_ok = _adaptive_windows(xp, h, sizes[0])
    cols, col_ok = _adaptive_windows(xp, w, sizes[1])
    # (N, C, OH, Kh, OW, Kw) windows, the padding of short windows at -inf
    windows = batched.array[:, :, rows[:, :, None, None], cols[None, None, :, :]]
    ok = row_ok[:, :, None, None] & col_ok[None, None, :, :]
    windows = xp.where(ok, windows, -xp.inf).transpose(0, 1, 2, 4, 3, 5)
    n, c, oh, ow, kh, kw = windows.shape
    local = windows.reshape(n, c, oh, ow, kh * kw).argmax(-1)
    flat = (rows[xp.arange(oh)[:, None], local // kw] * w
            + cols[xp.arange(ow)[None, :], local % kw])
    values = PlaneGather.apply(batched, Tensor._wrap(flat.astype(xp.int64)))
    indices = Tensor._wrap(flat.astype(xp.int64))
    if input.ndim == 3:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return values, indices


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows (see adaptive_avg_pool2d); with
    ``return_indices`` also the arg-max positions."""
    values, indices = adaptive_max_pool2d_with_indices(input, output_size)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``(values, indices)`` of adaptive max pooling along L of (N, C, L) or (C, L)."""
    size = _single(output_size, "output_size", "adaptive_max_pool1d")
    values, indices = adaptive_max_pool2d_with_indices(
        _as_image(input, "adaptive_max_pool1d"), (1, size))
    return values.squeeze(-2), indices.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows along L."""
    values, indices = adaptive_max_pool1d_with_indices(input, output_size)
    return (values, indices) if return_indices else values


# ------------------------------------------------------------------------- power pooling
def _lp_finish(out, norm_type, area):
    """(sign(s)·relu(|s|) · area)^(1/p) of the window means s of x^p (PyTorch's formula)."""
    return (sign(out) * pointwise.relu(pointwise.abs(out)) * area) ** (1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling (Σ_window x^p)^(1/p); p = ±inf is max pooling of ±|x|."""
    kh, kw = int_pair(kernel_size, "kernel_size", "lp_pool2d", _INVALID_PAIR)
    if norm_type == float("inf"):
        return max_pool2d(pointwise.abs(input), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool2d(-pointwise.abs(input), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, kw * kh)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling along L."""
    if norm_type == float("inf"):
        return max_pool1d(pointwise.abs(input), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool1d(-pointwise.abs(input), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, _single(kernel_size, "kernel_size", "lp_pool1d"))
