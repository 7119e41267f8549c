"""Fused layer normalisation over rows (numba twins of ``reference/normalization.py``).

``x (..., *S)`` is viewed as C-contiguous rows ``(R, n)``, ``n = |S|``; ``γ, β`` as ``(n,)``.
Per row, in float64 accumulators (one read for μ, one for σ², one write):

    μ = Σ_j x_j / n,   rstd = 1/√(Σ_j (x_j − μ)²/n + ε),   y_j = γ_j (x_j − μ) rstd + β_j

and the backward, with ``x̂ = (x − μ) rstd`` and ``dx̂ = dy ⊙ γ`` (one read for the two
means, one write):

    dx_j = rstd (dx̂_j − mean(dx̂) − x̂_j mean(dx̂ ⊙ x̂))
    dγ   = Σ_rows dy ⊙ x̂,    dβ = Σ_rows dy

The reference makes about ten numpy passes and as many temporaries of ``x``'s size.  dγ and
dβ are sums *down* the rows, which parallel row loops would race on, so rows are cut into
fixed blocks of ``ROW_BLOCK``: each block sums into its own float64 partial (in parallel),
then the partials are added in block order.  The block size does not depend on the thread
count, so results are the same at 1 and at 16 threads.

Missing γ/β are passed as empty arrays with a flag, so numba compiles one version per
dtype instead of one per None combination.  float16, and γ/β of another dtype than ``x``
(the reference promotes those), are left to the reference.
"""
import math

import numpy as np

from ..catalogue import CATALOGUE
from ._jit import jit, prange

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
ROW_BLOCK = 32


@jit(parallel=True)
def layer_norm_rows(x, weight, bias, has_weight, has_bias, eps, y, mean, rstd):
    """``y, mean, rstd`` of each row of ``x (R, n)``; ``weight``/``bias`` ``(n,)`` or unused."""
    rows, n = x.shape
    for r in prange(rows):
        total = 0.0
        for j in range(n):
            total += x[r, j]
        mu = total / n
        squares = 0.0
        for j in range(n):
            d = x[r, j] - mu
            squares += d * d
        rs = 1.0 / math.sqrt(squares / n + eps)
        for j in range(n):
            value = (x[r, j] - mu) * rs
            if has_weight:
                value *= weight[j]
            if has_bias:
                value += bias[j]
            y[r, j] = value
        mean[r] = mu
        rstd[r] = rs


@jit(parallel=True)
def layer_norm_backward_rows(dy, x, weight, has_weight, mean, rstd, dx, dweight, dbias):
    """``dx`` row by row; ``dweight``/``dbias`` ``(n,)`` summed over the rows."""
    rows, n = x.shape
    blocks = (rows + ROW_BLOCK - 1) // ROW_BLOCK
    weight_partial = np.zeros((blocks, n))
    bias_partial = np.zeros((blocks, n))
    for b in prange(blocks):
        for r in range(b * ROW_BLOCK, min(rows, (b + 1) * ROW_BLOCK)):
            mu, rs = mean[r], rstd[r]
            d_hat_sum = 0.0
            d_hat_dot = 0.0
            for j in range(n):
                x_hat = (x[r, j] - mu) * rs
                d_hat = dy[r, j] * weight[j] if has_weight else dy[r, j]
                d_hat_sum += d_hat
                d_hat_dot += d_hat * x_hat
                weight_partial[b, j] += dy[r, j] * x_hat
                bias_partial[b, j] += dy[r, j]
            d_hat_mean = d_hat_sum / n
            d_hat_dot_mean = d_hat_dot / n
            for j in range(n):
                x_hat = (x[r, j] - mu) * rs
                d_hat = dy[r, j] * weight[j] if has_weight else dy[r, j]
                dx[r, j] = rs * (d_hat - d_hat_mean - x_hat * d_hat_dot_mean)
    for j in range(n):
        w_total = 0.0
        b_total = 0.0
        for b in range(blocks):
            w_total += weight_partial[b, j]
            b_total += bias_partial[b, j]
        dweight[j] = w_total
        dbias[j] = b_total


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
