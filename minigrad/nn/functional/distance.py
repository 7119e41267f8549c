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
    pdist(x)                ‖x_i − x_j‖_p for every row pair i < j of an (N, M) input, in
                            row-major order of (i, j): N(N − 1)/2 values

The norm is composed from existing ops; the origin is made safe by evaluating the root at
1 where Σ|x|^p = 0 and selecting 0 there, so no inf·0 reaches the gradient.
"""
import math

import numpy as np

from ...autograd.grad_mode import no_grad
from ...ops import pointwise
from ...ops.broadcast import broadcast_tensors
from ...ops.operands import check_tensor
from ...ops.reduction import amax
from ...amp.autocast_mode import autocast_op

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist"]


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
    if tensor.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: expected a floating point tensor, but got {tensor.dtype}")


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖_p, eps) along ``dim``."""
    check_tensor(input, "normalize")
    if out is not None:
        raise TypeError("normalize(): the out= argument is not supported by minigrad")
    _float_dtype_check(input, "normalize")
    denom = pointwise.clamp_min(vector_norm(input, p, dim, keepdim=True), eps)
    return input / denom


@autocast_op("cosine_similarity")
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


@autocast_op("pdist")
def pdist(input, p=2):
    """p-norm distances between all row pairs i < j of an (N, M) input → (N(N − 1)/2,),
    gradient 0 where two rows coincide (as PyTorch's)."""
    check_tensor(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if input.dtype.kind not in "fV":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    first, second = np.triu_indices(input.shape[0], 1)
    xp = input.xp
    diff = input[xp.asarray(first)] - input[xp.asarray(second)]
    # coinciding rows: norm of a stand-in 1 replaced by 0, so p < 1 gives no 0·∞ gradient
    same = (diff == 0).all(dim=-1)
    return pointwise.where(same, 0.0, vector_norm(pointwise.where(same.unsqueeze(-1), 1.0, diff),
                                                  p, -1))
