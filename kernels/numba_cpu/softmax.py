"""Fused softmax, log-softmax and log-sum-exp over rows (numba twins of ``reference/softmax.py``).

The reference makes four to six numpy passes over ``x`` (max, subtract, exp, sum, divide,
and a temporary each); here a row is read once for its max ``m``, once to write
``exp(x_j − m)`` into the output row (a loop without a reduction, so it vectorises, with
``_vector_math.vector_exp``), whose sum ``s`` is taken while the row is still in L1, and
the output row is written once more:

    softmax(x)_i     = exp(x_i − m) · (1/s)
    log_softmax(x)_i = (x_i − m) − log s
    logsumexp(x)     = m' + log Σ_j exp(x_j − m'),   m' = m if finite else 0

The axis is handled by moving it last and viewing the C-contiguous result as
``rows × cols`` (a copy only when ``axis`` is not already last, or ``x`` is strided).  The
sum is accumulated in float64 (SIMD lanes, see ``_vector_math``), so float32 rows of any
width lose nothing to the reference's float32 pairwise sum.  Non-finite rows keep the reference's semantics exactly: the max
propagates NaN like ``numpy.max``; an all −∞ row or one holding +∞ makes ``x − m`` NaN in
softmax/log_softmax (so the row is NaN, as PyTorch), while logsumexp shifts by 0 there and
returns −∞ / +∞.

Rows are independent, so the row loop is a ``prange`` (compiled serially unless
``_jit.FUSED_PARALLEL``); float16 is declined (the reference
computes it in float16, which this float64-accumulating kernel would not reproduce).
"""
import math

from ..catalogue import CATALOGUE, get_array_module
from ._jit import FUSED_PARALLEL, jit, prange
from ._vector_math import cast_like, row_max, row_sum, vector_exp

# numba kernels take numpy arrays only (dispatch sees to it), so xp is numpy here.
np = get_array_module()

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Rows per (parallel) task where a kernel needs scratch space: allocated once per block.
ROW_BLOCK = 64


@jit(parallel=FUSED_PARALLEL)
def softmax_rows(x, out):
    """``out[r] = exp(x[r] − m_r) / Σ exp(x[r] − m_r)`` for each row of ``x (R, C)``."""
    rows, cols = x.shape
    for r in prange(rows):
        m = row_max(x[r])
        for j in range(cols):                     # no reduction here, so it vectorises
            out[r, j] = vector_exp(x[r, j] - m)
        scale = 1.0 / row_sum(out[r])
        for j in range(cols):
            out[r, j] = out[r, j] * scale


@jit(parallel=FUSED_PARALLEL)
def log_softmax_rows(x, out):
    """``out[r] = (x[r] − m_r) − log Σ exp(x[r] − m_r)`` for each row of ``x (R, C)``;
    the exps go through ``out`` (still in L1) before it is overwritten."""
    rows, cols = x.shape
    for r in prange(rows):
        m = row_max(x[r])
        for j in range(cols):
            out[r, j] = vector_exp(x[r, j] - m)
        log_total = cast_like(math.log(row_sum(out[r])), m)
        for j in range(cols):
            out[r, j] = (x[r, j] - m) - log_total


@jit(parallel=FUSED_PARALLEL)
def logsumexp_rows(x, out):
    """``out[r] = m' + log Σ exp(x[r] − m')`` with ``m'`` the row max, or 0 when infinite."""
    rows, cols = x.shape
    for b in prange((rows + ROW_BLOCK - 1) // ROW_BLOCK):
        exps = np.empty(cols, dtype=x.dtype)     # one scratch row per block, not per row
        for r in range(b * ROW_BLOCK, min(rows, (b + 1) * ROW_BLOCK)):
            m = row_max(x[r])
            shift = cast_like(0.0, m) if math.isinf(m) else m
            for j in range(cols):
                exps[j] = vector_exp(x[r, j] - shift)
            total = row_sum(exps)
            # An all −∞ row sums to 0: log(0) = −∞ is the answer.
            out[r] = -math.inf if total == 0.0 else math.log(total) + shift


def _as_rows(x, axes):
    """``x`` with ``axes`` moved last, C-contiguous, viewed as ``(rows, cols)``; and the
    moved shape, to undo the view."""
    moved = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim))
    moved = np.ascontiguousarray(moved)
    cols = 1
    for a in axes:
        cols *= x.shape[a]
    return moved.reshape(-1, cols), moved.shape


def _float_nonempty(x):
    return isinstance(x, np.ndarray) and x.dtype in _FLOATS and x.size > 0 and x.ndim > 0


def accepts_along_axis(x, axis):
    """float32/float64, non-empty, at least 1-D, with an int axis."""
    return _float_nonempty(x) and isinstance(axis, (int, np.integer))


def _same_shape_along_axis(kernel, x, axis):
    axis = int(axis) % x.ndim
    rows, moved_shape = _as_rows(x, (axis,))
    out = np.empty_like(rows)
    kernel(rows, out)
    return np.moveaxis(out.reshape(moved_shape), -1, axis)


@CATALOGUE.register("softmax", "numba", accepts=accepts_along_axis)
def softmax(x, axis):
    """``exp(x − max) / Σ exp(x − max)`` along ``axis``; ``x (...)`` → same shape and dtype."""
    return _same_shape_along_axis(softmax_rows, x, axis)


@CATALOGUE.register("log_softmax", "numba", accepts=accepts_along_axis)
def log_softmax(x, axis):
    """``(x − max) − log Σ exp(x − max)`` along ``axis``; same shape and dtype."""
    return _same_shape_along_axis(log_softmax_rows, x, axis)


def accepts_logsumexp(x, axis, keepdims=False):
    """float32/float64, non-empty; ``axis`` an int, a tuple of ints or None."""
    if not _float_nonempty(x):
        return False
    if axis is None or isinstance(axis, (int, np.integer)):
        return True
    return isinstance(axis, tuple) and all(isinstance(a, (int, np.integer)) for a in axis)


@CATALOGUE.register("logsumexp", "numba", accepts=accepts_logsumexp)
def logsumexp(x, axis, keepdims=False):
    """``m + log Σ exp(x − m)`` over ``axis`` (int, tuple or None): ``x (...)`` → ``(...)``
    with ``axis`` removed, or kept as size 1 when ``keepdims``."""
    if axis is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axis, tuple):
        axes = tuple(sorted({int(a) % x.ndim for a in axis}))
    else:
        axes = (int(axis) % x.ndim,)
    rows, _ = _as_rows(x, axes)
    out = np.empty(rows.shape[0], dtype=x.dtype)
    logsumexp_rows(rows, out)
    kept = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    out = out.reshape(kept)
    if not keepdims:
        out = out.reshape(tuple(n for d, n in enumerate(x.shape) if d not in axes))
    return out
