"""Reference scaled dot-product attention, forward and backward, materialising the weights.

Shapes: ``q (..., Lq, D)``, ``k (..., Lk, D)``, ``v (..., Lk, Dv)``, batch dims broadcast;
``out (..., Lq, Dv)``, ``weights (..., Lq, Lk)``.  With ``s = scale`` (default 1/√D):

    S   = s · q kᵀ + B                    B = 0 where kept, −∞ where masked, or a float bias
    W   = softmax_rows(S)                 a row with every key masked gives W = 0, not NaN
    out = W v

and the VJP, for an incoming ``dO = ∂L/∂out``:

    dv = Wᵀ dO
    dW = dO vᵀ
    dS = W ⊙ (dW − rowsum(dW ⊙ W))       (softmax VJP, one row at a time)
    dq = s · dS k,     dk = s · dSᵀ q

A boolean mask follows PyTorch's ``scaled_dot_product_attention``: True = attend,
False = masked.  A float mask is added to the scaled scores.  This version keeps the
whole ``(Lq, Lk)`` weight matrix; a flash-attention kernel registered on a backend is
tested against it.
"""
import math

from ..catalogue import CATALOGUE, get_array_module


def _resolve_scale(q, scale):
    # float() so a numpy float64 scalar cannot promote float32 scores to float64.
    return 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)


def masked_softmax_rows(scores):
    """Softmax over the last axis that returns zeros, not NaN, for rows that are all −∞.

    ``W_ij = exp(S_ij − m_i) / Σ_j exp(S_ij − m_i)`` with ``m_i`` the row max, or 0 when
    the row max is −∞ (then every exp is 0 and the row is left at 0 / 1 = 0).
    """
    xp = get_array_module(scores)
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = xp.where(row_max == -xp.inf, xp.zeros_like(row_max), row_max)
    exps = xp.exp(scores - row_max)
    total = exps.sum(axis=-1, keepdims=True)
    return exps / xp.where(total == 0, xp.ones_like(total), total)


@CATALOGUE.reference("attention_forward")
def attention_forward(q, k, v, mask=None, scale=None):
    """``out = softmax(s·q kᵀ + B) v``; returns ``(out, weights)`` for the backward pass.

    ``mask`` broadcasts to ``(..., Lq, Lk)``: boolean (True = keep) or additive float.
    """
    xp = get_array_module(q, k, v, mask)
    scores = (q @ k.swapaxes(-1, -2)) * _resolve_scale(q, scale)             # (..., Lq, Lk)
    if mask is not None:
        if mask.dtype == bool:
            scores = xp.where(mask, scores, -xp.inf)
        else:
            scores = scores + mask.astype(scores.dtype, copy=False)
    weights = masked_softmax_rows(scores)
    return weights @ v, weights


@CATALOGUE.reference("attention_backward")
def attention_backward(q, k, v, weights, d_out, scale=None):
    """``(dq, dk, dv)`` from the saved ``weights`` and ``d_out (..., Lq, Dv)``.

    Masked entries have W = 0, so dS = 0 there and masks need no special case.  Each
    gradient has the broadcast batch shape; reducing it to a broadcast input's shape is
    the caller's job (minigrad's ``sum_to``).  The gradient of an additive float mask,
    were it needed, is ``dS`` itself.
    """
    s = _resolve_scale(q, scale)
    dv = weights.swapaxes(-1, -2) @ d_out                                    # (..., Lk, Dv)
    d_weights = d_out @ v.swapaxes(-1, -2)                                   # (..., Lq, Lk)
    d_scores = weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True))
    dq = (d_scores @ k) * s                                                  # (..., Lq, D)
    dk = (d_scores.swapaxes(-1, -2) @ q) * s                                 # (..., Lk, D)
    return dq, dk, dv


# ---------------------------------------------------------------- flash-attention oracle
# The blockwise kernels never hold the (Lq, Lk) matrix; what they keep instead is the
# log-sum-exp of each score row, from which backward rebuilds any weight as
# W_ij = exp(S_ij − lse_i).  These references compute the same (out, lse) and gradients
# the plain way, materialising S, so a blockwise kernel has an oracle to be tested against.

def masked_scores(q, k, mask=None, scale=None, causal=False):
    """``S = s·q kᵀ + B`` with the mask and the causal pattern applied: ``(..., Lq, Lk)``.

    ``causal`` keeps key ``j ≤ i`` for query ``i`` (top-left aligned, PyTorch's
    ``is_causal``: with Lq ≠ Lk the diagonal starts at (0, 0)); it combines with ``mask``.
    """
    xp = get_array_module(q, k, mask)
    scores = (q @ k.swapaxes(-1, -2)) * _resolve_scale(q, scale)
    if mask is not None:
        if mask.dtype == bool:
            scores = xp.where(mask, scores, -xp.inf)
        else:
            scores = scores + mask.astype(scores.dtype, copy=False)
    if causal:
        lq, lk = scores.shape[-2:]
        keep = xp.tril(xp.ones((lq, lk), dtype=bool))
        scores = xp.where(keep, scores, -xp.inf)
    return scores


def _weights_from_lse(scores, lse):
    """``W_ij = exp(S_ij − lse_i)``, and 0 on rows whose every key is masked (lse = −∞)."""
    xp = get_array_module(scores, lse)
    dead = xp.isneginf(lse)[..., None]
    return xp.where(dead, 0, xp.exp(scores - xp.where(dead, 0, lse[..., None])))


@CATALOGUE.reference("flash_attention_forward")
def flash_attention_forward(q, k, v, mask=None, scale=None, causal=False):
    """``(out, lse)``: ``out = softmax(S) v (..., Lq, Dv)``, ``lse_i = log Σ_j exp(S_ij)``
    ``(..., Lq)``, with S from ``masked_scores``.  A row with every key masked has
    ``lse = −∞`` and ``out = 0``.  Batch dims broadcast (q, k, v and mask)."""
    xp = get_array_module(q, k, v, mask)
    scores = masked_scores(q, k, mask, scale, causal)
    # No keys at all (Lk = 0) is the limit of "every key masked": out = 0, lse = −∞.
    row_max = scores.max(axis=-1) if scores.shape[-1] else \
        xp.full(scores.shape[:-1], -xp.inf, dtype=scores.dtype)
    shift = xp.where(xp.isneginf(row_max), 0, row_max)       # −∞ − −∞ would be NaN
    total = xp.exp(scores - shift[..., None]).sum(axis=-1)    # 0 only on fully masked rows
    lse = xp.where(total > 0, xp.log(xp.where(total > 0, total, 1)) + shift, -xp.inf)
    return _weights_from_lse(scores, lse) @ v, lse


@CATALOGUE.reference("flash_attention_backward")
def flash_attention_backward(q, k, v, out, lse, d_out, mask=None, scale=None, causal=False):
    """``(dq, dk, dv)`` from the saved ``out`` and ``lse``, rebuilding W from lse:

        W  = exp(S − lse)                 (0 on fully masked rows)
        Dᵢ = rowsum(dO ⊙ O)ᵢ              (= rowsum(dW ⊙ W)ᵢ, since O = W v)
        dv = Wᵀ dO,   dS = W ⊙ (dO vᵀ − D),   dq = s·dS k,   dk = s·dSᵀ q

    Gradients come in the broadcast batch shape (the caller reduces them to an input's).
    """
    s = _resolve_scale(q, scale)
    weights = _weights_from_lse(masked_scores(q, k, mask, scale, causal), lse)
    delta = (d_out * out).sum(axis=-1, keepdims=True)                        # (..., Lq, 1)
    dv = weights.swapaxes(-1, -2) @ d_out
    d_scores = weights * (d_out @ v.swapaxes(-1, -2) - delta)
    return (d_scores @ k) * s, (d_scores.swapaxes(-1, -2) @ q) * s, dv
