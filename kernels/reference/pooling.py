"""Reference 2-D max and average pooling, with PyTorch's padding and ceil_mode rules.

Shapes: ``x (N, C, H, W) -> y (N, C, OH, OW)``; window geometry as in ``windows.py``
(``OH = floor or ceil((H + 2ph − dh(kh−1) − 1)/sh) + 1``, the ceil-mode last window must
start inside the input or the left padding).  As in PyTorch, padding may be at most half
the kernel size, so that (almost) every window sees at least one real pixel.

Max pooling treats padding as −∞ and returns, like ``max_pool2d(return_indices=True)``,
the flat index ``row·W + col`` of each maximum inside its own (H·W) input plane:

    y[n, c, a, b] = max_{i, j} x[n, c, a·sh + i·dh − ph, b·sw + j·dw − pw]
    dx[n, c, p]   = Σ_{(a, b): indices[n, c, a, b] = p} dy[n, c, a, b]

Average pooling treats padding as 0 and divides by a per-window divisor ``D[a, b]``:

    y[n, c, a, b] = (1 / D[a, b]) Σ_{i, j} xpad[n, c, a·sh + i, b·sw + j]
    dx            = col2im of dy[n, c, a, b] / D[a, b] broadcast over each window

where ``D`` is ``divisor_override`` if given, else the window's area clipped to the
padded input (``count_include_pad=True``) or to the real input (``False``); the ceil-mode
overhang beyond the right padding never counts.
"""
from ..catalogue import CATALOGUE, get_array_module
from .windows import (crop_padding, gather_windows, output_shape, pad_for_windows, padded_extent,
                      scatter_windows)


def _check_padding(kernel_size, padding):
    for k, p in zip(kernel_size, padding):
        if p < 0 or p > k // 2:
            raise ValueError(f"pooling padding {tuple(padding)} must be at most half of "
                             f"kernel size {tuple(kernel_size)}")


def _lowest_value(xp, dtype):
    """The value padding takes in max pooling: −∞ for floats, the minimum for integers."""
    if dtype.kind in "fV":              # 'V': bfloat16 (ml_dtypes)
        return float("-inf")
    return xp.iinfo(dtype).min


@CATALOGUE.reference("max_pool2d_forward")
def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``y = max over each window``; ``indices`` = flat (H·W) index of the chosen pixel.

    ``x (N, C, H, W) -> (y (N, C, OH, OW), indices (N, C, OH, OW) int64)``.
    Ties go to the first maximum in row-major window order; a NaN wins over numbers and
    the last NaN in the window is chosen (both as in PyTorch's CPU kernel).  Windows
    lying entirely in the padding, which PyTorch accepts with a meaningless index, are
    rejected.
    """
    xp = get_array_module(x)
    _check_padding(kernel_size, padding)
    n, c, h, w = x.shape
    kh, kw = kernel_size
    out_hw = output_shape(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    padded = pad_for_windows(x, out_hw, kernel_size, stride, padding, dilation,
                             value=_lowest_value(xp, x.dtype))
    windows = gather_windows(padded, out_hw, kernel_size, stride, dilation)
    windows = windows.reshape((n, c, kh * kw) + out_hw)                      # (N, C, K, OH, OW)

    # Input coordinates of every tap; a tap is real if it lands inside the input.
    rows = xp.arange(kh)[:, None] * dilation[0] + xp.arange(out_hw[0])[None, :] * stride[0] - padding[0]
    cols = xp.arange(kw)[:, None] * dilation[1] + xp.arange(out_hw[1])[None, :] * stride[1] - padding[1]
    real = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :, None, :]
    real = real.reshape((kh * kw,) + out_hw)                                 # (K, OH, OW)
    if not bool(real.any(axis=0).all()):
        raise ValueError("a pooling window covers only padding (dilation too large for the input)")

    y = windows.max(axis=2)
    # Pick among real taps only, so an all −∞ window still points at a real pixel.
    tap = xp.argmax(real & (windows == y[:, :, None]), axis=2)
    if x.dtype.kind in "fV":
        nan_taps = real & xp.isnan(windows)
        last_nan = kh * kw - 1 - xp.argmax(nan_taps[:, :, ::-1], axis=2)
        tap = xp.where(nan_taps.any(axis=2), last_nan, tap)

    row = xp.arange(out_hw[0])[:, None] * stride[0] + (tap // kw) * dilation[0] - padding[0]
    col = xp.arange(out_hw[1])[None, :] * stride[1] + (tap % kw) * dilation[1] - padding[1]
    return y, (row * w + col).astype(xp.int64)


@CATALOGUE.reference("max_pool2d_backward")
def max_pool2d_backward(dy, indices, x_shape):
    """``dx[n, c, p] = Σ_{indices[n, c, ·] = p} dy[n, c, ·]``: route each gradient to its argmax.

    ``dy, indices (N, C, OH, OW) -> dx (N, C, H, W) = x_shape``.  Overlapping windows can
    pick the same pixel, so this is a scatter-add, done as one ``bincount`` over
    plane-offset indices (accumulating in float64, then cast back to dy's dtype).
    """
    xp = get_array_module(dy, indices)
    n, c, h, w = x_shape
    plane = h * w
    flat = (xp.arange(n * c)[:, None] * plane + indices.reshape(n * c, -1)).ravel()
    dx = xp.bincount(flat, weights=dy.ravel(), minlength=n * c * plane)
    return dx.astype(dy.dtype).reshape(tuple(x_shape))


def avg_pool_divisor(xp, x_shape, out_hw, kernel_size, stride, padding,
                     count_include_pad, divisor_override, dtype):
    """``D (OH, OW)``: what each window's sum is divided by (PyTorch's rule).

    Per axis a window starts at ``s = o·stride − p`` and covers ``[s, min(s + k, H + p))``
    when padding counts, or ``[max(s, 0), min(s + k, H))`` when it does not; ``D`` is the
    product of the two axes' lengths.
    """
    if divisor_override:
        return xp.full(out_hw, divisor_override, dtype=dtype)
    lengths = []
    for axis in range(2):
        size = x_shape[2 + axis]
        start = xp.arange(out_hw[axis]) * stride[axis] - padding[axis]
        end = xp.minimum(start + kernel_size[axis], size + padding[axis])
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, size)
        lengths.append(end - start)
    return (lengths[0][:, None] * lengths[1][None, :]).astype(dtype)


@CATALOGUE.reference("avg_pool2d_forward")
def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override=None):
    """``y = (window sum of zero-padded x) / D``.  ``x (N, C, H, W) -> y (N, C, OH, OW)``."""
    xp = get_array_module(x)
    _check_padding(kernel_size, padding)
    dilation = (1, 1)
    out_hw = output_shape(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    padded = pad_for_windows(x, out_hw, kernel_size, stride, padding, dilation)
    sums = gather_windows(padded, out_hw, kernel_size, stride, dilation).sum(axis=(2, 3))
    divisor = avg_pool_divisor(xp, x.shape, out_hw, kernel_size, stride, padding,
                               count_include_pad, divisor_override, x.dtype)
    return sums / divisor


@CATALOGUE.reference("avg_pool2d_backward")
def avg_pool2d_backward(dy, x_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override=None):
    """``dx = col2im(dy / D broadcast to every tap)``.  ``dy (N, C, OH, OW) -> dx = x_shape``."""
    xp = get_array_module(dy)
    _check_padding(kernel_size, padding)
    dilation = (1, 1)
    out_hw = output_shape(x_shape, kernel_size, stride, padding, dilation, ceil_mode)
    if tuple(dy.shape[2:]) != out_hw:
        raise ValueError(f"avg_pool2d_backward: dy has spatial shape {tuple(dy.shape[2:])}, "
                         f"expected {out_hw}")
    divisor = avg_pool_divisor(xp, x_shape, out_hw, kernel_size, stride, padding,
                               count_include_pad, divisor_override, dy.dtype)
    share = dy / divisor                                                     # (N, C, OH, OW)
    windows = xp.broadcast_to(share[:, :, None, None],
                              share.shape[:2] + tuple(kernel_size) + out_hw)
    padded_hw = tuple(max(padding[a] + x_shape[2 + a],
                          padded_extent(out_hw[a], kernel_size[a], stride[a], 1))
                      for a in range(2))
    padded = scatter_windows(windows, padded_hw, stride, dilation)
    return crop_padding(padded, x_shape, padding)
