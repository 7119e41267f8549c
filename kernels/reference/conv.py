"""Reference 2-D convolution: im2col + GEMM, with groups and dilation.

Shapes: ``x (N, C, H, W)``, ``w (O, C/g, kh, kw)``, ``y (N, O, OH, OW)``, ``g = groups``;
``K = C/g·kh·kw`` is one group's patch length and ``L = OH·OW`` the number of windows.
Like PyTorch's conv2d this is cross-correlation (no kernel flip):

    y[n, o, a, b] = Σ_{c ∈ group(o), i, j} w[o, c, i, j] · xpad[n, c, a·sh + i·dh, b·sw + j·dw]

With ``cols = im2col(x)`` viewed as ``(N, g, K, L)`` and ``w`` viewed as ``(g, O/g, K)``
the three convolution kernels are batched matrix products:

    forward          y   = W_g  @ cols_g                     (N, g, O/g, L)
    backward input   dx  = col2im(W_gᵀ @ dy_g)               (N, g, K, L) -> (N, C, H, W)
    backward weight  dW  = Σ_n dy_g @ cols_gᵀ                (g, O/g, K)

col2im is the adjoint of im2col (a scatter-add of every patch entry onto its pixel),
which is why it computes the input gradient.
"""
from ..catalogue import CATALOGUE
from .windows import (crop_padding, gather_windows, output_shape, pad_for_windows, padded_extent,
                      scatter_windows)


@CATALOGUE.reference("im2col")
def im2col(x, kernel_size, stride, padding, dilation):
    """Unfold every window into a column, like ``torch.nn.functional.unfold``.

    ``cols[n, c·kh·kw + i·kw + j, a·OW + b] = xpad[n, c, a·sh + i·dh, b·sw + j·dw]``

    ``x (N, C, H, W) -> cols (N, C·kh·kw, OH·OW)``.  Padding is zeros.
    """
    n, c = x.shape[:2]
    out_hw = output_shape(x.shape, kernel_size, stride, padding, dilation)
    padded = pad_for_windows(x, out_hw, kernel_size, stride, padding, dilation)
    windows = gather_windows(padded, out_hw, kernel_size, stride, dilation)
    return windows.reshape(n, c * kernel_size[0] * kernel_size[1], out_hw[0] * out_hw[1])


@CATALOGUE.reference("col2im")
def col2im(cols, x_shape, kernel_size, stride, padding, dilation):
    """Fold columns back onto the image, summing overlaps, like ``torch.nn.functional.fold``.

    ``x[n, c, y, x] = Σ over every (tap, window) that reads pixel (y, x) of cols[...]``;
    the adjoint of ``im2col``: ``⟨im2col(x), cols⟩ = ⟨x, col2im(cols)⟩``.

    ``cols (N, C·kh·kw, OH·OW) -> x (N, C, H, W)`` with ``x_shape = (N, C, H, W)``.
    """
    n, c, h, w = x_shape
    kh, kw = kernel_size
    out_hw = output_shape(x_shape, kernel_size, stride, padding, dilation)
    expected = (n, c * kh * kw, out_hw[0] * out_hw[1])
    if tuple(cols.shape) != expected:
        raise ValueError(f"col2im: cols has shape {tuple(cols.shape)}, expected {expected}")
    windows = cols.reshape(n, c, kh, kw, out_hw[0], out_hw[1])
    padded_hw = tuple(max(padding[a] + x_shape[2 + a],
                          padded_extent(out_hw[a], kernel_size[a], stride[a], dilation[a]))
                      for a in range(2))
    padded = scatter_windows(windows, padded_hw, stride, dilation)
    return crop_padding(padded, x_shape, padding)


def _check_groups(x_channels, w_shape, groups):
    out_channels, group_channels = w_shape[:2]
    if groups < 1 or x_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={x_channels} "
                         f"and out_channels={out_channels}")
    if group_channels * groups != x_channels:
        raise ValueError(f"weight expects {group_channels * groups} input channels "
                         f"(C/g={group_channels}, g={groups}), input has {x_channels}")


def _check_output_shape(dy, x_shape, kernel_size, stride, padding, dilation):
    expected = output_shape(x_shape, kernel_size, stride, padding, dilation)
    if tuple(dy.shape[2:]) != expected:
        raise ValueError(f"dy has spatial shape {tuple(dy.shape[2:])}, the convolution of "
                         f"{tuple(x_shape)} gives {expected}")


def _grouped_cols(x, kernel_size, stride, padding, dilation, groups):
    """im2col viewed per group: ``(N, g, C/g·kh·kw, L)``.

    The channel index is the slowest of im2col's row index, so each group's channels
    form one contiguous block of rows and a reshape splits them without copying.
    """
    cols = im2col(x, kernel_size, stride, padding, dilation)
    n, rows, length = cols.shape
    return cols.reshape(n, groups, rows // groups, length)


@CATALOGUE.reference("conv2d_forward")
def conv2d_forward(x, w, stride, padding, dilation, groups):
    """``y = W_g @ im2col(x)_g`` per group (cross-correlation, no bias).

    ``x (N, C, H, W), w (O, C/g, kh, kw) -> y (N, O, OH, OW)``,
    ``OH = floor((H + 2ph − dh(kh−1) − 1)/sh) + 1`` (same for OW).
    """
    n, c = x.shape[:2]
    o = w.shape[0]
    _check_groups(c, w.shape, groups)
    kernel_size = tuple(w.shape[2:])
    oh, ow = output_shape(x.shape, kernel_size, stride, padding, dilation)
    cols = _grouped_cols(x, kernel_size, stride, padding, dilation, groups)   # (N, g, K, L)
    weights = w.reshape(groups, o // groups, -1)                              # (g, O/g, K)
    y = weights @ cols                                                        # (N, g, O/g, L)
    return y.reshape(n, o, oh, ow)


@CATALOGUE.reference("conv2d_backward_input")
def conv2d_backward_input(dy, w, x_shape, stride, padding, dilation, groups):
    """``dx = col2im(W_gᵀ @ dy_g)``: the vector-Jacobian product of conv2d wrt ``x``.

    ``dy (N, O, OH, OW), w (O, C/g, kh, kw) -> dx (N, C, H, W) = x_shape``.
    Pixels no window reads (a stride that skips the input's tail) get zero gradient.
    """
    n, c = x_shape[:2]
    o = w.shape[0]
    _check_groups(c, w.shape, groups)
    kernel_size = tuple(w.shape[2:])
    _check_output_shape(dy, x_shape, kernel_size, stride, padding, dilation)
    length = dy.shape[2] * dy.shape[3]
    weights = w.reshape(groups, o // groups, -1)                              # (g, O/g, K)
    dy_groups = dy.reshape(n, groups, o // groups, length)                    # (N, g, O/g, L)
    dcols = weights.swapaxes(-1, -2) @ dy_groups                              # (N, g, K, L)
    return col2im(dcols.reshape(n, -1, length), tuple(x_shape), kernel_size, stride, padding, dilation)


@CATALOGUE.reference("conv2d_backward_weight")
def conv2d_backward_weight(dy, x, w_shape, stride, padding, dilation, groups):
    """``dW_g = Σ_n dy_g @ im2col(x)_gᵀ``: the vector-Jacobian product of conv2d wrt ``w``.

    ``dy (N, O, OH, OW), x (N, C, H, W) -> dw (O, C/g, kh, kw) = w_shape``.
    ``colsᵀ`` is a swapaxes view, which BLAS takes as a transposed operand without a
    copy; folding the batch into the inner dimension instead (one (O/g, N·L) @ (N·L, K)
    GEMM) needs a transposed copy of cols and measured 4× slower.
    """
    n, c = x.shape[:2]
    o = w_shape[0]
    _check_groups(c, w_shape, groups)
    kernel_size = tuple(w_shape[2:])
    _check_output_shape(dy, x.shape, kernel_size, stride, padding, dilation)
    cols = _grouped_cols(x, kernel_size, stride, padding, dilation, groups)   # (N, g, K, L)
    dy_groups = dy.reshape(n, groups, o // groups, cols.shape[-1])            # (N, g, O/g, L)
    per_sample = dy_groups @ cols.swapaxes(-1, -2)                            # (N, g, O/g, K)
    return per_sample.sum(axis=0).reshape(tuple(w_shape))
