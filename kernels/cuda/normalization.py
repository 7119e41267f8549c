"""Layer normalisation forward and backward in numba.cuda (CUDA twins of
``reference/normalization.py``), over the trailing axes viewed as rows ``x (R, n)``.

Forward, one block per row, ``threads`` threads striding over it, shared-memory trees:

    μ = Σ x / n,   σ² = Σ (x − μ)² / n  (two passes, no cancellation),   rstd = 1/√(σ² + ε)
    y = (x − μ)·rstd·γ + β,   and μ, rstd saved per row.

Backward, one block per row for dx (with x̂ = (x − μ)·rstd, g = dy·γ):

    dx = rstd·(g − mean(g) − x̂·mean(g·x̂))

and a second kernel for dγ = Σ_rows dy·x̂ and dβ = Σ_rows dy: one thread per (column, row
group) walks its group's rows in order into a ``(G, n)`` partial buffer, which is then summed
over the groups (deterministic, no atomics).  Absent γ/β are passed as 1-element
arrays with a flag, so one compiled kernel serves every combination.  float32 only.
"""
import math

from numba import cuda, float32

from ..catalogue import CATALOGUE, get_array_module
from ._launch import SIMULATED, configured, kernel_jit, make_block_reductions

GPU_THREADS = 256
SIMULATOR_THREADS = 4
GPU_COLUMN_THREADS = 128
SIMULATOR_COLUMN_THREADS = 4
# Row groups of the dγ/dβ kernel (partial sums per group, then summed): enough blocks to
# fill an H100's 132 SMs at n = 768.
GPU_ROW_GROUPS = 128
SIMULATOR_ROW_GROUPS = 2
MAX_GRID_X = 2**31 - 1


def make_layer_norm_forward(threads=256):
    """``kernel[rows, threads](x, weight, bias, has_weight, has_bias, eps, y, mean, rstd)``
    on C-contiguous float32 ``x, y (R, n)``, ``weight, bias (n,)`` (or 1 element when the
    flag is 0), ``mean, rstd (R,)``."""
    _, block_sum = make_block_reductions(threads)

    @kernel_jit(threads)
    def layer_norm_forward_rows(x, weight, bias, has_weight, has_bias, eps, y, mean, rstd):
        scratch = cuda.shared.array(threads, float32)
        r = cuda.blockIdx.x
        t = cuda.threadIdx.x
        cols = x.shape[1]
        inv_n = float32(1.0) / float32(cols)
        total = float32(0.0)
        for j in range(t, cols, threads):
            total += x[r, j]
        mu = block_sum(scratch, total) * inv_n
        total = float32(0.0)
        for j in range(t, cols, threads):
            d = x[r, j] - mu
            total += d * d
        var = block_sum(scratch, total) * inv_n
        rs = float32(1.0) / math.sqrt(var + eps)
        for j in range(t, cols, threads):
            v = (x[r, j] - mu) * rs
            if has_weight:
                v = v * weight[j]
            if has_bias:
                v = v + bias[j]
            y[r, j] = v
        if t == 0:
            mean[r] = mu
            rstd[r] = rs

    return layer_norm_forward_rows


def make_layer_norm_backward(threads=256):
    """``kernel[rows, threads](dy, x, weight, has_weight, mean, rstd, dx)``: the dx of one
    row per block (shapes as the forward's)."""
    _, block_sum = make_block_reductions(threads)

    @kernel_jit(threads)
    def layer_norm_backward_rows(dy, x, weight, has_weight, mean, rstd, dx):
        scratch = cuda.shared.array(threads, float32)
        r = cuda.blockIdx.x
        t = cuda.threadIdx.x
        cols = x.shape[1]
        inv_n = float32(1.0) / float32(cols)
        mu = mean[r]
        rs = rstd[r]
        sum_g = float32(0.0)
        sum_gx = float32(0.0)
        for j in range(t, cols, threads):
            g = dy[r, j]
            if has_weight:
                g = g * weight[j]
            sum_g += g
            sum_gx += g * ((x[r, j] - mu) * rs)
        mean_g = block_sum(scratch, sum_g) * inv_n
        mean_gx = block_sum(scratch, sum_gx) * inv_n
        for j in range(t, cols, threads):
            g = dy[r, j]
            if has_weight:
                g = g * weight[j]
            x_hat = (x[r, j] - mu) * rs
            dx[r, j] = rs * (g - mean_g - x_hat * mean_gx)

    return layer_norm_backward_rows


def make_layer_norm_param_grads(threads=128):
    """``kernel[(⌈n/threads⌉, G), threads](dy, x, mean, rstd, dweight_part, dbias_part)``:
    thread ``(j, g)`` sums ``dy·x̂`` and ``dy`` of column ``j`` over rows ``g, g + G, …`` in
    order into ``dweight_part[g, j]``, ``dbias_part[g, j]`` (``(G, n)``); the caller sums
    the ``G`` partial rows.  ``G`` row groups give ``G·n`` threads instead of ``n``, and
    the result is deterministic (no atomics)."""

    @kernel_jit(threads)
    def layer_norm_param_grads(dy, x, mean, rstd, dweight_part, dbias_part):
        j = cuda.blockIdx.x * threads + cuda.threadIdx.x
        if j >= x.shape[1]:
            return
        g = cuda.blockIdx.y
        groups = cuda.gridDim.y
        sum_w = float32(0.0)
        sum_b = float32(0.0)
        for r in range(g, x.shape[0], groups):
            d = dy[r, j]
            sum_w += d * ((x[r, j] - mean[r]) * rstd[r])
            sum_b += d
        dweight_part[g, j] = sum_w
        dbias_part[g, j] = sum_b

    return layer_norm_param_grads


_KERNELS = {}


def _cached(name, factory, *args):
    key = (name,) + args
    if key not in _KERNELS:
        _KERNELS[key] = factory(*args)
    return _KERNELS[key]


def _row_threads():
    return SIMULATOR_THREADS if SIMULATED else GPU_THREADS


def _as_rows(x, normalized_ndim, xp):
    n = 1
    for d in x.shape[x.ndim - normalized_ndim:]:
        n *= d
    return xp.ascontiguousarray(x).reshape(-1, n)


def _flat_or_dummy(p, xp):
    if p is None:
        return xp.zeros(1, dtype=xp.float32), 0
    return xp.ascontiguousarray(p).reshape(-1), 1


def layer_norm_forward_rows(x, weight, bias, eps, kernel=None):
    """``(y, mean, rstd)`` of float32 rows ``x (R, n)``; ``weight``/``bias`` ``(n,)`` or None;
    ``mean``, ``rstd`` ``(R,)``; outputs allocated with ``x``'s array module."""
    xp = get_array_module(x, weight, bias)
    kernel = kernel or _cached("forward", make_layer_norm_forward, _row_threads())
    x = xp.ascontiguousarray(x)
    w, has_w = _flat_or_dummy(weight, xp)
    b, has_b = _flat_or_dummy(bias, xp)
    y = xp.empty_like(x)
    mean = xp.empty(x.shape[0], dtype=xp.float32)
    rstd = xp.empty(x.shape[0], dtype=xp.float32)
    configured(kernel, x.shape[0], kernel.threads, xp)(
        x, w, b, has_w, has_b, xp.float32(eps), y, mean, rstd)
    return y, mean, rstd


def layer_norm_backward_rows(dy, x, weight, mean, rstd, kernel=None, grads_kernel=None):
    """``(dx, dweight, dbias)`` for float32 rows: ``dy, x (R, n)``, ``weight (n,)`` or None,
    ``mean, rstd (R,)``; ``dweight`` is None when ``weight`` is."""
    xp = get_array_module(dy, x, weight, mean, rstd)
    kernel = kernel or _cached("backward", make_layer_norm_backward, _row_threads())
    grads_kernel = grads_kernel or _cached(
        "grads", make_layer_norm_param_grads,
        SIMULATOR_COLUMN_THREADS if SIMULATED else GPU_COLUMN_THREADS)
    column_threads = grads_kernel.threads
    dy = xp.ascontiguousarray(dy)
    x = xp.ascontiguousarray(x)
    mean = xp.ascontiguousarray(mean).reshape(-1)
    rstd = xp.ascontiguousarray(rstd).reshape(-1)
    w, has_w = _flat_or_dummy(weight, xp)
    dx = xp.empty_like(x)
    groups = min(x.shape[0], SIMULATOR_ROW_GROUPS if SIMULATED else GPU_ROW_GROUPS)
    dweight_part = xp.empty((groups, x.shape[1]), dtype=xp.float32)
    dbias_part = xp.empty((groups, x.shape[1]), dtype=xp.float32)
    configured(kernel, x.shape[0], kernel.threads, xp)(dy, x, w, has_w, mean, rstd, dx)
    blocks = ((x.shape[1] + column_threads - 1) // column_threads, groups)
    configured(grads_kernel, blocks, column_threads, xp)(dy, x, mean, rstd, dweight_part,
                                                         dbias_part)
    dweight, dbias = dweight_part.sum(axis=0), dbias_part.sum(axis=0)
    return dx, (dweight if weight is not None else None), dbias


def _is_float32(*arrays):
    return all(a is None or getattr(a, "dtype", None) == "float32" for a in arrays)


def _shape_ok(x, normalized_ndim):
    if not hasattr(x, "ndim") or not isinstance(normalized_ndim, int) or isinstance(normalized_ndim, bool):
        return False
    if not 1 <= normalized_ndim <= x.ndim or x.size == 0:
        return False
    n = 1
    for d in x.shape[x.ndim - normalized_ndim:]:
        n *= d
    return x.size // n <= MAX_GRID_X


def accepts_forward(x, weight, bias, normalized_ndim, eps):
    """float32 ``x`` (and ``weight``/``bias`` when given), non-empty, a valid ``normalized_ndim``."""
    return x is not None and _is_float32(x, weight, bias) and _shape_ok(x, normalized_ndim)


def accepts_backward(dy, x, weight, mean, rstd, normalized_ndim):
    """float32 everywhere, non-empty, a valid ``normalized_ndim``."""
    return (all(a is not None for a in (dy, x, mean, rstd))
            and _is_float32(dy, x, weight, mean, rstd) and _shape_ok(x, normalized_ndim))


@CATALOGUE.register("layer_norm_forward", "cuda", accepts=accepts_forward)
def layer_norm_forward(x, weight, bias, normalized_ndim, eps):
    """``(y, mean, rstd)`` over the last ``normalized_ndim`` axes: ``x (..., *S)``, weight and
    bias ``S`` or None; ``mean``/``rstd`` ``(..., 1, …, 1)`` as the reference."""
    xp = get_array_module(x, weight, bias)
    y, mean, rstd = layer_norm_forward_rows(_as_rows(x, normalized_ndim, xp), weight, bias, eps)
    kept = tuple(x.shape[:x.ndim - normalized_ndim]) + (1,) * normalized_ndim
    return y.reshape(x.shape), mean.reshape(kept), rstd.reshape(kept)


@CATALOGUE.register("layer_norm_backward", "cuda", accepts=accepts_backward)
def layer_norm_backward(dy, x, weight, mean, rstd, normalized_ndim):
    """``(dx, dweight, dbias)``: ``dx`` like ``x``, ``dweight``/``dbias`` of the normalised
    shape ``S`` (``dweight`` None when ``weight`` is)."""
    xp = get_array_module(dy, x, weight, mean, rstd)
    norm_shape = tuple(x.shape[x.ndim - normalized_ndim:])
    dx, dweight, dbias = layer_norm_backward_rows(
        _as_rows(dy, normalized_ndim, xp), _as_rows(x, normalized_ndim, xp), weight, mean, rstd)
    return (dx.reshape(x.shape), None if dweight is None else dweight.reshape(norm_shape),
            dbias.reshape(norm_shape))
