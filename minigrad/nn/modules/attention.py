"""``nn.MultiheadAttention``: H attention heads over learned projections of query, key and
value (Vaswani et al. 2017).

    head_h = softmax((Q W_q,h)(K W_k,h)ᵀ/√d + M) (V W_v,h)        d = E/H
    MHA(Q, K, V) = concat(head_1 … head_H) W_oᵀ + b_o

The computation, masks and the fully-masked-row behaviour are documented in
``nn/functional/multi_head_attention.py``; this module owns the parameters, with PyTorch's
names, shapes, registration order (so ``state_dict`` keys match) and initialisation:

    in_proj_weight (3E, E)           W_q; W_k; W_v stacked   xavier_uniform_
    q/k/v_proj_weight (E, E/kdim/vdim) instead, when kdim or vdim ≠ E
    in_proj_bias (3E,)               b_q; b_k; b_v           0
    bias_k, bias_v (1, 1, E)         with add_bias_kv        xavier_normal_
    out_proj.weight (E, E)           W_o (a Linear)          Linear's default
    out_proj.bias (E,)               b_o                     0 (when bias)

Xavier keeps Var(x W_qᵀ) ≈ Var(x) for the (3E, E) block as a whole (fan_in E, fan_out 3E).
"""
from ... import creation
from .. import init
from ..functional.multi_head_attention import multi_head_attention_forward
from ..module import Module
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: (L, N, E) query, (S, N, kdim) key, (S, N, vdim) value
    (``batch_first``: (N, L, E) …; unbatched: (L, E) …) → output (L, N, E) and the
    attention weights (N, L, S) averaged over heads, (N, H, L, S) per head, or None.

    Args (PyTorch's): embed_dim E, num_heads H (E divisible by H), dropout on the attention
    weights (training only), bias (in_proj_bias and out_proj.bias), add_bias_kv (a learned
    extra key/value), add_zero_attn (an extra all-zero key/value), kdim, vdim, batch_first.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        # Registration order is PyTorch's, which fixes the state_dict order.
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty((3 * embed_dim, embed_dim), **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(creation.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(creation.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty((3 * embed_dim,), **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(creation.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """(output, weights or None); shapes in the class docstring. ``key_padding_mask``
        (N, S) or (S,), ``attn_mask`` (L, S) or (N·H, L, S): bool True = masked out, or
        float added to the scores. ``batch_first`` does not apply to unbatched input."""
        is_batched = query.ndim == 3
        if self.batch_first and is_batched:
            # Keep the "is" relations: self-attention then projects with one matmul.
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = {} if self._qkv_same_embed_dim else {
            "use_separate_proj_weight": True, "q_proj_weight": self.q_proj_weight,
            "k_proj_weight": self.k_proj_weight, "v_proj_weight": self.v_proj_weight}
        output, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            average_attn_weights=average_attn_weights, is_causal=is_causal, **separate)
        if self.batch_first and is_batched:
            output = output.transpose(1, 0)
        return output, weights
