"""``F.multi_head_attention_forward``: the computation behind ``nn.MultiheadAttention``.

With E = embed_dim, H = num_heads, d = E/H, L target and S source positions, N the batch:

    Q = query W_qᵀ + b_q    (L, N, E)        W_q, W_k, W_v are the three (E, ·) row blocks of
    K = key   W_kᵀ + b_k    (S, N, E)        ``in_proj_weight`` (3E, E), or the separate
    V = value W_vᵀ + b_v    (S, N, E)        ``q/k/v_proj_weight`` when kdim/vdim ≠ E
    Q, K, V split into H heads              → (N·H, L, d), (N·H, S, d), (N·H, S, d)
    A_h = softmax(Q_h K_hᵀ/√d + M) V_h      (the 1/√d inside the softmax)
    out = concat_h(A_h) W_oᵀ + b_o          (L, N, E)

M is the sum of ``attn_mask`` ((L, S), shared by every batch entry and head, or
(N·H, L, S), one per head; head h of batch entry n is row n·H + h) and
``key_padding_mask`` ((N, S), the same for every query and head).  A bool mask is
PyTorch's MHA convention, **True = may not attend** (the opposite of
``scaled_dot_product_attention``'s bool masks, where True = may attend); it becomes −∞ at
True and 0 elsewhere.  A float mask is added to the scores as is.

Two ways to compute the attention, chosen like PyTorch by ``need_weights``:

* ``need_weights=True``: the scores and a plain softmax are formed here, so the per-head
  weights (N, H, L, S) can be returned (averaged over heads if ``average_attn_weights``).
* ``need_weights=False``: ``scaled_dot_product_attention``, and no weights.

Fully masked rows (a query whose every key is masked) follow PyTorch exactly and differ
between the two: with ``need_weights=True`` the softmax of an all −∞ row is 0/0, so that
query's output row, its weights and every gradient that touches them are NaN (PyTorch's
``softmax``); with ``need_weights=False`` the safe softmax of ``scaled_dot_product_attention``
gives weights 0, so the attention output row is 0 and the layer output is ``out_proj.bias``,
with finite gradients (as PyTorch 2.13's SDPA, the test oracle, does).

``is_causal`` is a *hint* that ``attn_mask`` is the causal mask: as in PyTorch it needs an
``attn_mask``, and when there is no key_padding_mask and no weights are wanted the mask is
dropped and causal masking (key j ≤ query i) is applied instead.

The VJP is autograd's through the composed ops (linear, reshape, matmul, softmax); see
``attention.py`` for the attention part, dS = W ⊙ (dW − rowsum(dW ⊙ W)).
"""
import math
import warnings

from ... import creation, dtypes
from ...ops.joining import cat
from ...ops.linalg import matmul
from ...ops.operands import check_tensor
from ...ops.softmax import softmax
from ...tensor import Tensor
from .attention import scaled_dot_product_attention
from .dropout import dropout
from .linear import linear

__all__ = ["multi_head_attention_forward"]


def _size(t):
    """A shape as these messages print it, ``minigrad.Size([2, 3])`` (PyTorch: torch.Size)."""
    return str(t.shape)


def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A mask as an additive float mask of ``target_type``: bool True → −∞, False → 0; a
    float mask is returned as is (cast to ``target_type``). PyTorch's ``F._canonical_mask``,
    including its deprecation warning for a bool and a float mask used together."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{mask_name} must be a Tensor or None, not {type(mask).__name__}")
    is_float = mask.dtype.kind in "fV"
    if mask.dtype != dtypes.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      f"same type for both instead.", stacklevel=3)
    if is_float:
        return mask if mask.dtype == target_type else mask.to(target_type)
    xp = mask.xp
    return Tensor._wrap(xp.where(mask.array, xp.asarray(float("-inf"), dtype=target_type),
                                 xp.asarray(0.0, dtype=target_type)))


def mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (3-D) input, False for unbatched (2-D); AssertionError (PyTorch's
    type) naming the dims otherwise."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be 3-D "
                                 f"but found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor "
                                 f"instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.ndim}-D tensor "
                                 f"instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                     f"instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{_size(attn_mask)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _check_weight(weight, shape, name):
    if tuple(weight.shape) != shape:
        raise AssertionError(f"Expecting {name} weights shape of {shape}, but got "
                             f"{tuple(weight.shape)}")


def in_projection(query, key, value, in_proj_weight, in_proj_bias, separate=None):
    """Q, K, V = query W_qᵀ + b_q, key W_kᵀ + b_k, value W_vᵀ + b_v.

    Packed weights (3E, E) are split into their row blocks; self-attention (query, key and
    value the same tensor) does one (3E, E) matmul and splits the result instead, the same
    numbers with one third of the launches.  ``separate`` = (W_q, W_k, W_v) of shapes
    (E, E), (E, kdim), (E, vdim)."""
    embed_dim = query.shape[-1]
    biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    if separate is not None:
        w_q, w_k, w_v = separate
        _check_weight(w_q, (embed_dim, embed_dim), "query")
        _check_weight(w_k, (embed_dim, key.shape[-1]), "key")
        _check_weight(w_v, (embed_dim, value.shape[-1]), "value")
    else:
        if tuple(in_proj_weight.shape) != (3 * embed_dim, embed_dim):
            raise AssertionError(f"Expecting in_proj_weight of shape {(3 * embed_dim, embed_dim)}, "
                                 f"but got {tuple(in_proj_weight.shape)}")
        if query is key and key is value:
            return linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    return (linear(query, w_q, biases[0]), linear(key, w_k, biases[1]),
            linear(value, w_v, biases[2]))


def _pad_last(t):
    """Append a zero column on the last dim (the extra bias_kv / zero-attention key)."""
    return cat([t, creation.zeros((*t.shape[:-1], 1), dtype=t.dtype, device=t.device)], dim=-1)


def _split_heads(t, static, batch, num_heads, head_dim, name):
    """(S, N, E) → (N·H, S, d), or the given ``static_k``/``static_v`` after a shape check."""
    if static is None:
        return t.reshape(t.shape[0], batch * num_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch * num_heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                                 out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention, sequence-first: query (L, N, E) or (L, E), key/value (S, N, ·)
    or (S, ·) → (output (L, N, E) or (L, E), weights or None).

    Weights: (N, L, S) averaged over heads, or (N, H, L, S) with
    ``average_attn_weights=False``; (L, S) / (H, L, S) for unbatched input.  See the module
    docstring for masks, fully masked rows and ``is_causal``."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, "multi_head_attention_forward", name)
    is_batched = mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        # Compute as a batch of one, squeezed again at the end.
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]

    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask",
                                      None if attn_mask is None else attn_mask.dtype,
                                      "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None        # SDPA's own causal masking replaces the hinted mask
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                   check_other=False)
        if key_padding_mask is not None:
            is_causal = False

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do "
                                 f"not match value's {tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                                 "k_proj_weight or v_proj_weight is None")
        q, k, v = in_projection(query, key, value, None, in_proj_bias,
                                separate=(q_proj_weight, k_proj_weight, v_proj_weight))
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {_size(key)} does not match value shape "
                                 f"{_size(value)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = in_projection(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {_size(attn_mask)}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {_size(attn_mask)}, but should "
                               f"be {(bsz * num_heads, tgt_len, src_len)}.")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        # One learned key/value appended to every sequence; the masks get a 0 (attend) for it.
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must be given together")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _split_heads(k, static_k, bsz, num_heads, head_dim, "static_k")
    v = _split_heads(v, static_v, bsz, num_heads, head_dim, "static_v")

    if add_zero_attn:
        zeros = creation.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        # (N, S) → (N·H, 1, S): row n·H + h of the scores belongs to batch entry n.
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding

    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        # Plain softmax, as PyTorch: a fully masked row is NaN here (module docstring).
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        attn = matmul(weights, v)                                        # (N·H, L, d)
        attn = attn.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(attn, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1:
            attn_mask = attn_mask.unsqueeze(0)                           # (1, 1, L, S)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)   # (N, H, L or 1, S)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    attn = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    attn = attn.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(attn, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
