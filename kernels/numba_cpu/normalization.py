"""Fused layer normalisation over rows (numba twins of ``reference/normalization.py``).

``x (..., *S)`` is viewed as C-contiguous rows ``(R, n)``, ``n = |S|``; ``γ, β`` as ``(n,)``.
Per row, with float64 row sums (one read for μ, one for σ², one write):

    μ = Σ_j x_j / n,   rstd = 1/√(Σ_j (x_j − μ)²/n + ε),   y_j = γ_j (x_j − μ) rstd + β_j

and the backward, with ``x̂ = (x − μ) rstd`` and ``dx̂ = dy ⊙ γ`` (one read for the two
means, one write):

    dx_j = rstd (dx̂_j − mean(dx̂) − x̂_j mean(dx̂ ⊙ x̂))
    dγ   = Σ_rows dy ⊙ x̂,    dβ = Σ_rows dy

The reference makes about ten numpy passes and as many temporaries of ``x``'s size.  dγ and
dβ are sums *down* the rows, which parallel row loops would race on, so rows are cut into
fixed blocks of ``ROW_BLOCK``: each block sums into its own partial (in parallel when
``_jit.FUSED_PARALLEL``), then the partials are added in block order.  The partials are
kept in ``x``'s dtype (each sums at most ``ROW_BLOCK`` rows) so that loop stays
elementwise and vectorises.  The block size does not depend on the thread count, so
results are the same at 1 and at 16 threads.

Missing γ/β are passed as empty arrays with a flag, so numba compiles one version per
dtype instead of one per None combination.  float16, and γ/β of another dtype than ``x``
(the reference promotes those), are left to the reference.
"""
import math

from ..catalogue import CATALOGUE, get_array_module
from ._jit import FUSED_PARALLEL, jit, prange
from ._vector_math import cast_like, row_centred_square_sum, row_dot, row_sum

# numba kernels take numpy arrays only (dispatch sees to it), so xp is numpy here.
np = get_array_module()

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
ROW_BLOCK = 32


@jit(parallel=FUSED_PARALLEL)
def layer_norm_rows(x, weight, bias, has_weight, has_bias, eps, y, mean, rstd):
    """``y, mean, rstd`` of each row of ``x (R, n)``; ``weight``/``bias`` ``(n,)`` or unused."""
    rows, n = x.shape
    for r in prange(rows):
        row = x[r]
        mu = row_sum(row) / n
        rs = 1.0 / math.sqrt(row_centred_square_sum(row, mu) / n + eps)
        # The statistics in x's dtype, as the reference applies them.
        mu_x, rs_x = cast_like(mu, row[0]), cast_like(rs, row[0])
        # One loop per parameter combination, each a plain elementwise (vectorised) loop.
        if has_weight and has_bias:
            for j in range(n):
                y[r, j] = (row[j] - mu_x) * rs_x * weight[j] + bias[j]
        elif has_weight:
            for j in range(n):
                y[r, j] = (row[j] - mu_x) * rs_x * weight[j]
        elif has_bias:
            for j in range(n):
                y[r, j] = (row[j] - mu_x) * rs_x + bias[j]
        else:
            for j in range(n):
                y[r, j] = (row[j] - mu_x) * rs_x
        mean[r] = mu_x
        rstd[r] = rs_x


@jit(parallel=FUSED_PARALLEL)
def layer_norm_backward_rows(dy, x, weight, has_weight, mean, rstd, dx, dweight, dbias):
    """``dx`` row by row; ``dweight``/``dbias`` ``(n,)`` summed over the rows."""
    rows, n = x.shape
    blocks = (rows + ROW_BLOCK - 1) // ROW_BLOCK
    weight_partial = np.zeros((blocks, n), dtype=x.dtype)
    bias_partial = np.zeros((blocks, n), dtype=x.dtype)
    for b in prange(blocks):
        # Per-block scratch rows: x̂ and dx̂, so each reduction below is a plain loop.
        x_hat = np.empty(n, dtype=x.dtype)
        d_hat = np.empty(n, dtype=x.dtype)
        for r in range(b * ROW_BLOCK, min(rows, (b + 1) * ROW_BLOCK)):
            mu, rs = mean[r], rstd[r]
            for j in range(n):
                x_hat[j] = (x[r, j] - mu) * rs
                d_hat[j] = dy[r, j] * weight[j] if has_weight else dy[r, j]
                weight_partial[b, j] += dy[r, j] * x_hat[j]
                bias_partial[b, j] += dy[r, j]
            d_hat_mean = cast_like(row_sum(d_hat) / n, mu)
            d_hat_dot_mean = cast_like(row_dot(d_hat, x_hat) / n, mu)
            for j in range(n):
                dx[r, j] = rs * (d_hat[j] - d_hat_mean - x_hat[j] * d_hat_dot_mean)
    # The blocks' partials in block order: the same sum at any thread count.
    for j in range(n):
        dweight[j] = 0.0
        dbias[j] = 0.0
    for b in range(blocks):
        for j in range(n):
            dweight[j] += weight_partial[b, j]
            dbias[j] += bias_partial[b, j]


def _flat_parameter(parameter, n, dtype):
    if parameter is None:
        return np.empty(0, dtype=dtype), False
    return np.ascontiguousarray(parameter).reshape(n), True


def _parameter_ok(parameter, x):
    return parameter is None or (isinstance(parameter, np.ndarray) and parameter.dtype == x.dtype)


def accepts_forward(x, weight, bias, normalized_ndim, eps):
    """float32/float64 non-empty ``x``; γ, β absent or of ``x``'s dtype."""
    return (isinstance(x, np.ndarray) and x.dtype in _FLOATS and x.size > 0
            and 1 <= normalized_ndim <= x.ndim
            and _parameter_ok(weight, x) and _parameter_ok(bias, x))


def accepts_backward(dy, x, weight, mean, rstd, normalized_ndim):
    """float32/float64 non-empty ``dy``, ``x``, ``mean``, ``rstd`` of one dtype; γ likewise."""
    return (isinstance(x, np.ndarray) and x.dtype in _FLOATS and x.size > 0
            and 1 <= normalized_ndim <= x.ndim
            and all(isinstance(a, np.ndarray) and a.dtype == x.dtype for a in (dy, mean, rstd))
            and dy.shape == x.shape and _parameter_ok(weight, x))


def _rows(x, normalized_ndim):
    shape = x.shape[x.ndim - normalized_ndim:]
    n = int(np.prod(shape))
    return np.ascontiguousarray(x).reshape(-1, n), shape, n


@CATALOGUE.register("layer_norm_forward", "numba", accepts=accepts_forward)
def layer_norm_forward(x, weight, bias, normalized_ndim, eps):
    """``(y, mean, rstd)``: ``x (..., *S)`` → ``y`` like ``x``, ``mean``/``rstd`` ``(..., 1, …, 1)``."""
    rows, _, n = _rows(x, normalized_ndim)
    weight_rows, has_weight = _flat_parameter(weight, n, x.dtype)
    bias_rows, has_bias = _flat_parameter(bias, n, x.dtype)
    y = np.empty_like(rows)
    mean = np.empty(rows.shape[0], dtype=x.dtype)
    rstd = np.empty(rows.shape[0], dtype=x.dtype)
    layer_norm_rows(rows, weight_rows, bias_rows, has_weight, has_bias, float(eps), y, mean, rstd)
    stats_shape = x.shape[:x.ndim - normalized_ndim] + (1,) * normalized_ndim
    return y.reshape(x.shape), mean.reshape(stats_shape), rstd.reshape(stats_shape)


@CATALOGUE.register("layer_norm_backward", "numba", accepts=accepts_backward)
def layer_norm_backward(dy, x, weight, mean, rstd, normalized_ndim):
    """``(dx, dweight, dbias)``: ``dx`` like ``x``, ``dweight`` (None without γ) and ``dbias`` ``S``."""
    rows, shape, n = _rows(x, normalized_ndim)
    dy_rows = np.ascontiguousarray(dy).reshape(-1, n)
    weight_rows, has_weight = _flat_parameter(weight, n, x.dtype)
    dx = np.empty_like(rows)
    dweight = np.empty(n, dtype=x.dtype)
    dbias = np.empty(n, dtype=x.dtype)
    layer_norm_backward_rows(dy_rows, rows, weight_rows, has_weight,
                             np.ascontiguousarray(mean).reshape(-1),
                             np.ascontiguousarray(rstd).reshape(-1), dx, dweight, dbias)
    return (dx.reshape(x.shape), dweight.reshape(shape) if has_weight else None,
            dbias.reshape(shape))
