"""``F.scaled_dot_product_attention``: one blockwise Function, or the composite with dropout.

    S = s · Q Kᵀ (+ B)            s = scale, default 1/√E;  B: mask
    W = softmax_keys(S)           a row whose keys are all masked gives W = 0, not NaN
    O = dropout(W) V

Shapes: Q (…, L, E), K (…, S, E), V (…, S, Ev) → O (…, L, Ev), batch dims broadcast.
Masks: a bool mask keeps True entries (False → −∞ in S); a float mask is added to S;
``is_causal`` keeps key j ≤ query i (top-left aligned, as PyTorch).  Printed variants such as
``QKᵀ/√d_k + V`` and ``(scale/√d_k)·softmax(QKᵀ/d_k) V`` are wrong (docs/seeds.md#errata-003).

Every step is a differentiable op, so the VJP is autograd's; for reference it is
dV = Wᵀ dO, dW = dO Vᵀ, dS = W ⊙ (dW − rowsum(dW ⊙ W)), dQ = s dS K, dK = s dSᵀ Q
(the softmax Jacobian diag(w) − w wᵀ applied row by row; masked entries have W = 0 and
so get no gradient).  Fully masked rows are detected after masking and their scores set to
0 before the softmax and their weights to 0 after it, so neither the value nor any
gradient ever sees the NaN of an all −∞ softmax.

Two ways to compute it, with the same values and gradients:

* no dropout (``dropout_p = 0``) and no mask that itself needs a gradient:
  ``ops.attention.ScaledDotProductAttention``, one Function over the flash-attention
  kernels, which keep an online softmax over key tiles and save only the output and one
  log-sum-exp per query row, so memory grows linearly with L and S (numba backend on
  CPU, numba.cuda flash-attention kernels on CUDA);
* otherwise the composite below, every step a differentiable op (dropout needs the
  weights themselves; a float mask that requires grad gets dS as its gradient).
"""
import math

from ... import dtypes
from ...tensor import Tensor
from ...ops import attention as blockwise
from ...ops.attention import safe_softmax
from ...ops.masking import masked_fill
from ...ops.linalg import matmul
from ...ops.operands import broadcast_shapes, check_tensor
from .dropout import dropout
from ...amp.autocast_mode import autocast_op

__all__ = ["scaled_dot_product_attention"]


def _check_shapes(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, "scaled_dot_product_attention", name)
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be at least 2-D "
                               f"(…, L, E), got shape {list(t.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same "
                           f"embedding size, got query {list(query.shape)} and key "
                           f"{list(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same "
                           f"sequence length, got key {list(key.shape)} and value "
                           f"{list(value.shape)}")
    if not (query.dtype == key.dtype == value.dtype) or query.dtype.kind not in "fV":
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value of one "
                           f"floating dtype, got {query.dtype}, {key.dtype}, {value.dtype}")


def _repeat_heads(t, repeats):
    """(…, H, S, E) → (…, H·repeats, S, E), each head repeated ``repeats`` times in a row."""
    shape = tuple(t.shape)
    expanded = t.unsqueeze(-3).expand(*shape[:-2], repeats, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * repeats, *shape[-2:])


def _check_mask(attn_mask, scores_shape, query, key):
    check_tensor(attn_mask, "scaled_dot_product_attention", "attn_mask")
    try:
        fits = broadcast_shapes(attn_mask.shape, scores_shape) == tuple(scores_shape)
    except RuntimeError:
        fits = False
    if not fits:
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                           f"{list(attn_mask.shape)} cannot be broadcast to the attention "
                           f"scores of shape {list(scores_shape)} (query {list(query.shape)}, "
                           f"key {list(key.shape)})")
    if attn_mask.dtype != dtypes.bool_ and attn_mask.dtype.kind not in "fV":
        raise RuntimeError(f"scaled_dot_product_attention: expected attn_mask dtype to be bool or "
                           f"float, but got {attn_mask.dtype}")


def _apply_mask(scores, attn_mask):
    if attn_mask.dtype == dtypes.bool_:
        return masked_fill(scores, ~attn_mask, float("-inf"))
    return scores + attn_mask.to(scores.dtype)


@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(scale · Q Kᵀ + mask) V over the last two dims; see the module docstring."""
    _check_shapes(query, key, value)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads or value.shape[-3] != kv_heads:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of "
                               f"query heads ({heads}) must be a multiple of the key/value heads "
                               f"({kv_heads}, {value.shape[-3]})")
        key, value = _repeat_heads(key, heads // kv_heads), _repeat_heads(value, heads // kv_heads)
    scores_shape = broadcast_shapes(query.shape[:-2], key.shape[:-2]) + \
        (query.shape[-2], key.shape[-2])
    if attn_mask is not None:
        _check_mask(attn_mask, scores_shape, query, key)
    if dropout_p == 0.0 and (attn_mask is None or not attn_mask.requires_grad):
        return blockwise.scaled_dot_product_attention(
            query, key, value, None if attn_mask is None else attn_mask.array, scale, is_causal)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = matmul(query, key.mT) * s
    if is_causal:
        keep = blockwise.causal_keep(query.xp, query.shape[-2], key.shape[-2])
        scores = masked_fill(scores, Tensor._wrap(~keep), float("-inf"))
    if attn_mask is not None:
        scores = _apply_mask(scores, attn_mask)
    weights = safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)
