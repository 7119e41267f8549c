"""Distances and normalisation along a dim: ``F.normalize``, ``F.cosine_similarity``,
``F.pairwise_distance`` (PyTorch's formulas, including where eps enters and which clamp is
differentiated):

    vector_norm(x, p)       ‖x‖_p = (Σ |x_i|^p)^(1/p);  ‖x‖_∞ = max |x_i|
                            d‖x‖_p/dx = sign(x)|x|^(p−1)/‖x‖_p^(p−1), and 0 where ‖x‖ = 0
                            (PyTorch's masked norm backward: no 0/0 at the origin)
    normalize(x)            x / max(‖x‖_p, eps)      (the clamp is differentiated)
    cosine_similarity(a, b) Σ (a / max(‖a‖, eps)) (b / max(‖b‖, eps)) along dim, the clamps
                            applied *without* gradient, as ATen's in-place clamp under
                            NoGradGuard does (so a zero vector gets gradient b̂/eps)
    pairwise_distance(a, b) ‖a − b + eps‖_p along the last dim

The norm is composed from existing ops; the origin is made safe by evaluating the root at
1 where Σ|x|^p = 0 and selecting 0 there, so no inf·0 reaches the gradient.
"""
import math

from ...autograd.grad_mode import no_grad
from ...ops import pointwise
from ...ops.broadcast import broadcast_tensors
from ...ops.operands import check_tensor
from ...ops.reduction import amax

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


def vector_norm(x, p, dim, keepdim=False):
    """‖x‖_p along ``dim`` (p > 0, or inf) with PyTorch's gradient (0 at the origin)."""
    magnitude = pointwise.abs(x)
    if p == math.inf:
        return amax(magnitude, dim, keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim=keepdim)
    if p == 1:
        return magnitude.sum(dim, keepdim=keepdim)
    if p == 2:
        total = (x * x).sum(dim, keepdim=keepdim)
    else:
        total = (magnitude ** p).sum(dim, keepdim=keepdim)
    zero = total == 0
    safe = pointwise.where(zero, 1.0, total)
    root = pointwise.sqrt(safe) if p == 2 else safe ** (1.0 / p)
    return pointwise.where(zero, 0.0, root)


def _float_dtype_check(tensor, op):
    if tensor.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, but got {tensor.dtype}")


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖_p, eps) along ``dim``."""
    check_tensor(input, "normalize")
    if out is not None:
        raise TypeError("normalize(): the out= argument is not supported by minigrad")
    _float_dtype_check(input, "normalize")
    denom = pointwise.clamp_min(vector_norm(input, p, dim, keepdim=True), eps)
    return input / denom


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ_dim x̂1 x̂2 with x̂ = x / max(‖x‖₂, eps) (clamps not differentiated)."""
    check_tensor(x1, "cosine_similarity", "x1")
    check_tensor(x2, "cosine_similarity", "x2")
    x1, x2 = broadcast_tensors(x1, x2)
    _float_dtype_check(x1, "cosine_similarity")
    n1 = vector_norm(x1, 2, dim, keepdim=True)
    n2 = vector_norm(x2, 2, dim, keepdim=True)
    n1, n2 = n1.clone(), n2.clone()
    with no_grad():          # ATen clamps in place under NoGradGuard
        n1.clamp_(min=eps)
        n2.clamp_(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 − x2 + eps‖_p along the last dim of the broadcast shape."""
    check_tensor(x1, "pairwise_distance", "x1")
    check_tensor(x2, "pairwise_distance", "x2")
    return vector_norm(x1 - x2 + eps, p, -1, keepdim)
