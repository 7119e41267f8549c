"""Normalisation Functions with their own VJPs; ``nn.functional.normalization`` checks
arguments and composes batch_norm and group_norm from ``standardise``.

LayerNorm   y = γ ⊙ x̂ + β,  x̂ = (x − μ)/√(σ² + ε) over the last k axes, one Function over
            the ``kernels.layer_norm_forward/backward`` entry points (so a fused kernel can
            replace them); with ``create_graph`` its backward is the same VJP in Tensor ops.
"""
import minigrad_kernels as kernels

from ..device import quiet_floating_point
from ..tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from .pointwise import rsqrt

# The public form is ``nn.functional.layer_norm`` (PyTorch's ``torch.layer_norm`` is not
# part of the contract), so nothing here joins the ``minigrad.*`` namespace.
__all__ = []


def standardise(x, axes, eps):
    """(x − μ)/√(σ² + ε) over ``axes`` with biased σ²; also returns μ and σ² (keepdim,
    detached: batch norm's running statistics)."""
    return Standardise.apply(x, tuple(axes), eps)


def _standardise_composite(x, axes, eps):
    """The same map in Tensor ops (differentiable again: create_graph through Standardise)."""
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, keepdim=True, correction=0)
    return (x - mean) * rsqrt(var + eps), var


class Standardise(Function):
    """x̂ = (x − μ)·rstd,  μ = mean_A x,  σ² = mean_A (x − μ)²,  rstd = 1/√(σ² + ε) over axes A;
    dx = rstd (dx̂ − mean_A(dx̂) − x̂ mean_A(dx̂ ⊙ x̂))  (the closed form: the chain through σ²
    would form (σ² + ε)^(−3/2), which underflows float32 once |x| ~ 1e15).
    x (any shape) → (x̂ (same shape), μ, σ² (keepdim shapes, non-differentiable outputs)).
    Statistics accumulate in float64 for float32/float16 on the CPU (PyTorch's acc_type)."""

    def forward(self, x, axes, eps):
        self.axes, self.eps = axes, eps
        xp = x.xp
        acc = "float64" if x.device.type == "cpu" and x.dtype.itemsize < 8 else x.dtype
        data = x.array.astype(acc, copy=False)
        mean = data.mean(axis=axes, keepdims=True)
        centred = data - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        rstd = 1 / xp.sqrt(var + eps)
        self.rstd = rstd.astype(x.dtype)
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        self.mark_non_differentiable(1, 2)
        with quiet_floating_point(xp, over="ignore"):       # σ² beyond float32 is inf
            return ((centred * rstd).astype(x.dtype, copy=False), mean.astype(x.dtype),
                    var.astype(x.dtype))

    def backward(self, d_hat, d_mean=None, d_var=None):
        (x,), (x_hat,) = self.saved_tensors, self.saved_outputs
        axes = self.axes
        if is_grad_enabled():
            x_hat, var = _standardise_composite(x, axes, self.eps)
            rstd = rsqrt(var + self.eps)
        else:
            rstd = Tensor._wrap(self.rstd)
        return rstd * (d_hat - d_hat.mean(dim=axes, keepdim=True)
                       - x_hat * (d_hat * x_hat).mean(dim=axes, keepdim=True))


def _data(tensor):
    return None if tensor is None else tensor.array



class LayerNorm(Function):
    """y = γ ⊙ x̂ + β,  x̂ = (x − μ)·rstd,  rstd = 1/√(σ² + ε) over the last k axes A;
    dx = rstd (dx̂ − mean_A(dx̂) − x̂ mean_A(dx̂ ⊙ x̂)), dx̂ = dy ⊙ γ;  dγ = Σ dy ⊙ x̂;  dβ = Σ dy.
    x (..., *S) → y (..., *S); γ, β of shape S, each optional (no gradient slot if absent)."""

    def forward(self, x, weight, bias, normalized_ndim, eps):
        self.save_for_backward(x, weight)
        self.normalized_ndim, self.eps, self.has_bias = normalized_ndim, eps, bias is not None
        y, self.mean, self.rstd = kernels.layer_norm_forward(
            x.array, _data(weight), _data(bias), normalized_ndim, eps)
        return y

    def backward(self, dy):
        x, weight = self.saved_tensors
        if is_grad_enabled():
            # create_graph: the same VJP in Tensor ops, so it can be differentiated again.
            dx, dweight, dbias = self._differentiable_vjp(dy, x, weight)
        else:
            dx, dweight, dbias = (None if a is None else Tensor._wrap(a) for a in
                                  kernels.layer_norm_backward(dy.array, x.array, _data(weight),
                                                              self.mean, self.rstd,
                                                              self.normalized_ndim))
        return (dx,) + ((dweight,) if weight is not None else ()) + \
            ((dbias,) if self.has_bias else ())

    def _differentiable_vjp(self, dy, x, weight):
        axes = tuple(range(x.ndim - self.normalized_ndim, x.ndim))
        rows = tuple(range(x.ndim - self.normalized_ndim))
        x_hat, var = _standardise_composite(x, axes, self.eps)
        rstd = rsqrt(var + self.eps)
        d_hat = dy if weight is None else dy * weight
        dx = rstd * (d_hat - d_hat.mean(dim=axes, keepdim=True)
                     - x_hat * (d_hat * x_hat).mean(dim=axes, keepdim=True))
        # An empty ``rows`` (x has only the normalised axes) means nothing to sum over.
        dweight = None if weight is None else (dy * x_hat).sum(dim=rows) if rows else dy * x_hat
        dbias = dy.sum(dim=rows) if rows else dy
        return dx, dweight, dbias
