"""minigrad's compute layer: kernels on raw xp arrays (numpy now, CuPy later).

Nothing here imports ``minigrad``; these functions take and return plain arrays.  Each
entry point is a thin call to ``CATALOGUE.dispatch``, which picks an optimised backend
implementation when one is registered, enabled and accepts the arguments, and otherwise
the reference implementation in ``kernels/reference/`` (whose docstrings carry the
formulas).  Conventions shared by every entry point:

* images are ``(N, C, H, W)``, conv weights ``(O, C/groups, kh, kw)``;
* ``kernel_size``, ``stride``, ``padding``, ``dilation`` are pairs of ints (callers
  normalise); padding is zero-padding (−∞ for max pooling) on each side;
* ``ceil_mode`` follows PyTorch: ceil the output size, but the last window must start
  inside the input or the left padding;
* the output dtype is the input dtype.
"""
from . import reference  # noqa: F401  (registers the reference implementations)
from .catalogue import CATALOGUE, KernelCatalogue, get_array_module, is_missing_optional_dependency

# The optimised backends register themselves on import; without numba / numba-cuda / CuPy
# they are skipped and every entry point runs its reference.
try:
    from . import numba_cpu  # noqa: F401
except ImportError as error:
    if not is_missing_optional_dependency(error):
        raise
try:
    from . import cuda  # noqa: F401
except ImportError as error:
    if not is_missing_optional_dependency(error):
        raise

__all__ = [
    "CATALOGUE", "KernelCatalogue", "get_array_module", "use",
    "matmul", "im2col", "col2im",
    "conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "softmax", "log_softmax", "logsumexp", "attention_forward", "attention_backward",
    "flash_attention_forward", "flash_attention_backward",
    "erf", "erfc", "sigmoid", "gelu", "gelu_tanh", "gelu_backward", "gelu_tanh_backward",
    "adam_update", "layer_norm_forward", "layer_norm_backward",
    "cross_entropy_forward", "cross_entropy_backward", "cross_entropy_forward_backward",
    "embedding_backward", "int8_gemm",
]


def use(*backends):
    """Context manager allowing only ``backends`` in this thread: ``with kernels.use("reference"):``
    forces the references, ``kernels.use("numba")`` allows only numba kernels."""
    return CATALOGUE.use(*backends)


def matmul(a, b):
    """``a @ b`` with numpy.matmul semantics: ``(..., M, K) @ (..., K, N) -> (..., M, N)``,
    batch dims broadcast, 1-D operands promoted then squeezed."""
    return CATALOGUE.dispatch("matmul", a, b)


def im2col(x, kernel_size, stride, padding, dilation):
    """``(N, C, H, W) -> (N, C·kh·kw, OH·OW)``, like ``torch.nn.functional.unfold``."""
    return CATALOGUE.dispatch("im2col", x, kernel_size, stride, padding, dilation)


def col2im(cols, x_shape, kernel_size, stride, padding, dilation):
    """``(N, C·kh·kw, OH·OW) -> x_shape (N, C, H, W)``, summing overlaps (``fold``)."""
    return CATALOGUE.dispatch("col2im", cols, x_shape, kernel_size, stride, padding, dilation)


def conv2d_forward(x, w, stride, padding, dilation, groups):
    """Cross-correlation without bias: ``(N, C, H, W), (O, C/g, kh, kw) -> (N, O, OH, OW)``."""
    return CATALOGUE.dispatch("conv2d_forward", x, w, stride, padding, dilation, groups)


def conv2d_backward_input(dy, w, x_shape, stride, padding, dilation, groups):
    """VJP of conv2d wrt its input: ``dy (N, O, OH, OW) -> dx x_shape (N, C, H, W)``."""
    return CATALOGUE.dispatch("conv2d_backward_input", dy, w, x_shape, stride, padding,
                              dilation, groups)


def conv2d_backward_weight(dy, x, w_shape, stride, padding, dilation, groups):
    """VJP of conv2d wrt its weight: ``dy (N, O, OH, OW) -> dw w_shape (O, C/g, kh, kw)``."""
    return CATALOGUE.dispatch("conv2d_backward_weight", dy, x, w_shape, stride, padding,
                              dilation, groups)


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``(N, C, H, W) -> (y, indices)``, both ``(N, C, OH, OW)``; ``indices`` are int64 flat
    indices into each H·W input plane, as ``max_pool2d(return_indices=True)``."""
    return CATALOGUE.dispatch("max_pool2d_forward", x, kernel_size, stride, padding,
                              dilation, ceil_mode)


def max_pool2d_backward(dy, indices, x_shape):
    """Scatter-add ``dy (N, C, OH, OW)`` onto the argmax pixels: ``-> dx x_shape``."""
    return CATALOGUE.dispatch("max_pool2d_backward", dy, indices, x_shape)


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override=None):
    """Window mean with PyTorch's divisor rules: ``(N, C, H, W) -> (N, C, OH, OW)``."""
    return CATALOGUE.dispatch("avg_pool2d_forward", x, kernel_size, stride, padding,
                              ceil_mode, count_include_pad, divisor_override)


def avg_pool2d_backward(dy, x_shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override=None):
    """VJP of avg_pool2d: ``dy (N, C, OH, OW) -> dx x_shape``."""
    return CATALOGUE.dispatch("avg_pool2d_backward", dy, x_shape, kernel_size, stride,
                              padding, ceil_mode, count_include_pad, divisor_override)


def softmax(x, axis):
    """Max-shifted ``exp(x) / Σ exp(x)`` along ``axis``; all −∞ rows give NaN (as PyTorch)."""
    return CATALOGUE.dispatch("softmax", x, axis)


def log_softmax(x, axis):
    """Max-shifted ``x − logsumexp(x)`` along ``axis``."""
    return CATALOGUE.dispatch("log_softmax", x, axis)


def logsumexp(x, axis, keepdims=False):
    """``log Σ exp(x)`` over ``axis`` (int, tuple or None); −∞ for all −∞, +∞ if any +∞."""
    return CATALOGUE.dispatch("logsumexp", x, axis, keepdims)


def attention_forward(q, k, v, mask=None, scale=None):
    """``softmax(scale·q kᵀ + mask) v -> (out (..., Lq, Dv), weights (..., Lq, Lk))``.

    ``mask``: boolean (True = keep) or additive float, broadcast to ``(..., Lq, Lk)``;
    a fully masked row gets zero weights.  ``scale`` defaults to ``1/√D``."""
    return CATALOGUE.dispatch("attention_forward", q, k, v, mask, scale)


def attention_backward(q, k, v, weights, d_out, scale=None):
    """``(dq, dk, dv)`` with ``dS = W ⊙ (dW − rowsum(dW ⊙ W))``, in broadcast batch shape."""
    return CATALOGUE.dispatch("attention_backward", q, k, v, weights, d_out, scale)


def flash_attention_forward(q, k, v, mask=None, scale=None, causal=False):
    """Attention without the weight matrix: ``-> (out (..., Lq, Dv), lse (..., Lq))``.

    ``q (..., Lq, D)``, ``k (..., Lk, D)``, ``v (..., Lk, Dv)``, batch dims broadcast;
    ``S = scale·q kᵀ + B`` with ``B`` from ``mask`` (bool True = keep, or additive float,
    broadcast to ``(..., Lq, Lk)``) and, if ``causal``, −∞ above the diagonal (key j > query
    i, top-left aligned as PyTorch's ``is_causal``); ``scale`` defaults to ``1/√D``.
    Blockwise implementations stream over key tiles J with an online softmax, per row i:
    ``m' = max(m, max_j S_ij)``, ``l ← e^(m−m')·l + Σ_j e^(S_ij−m')``,
    ``a ← e^(m−m')·a + e^(S_iJ−m') v_J``; then ``out_i = a/l`` and ``lse_i = m + log l``.
    What backward needs besides q, k, v is ``out`` and ``lse``: O(L·D), not O(Lq·Lk).
    A row with every key masked gets ``out = 0`` and ``lse = −∞``."""
    return CATALOGUE.dispatch("flash_attention_forward", q, k, v, mask, scale, causal)


def flash_attention_backward(q, k, v, out, lse, d_out, mask=None, scale=None, causal=False):
    """VJP of ``flash_attention_forward`` from its saved ``out`` and ``lse``:
    ``-> (dq, dk, dv)`` in the broadcast batch shape.  With ``W = exp(S − lse)`` rebuilt a
    tile at a time and ``D = rowsum(dO ⊙ O)``: ``dv = Wᵀ dO``, ``dS = W ⊙ (dO vᵀ − D)``,
    ``dq = scale·dS k``, ``dk = scale·dSᵀ q``; fully masked rows contribute nothing."""
    return CATALOGUE.dispatch("flash_attention_backward", q, k, v, out, lse, d_out, mask, scale,
                              causal)


def erf(x):
    """``erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt`` elementwise; ``x (...)`` float, same shape and dtype."""
    return CATALOGUE.dispatch("erf", x)


def erfc(x):
    """``erfc(x) = 1 − erf(x)``, accurate in the tail; same shape and dtype."""
    return CATALOGUE.dispatch("erfc", x)


def sigmoid(x):
    """``σ(x) = 1/(1 + e^(−x))`` without overflow for any x; same shape and dtype."""
    return CATALOGUE.dispatch("sigmoid", x)


def gelu(x):
    """``x Φ(x) = ½ x (1 + erf(x/√2))`` elementwise; same shape and dtype."""
    return CATALOGUE.dispatch("gelu", x)


def gelu_tanh(x):
    """``½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))`` elementwise; same shape and dtype."""
    return CATALOGUE.dispatch("gelu_tanh", x)


def gelu_backward(dy, x):
    """``dy · (Φ(x) + x φ(x))``, GELU's VJP; the shape and dtype of ``x``."""
    return CATALOGUE.dispatch("gelu_backward", dy, x)


def gelu_tanh_backward(dy, x):
    """``dy · gelu_tanh′(x)``, the tanh GELU's VJP; the shape and dtype of ``x``."""
    return CATALOGUE.dispatch("gelu_tanh_backward", dy, x)


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, decoupled, maximize):
    """One Adam/AdamW step in place on flat arrays of one dtype (``param``, ``exp_avg``,
    ``exp_avg_sq`` and ``max_exp_avg_sq`` unless None are written), with minigrad's
    rounding order (``reference/optimizer.py``); returns None."""
    return CATALOGUE.dispatch("adam_update", param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
                              step, lr, beta1, beta2, eps, weight_decay, decoupled, maximize)


def layer_norm_forward(x, weight, bias, normalized_ndim, eps):
    """``y = γ ⊙ (x − μ)·rstd + β`` over the last ``normalized_ndim`` axes, with
    ``rstd = 1/√(σ² + ε)`` (biased σ²): ``x (..., *S), γ, β S or None ->
    (y (..., *S), mean (..., 1…), rstd (..., 1…))``."""
    return CATALOGUE.dispatch("layer_norm_forward", x, weight, bias, normalized_ndim, eps)


def layer_norm_backward(dy, x, weight, mean, rstd, normalized_ndim):
    """``dx = rstd (dx̂ − mean(dx̂) − x̂ mean(dx̂ ⊙ x̂))``, ``dx̂ = dy ⊙ γ``; ``dγ = Σ dy ⊙ x̂``,
    ``dβ = Σ dy`` over the leading axes: ``-> (dx like x, dγ S or None, dβ S)``."""
    return CATALOGUE.dispatch("layer_norm_backward", dy, x, weight, mean, rstd, normalized_ndim)


def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, reduction):
    """PyTorch's cross-entropy of logits ``x (N, C, d…)`` or ``(C,)`` at class ids
    ``target (N, d…)`` or ``()``: ``ℓ_i = (1 − ε)(−w_i z_{i,t_i}) + (ε/C)(−Σ_c w_c z_{i,c})``,
    ``z = log_softmax(x)``, ignored targets 0; ``'mean'`` divides by ``Σ w_i``."""
    return CATALOGUE.dispatch("cross_entropy_forward", x, target, weight, ignore_index,
                              label_smoothing, reduction)


def cross_entropy_backward(x, target, d_loss, weight, ignore_index, label_smoothing, reduction):
    """VJP of ``cross_entropy_forward`` wrt the logits: ``dx = g (A softmax(x) − a)``, with ``a``
    the per-class coefficients of ``−z`` in ℓ and ``A = Σ_c a``; same shape as ``x``."""
    return CATALOGUE.dispatch("cross_entropy_backward", x, target, d_loss, weight, ignore_index,
                              label_smoothing, reduction)


def cross_entropy_forward_backward(x, target, weight, ignore_index, label_smoothing, reduction):
    """``(ℓ, dx₁)``: the loss and its gradient for ``d_loss = 1`` in one pass (a fused
    kernel reads the logits once); the VJP of ``d_loss`` is ``d_loss · dx₁``."""
    return CATALOGUE.dispatch("cross_entropy_forward_backward", x, target, weight, ignore_index,
                              label_smoothing, reduction)


def embedding_backward(grad, indices, num_embeddings, padding_idx):
    """VJP of the lookup ``y = W[indices]`` wrt ``W``: ``dW[v] = Σ_{p: indices[p] = v} grad[p]``
    (repeated ids accumulate; the row ``padding_idx``, unless None, stays zero):
    ``grad (*, D), indices (*) int in [0, V) -> dW (V, D)``, ``V = num_embeddings``."""
    return CATALOGUE.dispatch("embedding_backward", grad, indices, num_embeddings, padding_idx)


def int8_gemm(a, b):
    """``a (M, K) int8 @ b (N, K)ᵀ int8 → (M, N) int32``, exact (quantised Linear/conv)."""
    return CATALOGUE.dispatch("int8_gemm", a, b)
