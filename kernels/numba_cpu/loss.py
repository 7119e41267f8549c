"""Fused cross-entropy over logit rows (numba twins of ``reference/loss.py``).

The logits ``x (N, C, d…)`` / ``(C,)`` are viewed as rows ``(R, C)`` of one target each
(class axis moved last; a copy only for the spatial ``d…`` case).  Per row ``i`` with target
``t_i``, ``m`` the row max and ``lse_i = m + log Σ_c exp(x_{i,c} − m)``, so
``z_{i,c} = (x_{i,c} − m) − log Σ exp(x − m)`` is never stored:

    forward   ℓ_i  = (1 − ε)(−w_i z_{i,t_i}) + (ε/C) m_i (−Σ_c w_c z_{i,c})
    backward  dx_{i,j} = g_i (A_i p_{i,j} − a_{i,j}),   p = softmax(x)
              a_{i,c} = (1 − ε) w_i [c = t_i] + (ε/C) m_i w_c,   A_i = Σ_c a_{i,c}

with ``w_i = m_i w[t_i]``, ``m_i = [t_i ≠ ignore_index]`` and ``g_i`` the incoming gradient
(÷ Σ_i w_i for 'mean', 0 when that is 0).  The reference forms ``z``, a one-hot and ``a``
as full ``(R, C)`` arrays; here a row is read for its max, once more to write its exps
into a scratch row (the backward uses its output row), which is summed while in L1; the
forward then writes one number, the backward one gradient row.  An ignored target reads class 0 with
weight 0, exactly as the reference does, so a non-finite row still gives the same NaN.

Targets must be class ids or ``ignore_index`` (the caller checks the range); the kernels
check again, because a numba index out of range reads foreign memory instead of raising.
Sums are accumulated in float64; outputs have the logits' dtype.
"""
import math

from ..catalogue import CATALOGUE, get_array_module
from ._jit import FUSED_PARALLEL, jit, prange
from ._vector_math import cast_like, row_dot, row_max, row_sum, vector_exp
from ..reference.loss import REDUCTIONS

# numba kernels take numpy arrays only (dispatch sees to it), so xp is numpy here.
np = get_array_module()

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Rows per (parallel) task in the forward, which needs a scratch row: one per block.
ROW_BLOCK = 64


@jit
def row_log_normaliser(row, exps):
    """``(m, log Σ exp(row − m))`` in ``row``'s dtype, ``m`` the NaN-propagating max;
    ``exps`` is scratch space of the row's length."""
    m = row_max(row)
    for j in range(row.shape[0]):                 # no reduction here, so it vectorises
        exps[j] = vector_exp(row[j] - m)
    return m, cast_like(math.log(row_sum(exps)), m)


@jit
def kept_weight_total(target, class_weight, ignore_index):
    """``Σ_i w_i`` (the 'mean' denominator); raises on a target that is neither a class id
    nor ``ignore_index``, so it runs before any parallel loop reads with the targets."""
    classes = class_weight.shape[0]
    total = 0.0
    for i in range(target.shape[0]):
        t = target[i]
        if t == ignore_index:
            continue
        if t < 0 or t >= classes:
            raise IndexError("cross_entropy: target out of range")
        total += class_weight[t]
    return total


@jit(parallel=FUSED_PARALLEL)
def cross_entropy_rows(x, target, class_weight, ignore_index, smoothing, loss):
    """``loss[i] = ℓ_i`` for each row of ``x (R, C)``; returns ``Σ_i w_i``."""
    rows, classes = x.shape
    weight_sum = kept_weight_total(target, class_weight, ignore_index)
    weight_total = row_sum(class_weight)
    smooth = smoothing / classes
    for b in prange((rows + ROW_BLOCK - 1) // ROW_BLOCK):
        exps = np.empty(classes, dtype=x.dtype)   # scratch: once per block, not per row
        for i in range(b * ROW_BLOCK, min(rows, (b + 1) * ROW_BLOCK)):
            m, log_total = row_log_normaliser(x[i], exps)
            t = target[i]
            kept = 0.0 if t == ignore_index else 1.0
            safe = 0 if t == ignore_index else t
            w = kept * class_weight[safe]
            value = (1.0 - smoothing) * (-w * ((x[i, safe] - m) - log_total))
            if smoothing > 0.0:
                # Σ_c w_c z_{i,c} = Σ_c w_c x_{i,c} − (m + log Σ exp) Σ_c w_c: one vectorised
                # dot product; float64 accumulation keeps the subtraction exact enough.
                weighted = row_dot(class_weight, x[i]) - (np.float64(m) + log_total) * weight_total
                value += smooth * kept * -weighted
            loss[i] = value
    return weight_sum


@jit(parallel=FUSED_PARALLEL)
def cross_entropy_backward_rows(x, target, g, class_weight, ignore_index, smoothing, dx):
    """``dx[i, j] = g[i] (A_i p_{i,j} − a_{i,j})`` for each row of ``x (R, C)``."""
    rows, classes = x.shape
    kept_weight_total(target, class_weight, ignore_index)
    smooth = smoothing / classes
    weight_total = 0.0
    for c in range(classes):
        weight_total += class_weight[c]
    for i in prange(rows):
        # dx's row holds the exps first (p = exps / Σ exps), then the gradient.
        m = row_max(x[i])
        for j in range(classes):                  # no reduction here, so it vectorises
            dx[i, j] = vector_exp(x[i, j] - m)
        inverse_sum = cast_like(1.0 / row_sum(dx[i]), m)
        t = target[i]
        kept = 0.0 if t == ignore_index else 1.0
        safe = 0 if t == ignore_index else t
        picked = (1.0 - smoothing) * kept * class_weight[safe]
        spread = smooth * kept                   # a_{i,c} = spread · w_c + picked [c = t_i]
        total = cast_like(picked + spread * weight_total, m)
        gi = g[i]
        p_safe = dx[i, safe] * inverse_sum
        for j in range(classes):
            dx[i, j] = gi * (total * (dx[i, j] * inverse_sum)
                             - cast_like(spread * class_weight[j], m))
        dx[i, safe] = gi * (total * p_safe - cast_like(spread * class_weight[safe] + picked, m))


def _rows(x, target):
    """Logits as C-contiguous rows ``(R, C)`` (class axis last) and int64 targets ``(R,)``."""
    if x.ndim == 1:
        rows = x.reshape(1, -1)
    elif x.ndim == 2:
        rows = x
    else:
        rows = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    rows = np.ascontiguousarray(rows)
    return rows, np.ascontiguousarray(target, dtype=np.int64).reshape(-1)


def _class_weight(weight, x):
    classes = x.shape[0 if x.ndim == 1 else 1]
    if weight is None:
        return np.ones(classes, dtype=x.dtype)
    return np.ascontiguousarray(weight, dtype=x.dtype)


def _accepts(x, target, weight, reduction):
    return (isinstance(x, np.ndarray) and x.dtype in _FLOATS and x.size > 0
            and isinstance(target, np.ndarray) and target.dtype.kind in "iu"
            and target.size * x.shape[0 if x.ndim == 1 else 1] == x.size
            and (weight is None or isinstance(weight, np.ndarray))
            and reduction in REDUCTIONS)


def accepts_forward(x, target, weight, ignore_index, label_smoothing, reduction):
    """float32/float64 non-empty logits, integer targets, a known reduction."""
    return _accepts(x, target, weight, reduction)


def accepts_backward(x, target, d_loss, weight, ignore_index, label_smoothing, reduction):
    """As the forward, with a numpy ``d_loss``."""
    return _accepts(x, target, weight, reduction) and isinstance(d_loss, np.ndarray)


@CATALOGUE.register("cross_entropy_forward", "numba", accepts=accepts_forward)
def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, reduction):
    """``ℓ`` reduced as ``reduction``: ``(N, d1, …)`` for 'none', ``()`` otherwise."""
    rows, ids = _rows(x, target)
    loss = np.empty(rows.shape[0], dtype=x.dtype)
    denominator = cross_entropy_rows(rows, ids, _class_weight(weight, x), int(ignore_index),
                                     float(label_smoothing), loss)
    if reduction == "none":
        return loss.reshape(target.shape)
    total = loss.sum()
    if reduction == "sum":
        return total
    # 'mean' with every target ignored is 0/0: NaN, as the reference (without the warning).
    return np.asarray(np.nan if denominator == 0 else total / denominator, dtype=x.dtype)


@CATALOGUE.register("cross_entropy_backward", "numba", accepts=accepts_backward)
def cross_entropy_backward(x, target, d_loss, weight, ignore_index, label_smoothing, reduction):
    """``dx = g ⊙ (A softmax(x) − a)``, the shape and dtype of ``x``."""
    rows, ids = _rows(x, target)
    class_weight = _class_weight(weight, x)
    if reduction == "none":
        g = np.ascontiguousarray(d_loss, dtype=x.dtype).reshape(-1)
    else:
        scale = 1.0
        if reduction == "mean":
            denominator = kept_weight_total(ids, class_weight, int(ignore_index))
            # Every target ignored: the loss is the constant NaN, whose gradient is 0.
            scale = 0.0 if denominator == 0 else 1.0 / denominator
        g = np.full(rows.shape[0], np.asarray(d_loss, dtype=x.dtype) * x.dtype.type(scale),
                    dtype=x.dtype)
    dx = np.empty_like(rows)
    cross_entropy_backward_rows(rows, ids, g, class_weight, int(ignore_index),
                                float(label_smoothing), dx)
    if x.ndim <= 2:
        return dx.reshape(x.shape)
    moved = (x.shape[0],) + x.shape[2:] + (x.shape[1],)
    return np.moveaxis(dx.reshape(moved), -1, 1)
