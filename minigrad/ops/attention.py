"""Scaled dot-product attention as one Function over the blockwise (flash) kernels.

``nn.functional.scaled_dot_product_attention`` checks its arguments and calls
``ScaledDotProductAttention`` whenever no dropout is asked for; the Function's forward is
``kernels.flash_attention_forward`` and its backward ``kernels.flash_attention_backward``,
which (numba on numpy arrays, numba.cuda on CuPy arrays: ``kernels/cuda/attention.py``)
never form the (Lq, Lk) score matrix: memory linear in the sequence length.  Where no
blockwise kernel accepts the arrays (float16, head dims > 128 on CUDA, …) the catalogue
falls back to the materialising reference, inside this same Function.  What is saved for
backward is q, k, v, the output and one log-sum-exp per query row, O(L·D) in all.

With ``create_graph=True`` the backward is written in Tensor ops instead
(``attention_vjp``), which does form the weights, so that it can be differentiated again.
"""
import math

import minigrad_kernels as kernels

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .broadcast import sum_to
from .linalg import matmul
from .masking import masked_fill
from .softmax import softmax

# Reached through nn.functional.scaled_dot_product_attention, as in PyTorch.
__all__ = []


def resolve_scale(query, scale):
    """``scale``, or 1/√E for query (…, L, E)."""
    return 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)


def causal_keep(xp, length, source):
    """(L, S) bool, True where key j ≤ query i: PyTorch's ``is_causal``, top-left aligned."""
    return xp.tril(xp.ones((length, source), dtype=bool))


def masked_scores(query, key, mask, scale, causal):
    """S = scale · Q Kᵀ with ``mask`` (an array: bool True = keep, or additive float) and
    the causal pattern applied, as differentiable Tensor ops: (…, L, S)."""
    scores = matmul(query, key.mT) * resolve_scale(query, scale)
    xp = query.xp
    if causal:
        keep = causal_keep(xp, query.shape[-2], key.shape[-2])
        scores = masked_fill(scores, Tensor._wrap(~keep), float("-inf"))
    if mask is not None:
        if mask.dtype == bool:
            scores = masked_fill(scores, Tensor._wrap(xp.logical_not(mask)), float("-inf"))
        else:
            scores = scores + Tensor._wrap(mask.astype(scores.dtype, copy=False))
    return scores


def safe_softmax(scores):
    """softmax over the last dim, with rows that are entirely −∞ giving zeros (and zero
    gradients) instead of NaN."""
    dead = (scores.array == float("-inf")).all(axis=-1, keepdims=True)
    if not bool(dead.any()):
        return softmax(scores, -1)
    dead = Tensor._wrap(dead)
    return masked_fill(softmax(masked_fill(scores, dead, 0.0), -1), dead, 0.0)


def attention_vjp(query, key, value, d_out, mask, scale, causal):
    """(dQ, dK, dV) in Tensor ops, in the broadcast batch shape:

        W = safe_softmax(S),  dV = Wᵀ dO,  dW = dO Vᵀ,  dS = W ⊙ (dW − rowsum(dW ⊙ W)),
        dQ = s·dS K,  dK = s·dSᵀ Q

    Differentiable in all four of Q, K, V, dO, which is what double backward needs."""
    s = resolve_scale(query, scale)
    weights = safe_softmax(masked_scores(query, key, mask, scale, causal))
    d_weights = matmul(d_out, value.mT)
    d_scores = weights * (d_weights - (d_weights * weights).sum(dim=-1, keepdim=True))
    return matmul(d_scores, key) * s, matmul(d_scores.mT, query) * s, matmul(weights.mT, d_out)


class ScaledDotProductAttention(Function):
    """O = softmax(s·Q Kᵀ + B) V, kept blockwise (online softmax; see ``kernels.
    flash_attention_forward``); lse_i = log Σ_j exp(S_ij) is saved per query row.
    VJP: W = exp(S − lse), D = rowsum(dO ⊙ O), dV = Wᵀ dO, dS = W ⊙ (dO Vᵀ − D),
    dQ = s·dS K, dK = s·dSᵀ Q, each summed back to its input's (broadcast) shape.
    Q (…, L, E), K (…, S, E), V (…, S, Ev) → O (…, L, Ev).  ``mask`` is a raw array
    (bool True = keep, or additive float, not differentiated) or None; ``causal`` keeps
    j ≤ i.  Fully masked rows give O = 0 and zero gradients."""

    def forward(self, query, key, value, mask, scale, causal):
        out, self.lse = kernels.flash_attention_forward(query.array, key.array, value.array, mask,
                                                        scale, causal)
        self.save_for_backward(query, key, value)
        self.save_outputs_for_backward(0)
        self.mask, self.scale, self.causal = mask, scale, causal
        return out

    def backward(self, d_out):
        query, key, value = self.saved_tensors
        if is_grad_enabled():
            # create_graph: the same VJP in Tensor ops, so it can be differentiated again.
            grads = attention_vjp(query, key, value, d_out, self.mask, self.scale, self.causal)
        else:
            (out,) = self.saved_outputs
            grads = (Tensor._wrap(g) for g in kernels.flash_attention_backward(
                query.array, key.array, value.array, out.array, self.lse, d_out.array, self.mask,
                self.scale, self.causal))
        return tuple(sum_to(g, t.shape) for g, t in zip(grads, (query, key, value)))


def scaled_dot_product_attention(query, key, value, mask=None, scale=None, causal=False):
    """``ScaledDotProductAttention.apply``; arguments are checked by the caller
    (``nn.functional.scaled_dot_product_attention``)."""
    return ScaledDotProductAttention.apply(query, key, value, mask, scale, causal)
