"""Numba CPU convolution: numba builds (and folds) the column buffer, BLAS does the GEMMs.

Same names, shapes and formulas as ``reference/conv.py``: ``x (N, C, H, W)``,
``w (O, C/g, kh, kw)``, ``y (N, O, OH, OW)``, ``K = C/g·kh·kw`` one group's patch length,
``L = OH·OW`` windows per image.  The algorithm is the reference's, im2col + GEMM:

    forward          y_n  = W_g @ cols_n,g                    per image, (O/g, K) @ (K, L)
    backward input   dx_n = col2im(W_gᵀ @ dy_n,g)             per image, then a fold
    backward weight  dW_g = dy_g @ cols_gᵀ                    ONE GEMM over N·L

What this file changes, each measured (2-core AMD EPYC with AVX-512, OpenBLAS 0.3.31, float32,
seed CNN conv 2 = 64×32×13×13 ∗ 64×32×3×3, 1 thread, best of 20 on a shared machine):

* ``im2col``/``col2im`` are numba loops, parallel over the batch, that clip every tap's
  rows and columns to the input instead of copying a zero-padded image first, and write
  the column buffer straight into the layout the GEMM wants: im2col 0.50 ms against the
  reference's 0.77 ms, col2im 0.50 ms against 2.0 ms.  Every index is cast to unsigned
  (see ``_im2col``): with signed indices the same loop took 2.0 ms.
* the weight gradient builds its columns as ``(C·kh·kw, N, L)``, so the batch folds into
  the GEMM's inner dimension: one ``(O/g, N·L) @ (N·L, K)`` GEMM instead of N small ones
  plus a sum over an ``(N, O, K)`` temporary.  Only ``dy`` is transposed to ``(O, N, L)``;
  it is C·kh·kw/O times smaller than the columns (4.5× on conv 2).  Where it is larger
  (conv 1: 9 rows against 32 channels) the per-image GEMMs stay (0.51 against 0.55 ms
  for the reference; the one-GEMM form took 0.60-0.72 ms there).

Why not a direct loop or Winograd: the GEMM is most of the time at these sizes and
OpenBLAS runs it at ~110 GFLOP/s on one core; a numba loop without fastmath (no FMA
contraction, as ``_jit`` requires for parity) cannot approach that: a direct C = 1 loop
took 1.8 ms against 0.4 ms for im2col + GEMM on conv 1.  Winograd F(2,3) cuts conv 2's
multiplications 2.25×, and its 16 batched ``(O, C) @ (C, tiles)`` GEMMs took 1.4 ms
against 2.5 ms for the im2col GEMM; but a numba prototype of its transforms took 2.4 ms
(input: 16 scattered writes per 4×4 tile) + 0.8 ms (output), 5.1 ms in all against
3.0 ms here, so it is not used; a tile-blocked input transform is what it would need.

Accepted: float32/float64 ``x`` and ``w`` of one dtype (any layout; copied to C order).
"""
import numba  # noqa: F401  (a machine without numba skips this backend)

from ..catalogue import CATALOGUE, get_array_module
from ..reference.conv import _check_groups, _check_output_shape
from ..reference.windows import output_shape
from ._jit import jit, prange
from ._windows import inside

# dispatch hands numba kernels numpy arrays only; the jitted loops read xp.uint64 as numpy's.
xp = get_array_module()

FLOAT_DTYPES = (xp.dtype(xp.float32), xp.dtype(xp.float64))


@jit(parallel=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols, batch_major):
    """``cols[n·R + r, a·OW + b] = x[n, c, a·sh + i·dh − ph, b·sw + j·dw − pw]`` (0 in the
    padding), ``r = c·kh·kw + i·kw + j``, ``R = C·kh·kw``: ``cols`` is ``(N·R, L)``, or
    ``(R·N, L)`` (row ``r·N + n``) when not ``batch_major``.  Images in parallel: each
    writes only its own rows.

    Indices are cast to unsigned: numba adds a negative-index wraparound test to every
    signed index it cannot prove ≥ 0, which stopped LLVM vectorising the copy (3× slower
    in a loop benchmark); the clipping to ``[lo, hi)`` makes every index non-negative."""
    n, c, h, w = x.shape
    rows = c * kh * kw
    for image in prange(n):
        for channel in range(c):
            for i in range(kh):
                a_lo, a_hi = inside(oh, sh, i * dh - ph, h)
                for j in range(kw):
                    b_lo, b_hi = inside(ow, sw, j * dw - pw, w)
                    row = (channel * kh + i) * kw + j
                    r = image * rows + row if batch_major else row * n + image
                    if a_lo > 0 or a_hi < oh or b_lo > 0 or b_hi < ow:
                        cols[r, :] = 0                   # this tap reads padding somewhere
                    top, left = a_lo * sh + i * dh - ph, b_lo * sw + j * dw - pw
                    for a in range(a_hi - a_lo):
                        y = xp.uint64(top + a * sh)
                        base = (a_lo + a) * ow + b_lo
                        if sw == 1:                      # contiguous: vector loads
                            for b in range(b_hi - b_lo):
                                cols[r, xp.uint64(base + b)] = x[image, channel, y,
                                                                 xp.uint64(left + b)]
                        else:
                            for b in range(b_hi - b_lo):
                                cols[r, xp.uint64(base + b)] = x[image, channel, y,
                                                                 xp.uint64(left + b * sw)]


@jit(parallel=True)
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, x):
    """Adjoint of ``_im2col`` on batch-major ``cols (N·R, L)``: ``x[n, c, y, x] +=`` every
    column entry that tap and window read from pixel (y, x); ``x`` arrives zeroed.
    Images in parallel, so no two threads add into one pixel; padding taps are skipped."""
    n, c, h, w = x.shape
    rows = c * kh * kw
    for image in prange(n):
        for channel in range(c):
            for i in range(kh):
                a_lo, a_hi = inside(oh, sh, i * dh - ph, h)
                for j in range(kw):
                    b_lo, b_hi = inside(ow, sw, j * dw - pw, w)
                    r = image * rows + (channel * kh + i) * kw + j
                    top, left = a_lo * sh + i * dh - ph, b_lo * sw + j * dw - pw
                    for a in range(a_hi - a_lo):
                        y = xp.uint64(top + a * sh)
                        base = (a_lo + a) * ow + b_lo
                        if sw == 1:
                            for b in range(b_hi - b_lo):
                                x[image, channel, y, xp.uint64(left + b)] += cols[
                                    r, xp.uint64(base + b)]
                        else:
                            for b in range(b_hi - b_lo):
                                x[image, channel, y, xp.uint64(left + b * sw)] += cols[
                                    r, xp.uint64(base + b)]


def _columns(x, kernel_size, stride, padding, dilation, batch_major=True):
    """im2col of ``x``: ``(N, C·kh·kw, L)``, or ``(C·kh·kw, N, L)`` if not batch-major."""
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel_size, output_shape(x.shape, kernel_size, stride, padding,
                                                   dilation)
    rows = c * kh * kw
    cols = xp.empty((n * rows, oh * ow), dtype=x.dtype)
    if cols.size:
        _im2col(xp.ascontiguousarray(x), kh, kw, stride[0], stride[1], padding[0], padding[1],
                dilation[0], dilation[1], oh, ow, cols, batch_major)
    return cols.reshape((n, rows, oh * ow) if batch_major else (rows, n, oh * ow))


_INT8_DTYPES = (xp.dtype(xp.int8), xp.dtype(xp.uint8))


def _accepts_int8_im2col(x, kernel_size, stride, padding, dilation):
    """8-bit integer images only: the quantised Conv2d's patches (``ao.nn.quantized``).
    Float convolutions call ``_columns`` inside their fused kernels, not this entry."""
    return isinstance(x, xp.ndarray) and x.ndim == 4 and x.dtype in _INT8_DTYPES


@CATALOGUE.register("im2col", "numba", accepts=_accepts_int8_im2col)
def im2col(x, kernel_size, stride, padding, dilation):
    """``(N, C, H, W) → (N, C·kh·kw, OH·OW)`` for int8/uint8 images (zero padding)."""
    return _columns(x, kernel_size, stride, padding, dilation)


def _same_float_dtype(a, b):
    return (isinstance(a, xp.ndarray) and isinstance(b, xp.ndarray) and a.ndim == 4
            and b.ndim == 4 and a.dtype in FLOAT_DTYPES and b.dtype == a.dtype)


def _accepts_forward(x, w, stride, padding, dilation, groups):
    return _same_float_dtype(x, w)


@CATALOGUE.register("conv2d_forward", "numba", accepts=_accepts_forward)
def conv2d_forward(x, w, stride, padding, dilation, groups):
    """``y_n = W_g @ im2col(x)_n,g``: ``x (N, C, H, W), w (O, C/g, kh, kw) -> y (N, O, OH, OW)``."""
    n, c = x.shape[:2]
    o = w.shape[0]
    _check_groups(c, w.shape, groups)
    kernel_size = tuple(w.shape[2:])
    oh, ow = output_shape(x.shape, kernel_size, stride, padding, dilation)
    patch = w.shape[1] * kernel_size[0] * kernel_size[1]     # K; reshape(-1) fails when N = 0
    cols = _columns(x, kernel_size, stride, padding, dilation)               # (N, g·K, L)
    cols = cols.reshape(n, groups, patch, oh * ow)                           # (N, g, K, L)
    weights = xp.ascontiguousarray(w).reshape(groups, o // groups, patch)    # (g, O/g, K)
    return xp.matmul(weights, cols).reshape(n, o, oh, ow)


def _accepts_backward_input(dy, w, x_shape, stride, padding, dilation, groups):
    return _same_float_dtype(dy, w)


@CATALOGUE.register("conv2d_backward_input", "numba", accepts=_accepts_backward_input)
def conv2d_backward_input(dy, w, x_shape, stride, padding, dilation, groups):
    """``dx = col2im(W_gᵀ @ dy_n,g)``: ``dy (N, O, OH, OW), w -> dx x_shape (N, C, H, W)``."""
    n, c = x_shape[:2]
    o = w.shape[0]
    _check_groups(c, w.shape, groups)
    kernel_size = tuple(w.shape[2:])
    _check_output_shape(dy, x_shape, kernel_size, stride, padding, dilation)
    oh, ow = dy.shape[2:]
    patch = w.shape[1] * kernel_size[0] * kernel_size[1]
    weights = xp.ascontiguousarray(w).reshape(groups, o // groups, patch)    # (g, O/g, K)
    dy_groups = xp.ascontiguousarray(dy).reshape(n, groups, o // groups, oh * ow)
    dcols = xp.matmul(weights.swapaxes(-1, -2), dy_groups)                   # (N, g, K, L)
    dx = xp.zeros(tuple(x_shape), dtype=dy.dtype)
    if dcols.size and dx.size:
        _col2im(dcols.reshape(n * groups * patch, oh * ow), kernel_size[0], kernel_size[1],
                stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], oh, ow, dx)
    return dx


def _accepts_backward_weight(dy, x, w_shape, stride, padding, dilation, groups):
    return _same_float_dtype(dy, x)


@CATALOGUE.register("conv2d_backward_weight", "numba", accepts=_accepts_backward_weight)
def conv2d_backward_weight(dy, x, w_shape, stride, padding, dilation, groups):
    """``dW_g = dy_g @ cols_gᵀ`` over all N·L windows at once: ``dy (N, O, OH, OW),
    x (N, C, H, W) -> dw w_shape (O, C/g, kh, kw)``; when ``dy`` is larger than the
    columns (C·kh·kw < O), ``Σ_n dy_n,g @ cols_n,gᵀ`` as the reference does instead."""
    n, c = x.shape[:2]
    o = w_shape[0]
    _check_groups(c, w_shape, groups)
    kernel_size = tuple(w_shape[2:])
    _check_output_shape(dy, x.shape, kernel_size, stride, padding, dilation)
    patch = w_shape[1] * kernel_size[0] * kernel_size[1]
    length = dy.shape[2] * dy.shape[3]
    if c * kernel_size[0] * kernel_size[1] < o:
        # dy is the bigger operand (conv 1 of the seed CNN: 9 patch rows, 32 channels),
        # so transposing it costs more than N small GEMMs plus a sum: do those.
        cols = _columns(x, kernel_size, stride, padding, dilation)
        cols = cols.reshape(n, groups, patch, length)                        # (N, g, K, L)
        dy_groups = xp.ascontiguousarray(dy).reshape(n, groups, o // groups, length)
        per_image = xp.matmul(dy_groups, cols.swapaxes(-1, -2))             # (N, g, O/g, K)
        return per_image.sum(axis=0).reshape(tuple(w_shape))
    cols = _columns(x, kernel_size, stride, padding, dilation, batch_major=False)
    cols = cols.reshape(groups, patch, n * length)                           # (g, K, N·L)
    dy_t = xp.ascontiguousarray(dy.transpose(1, 0, 2, 3)).reshape(groups, o // groups, n * length)
    return xp.matmul(dy_t, cols.swapaxes(-1, -2)).reshape(tuple(w_shape))    # (g, O/g, K)
