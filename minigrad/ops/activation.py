"""Smooth activations on top of the pointwise ops: elu, silu, gelu (exact and tanh), softplus.

They are not in ``torch.``'s namespace, so they are not Tensor methods; ``nn.functional``
gives them their public names. Each Function states f and f′; backward is written in
Tensor ops so second derivatives work.
"""
import math

import minigrad_kernels as kernels

from ..tensor import Tensor
from .pointwise_piecewise import PointwiseFunction, apply_activation, clamp, Where
from .pointwise import erf, exp, tanh, sigmoid

__all__ = []


class Elu(PointwiseFunction):
    """z = x for x > 0, α(eˣ − 1) otherwise;  dx = dz, or α eˣ dz where x ≤ 0 (α dz at 0;
    dz at nan, as in PyTorch)."""

    def forward(self, x, alpha):
        self.save_for_backward(x)
        self.alpha = alpha
        negative = x.xp.expm1(x.xp.minimum(x.array, 0)) * alpha
        return x.xp.where(x.array > 0, x.array, negative).astype(x.dtype, copy=False)

    def backward(self, dz):
        (x,) = self.saved_tensors
        slope = exp(clamp(x, max=0.0)) * self.alpha      # no inf in the branch not taken
        return Where.apply(Tensor._wrap(x.array <= 0), dz * slope, dz)


class Silu(PointwiseFunction):
    """z = x σ(x);  dx = dz ⊙ σ(x)(1 + x(1 − σ(x)))."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.array * kernels.sigmoid(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        s = sigmoid(x)
        return dz * s * (x * (1.0 - s) + 1.0)


_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)


class Gelu(PointwiseFunction):
    """approximate='none': z = x Φ(x), Φ(x) = ½(1 + erf(x/√2));  dx = dz (Φ(x) + x φ(x)),
    φ(x) = e^(−x²/2)/√(2π).   approximate='tanh': z = ½x(1 + tanh u), u = k(x + 0.044715x³),
    k = √(2/π);  dx = dz (½(1 + tanh u) + ½x(1 − tanh² u) k(1 + 3·0.044715x²))."""

    def forward(self, x, approximate):
        self.save_for_backward(x)
        self.approximate = approximate
        return kernels.gelu_tanh(x.array) if approximate == "tanh" else kernels.gelu(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        if self.approximate == "tanh":
            t = tanh((x + x * x * x * 0.044715) * _GELU_TANH_SCALE)
            inner = (x * x * (3 * 0.044715) + 1.0) * _GELU_TANH_SCALE
            return dz * ((t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * inner)
        cdf = (erf(x * math.sqrt(0.5)) + 1.0) * 0.5
        pdf = exp(x * x * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))
        return dz * (cdf + x * pdf)


class Softplus(PointwiseFunction):
    """z = log(1 + e^(βx))/β, or x where βx > threshold;
    dx = dz ⊙ σ(βx), or dz where βx > threshold."""

    def forward(self, x, beta, threshold):
        self.save_for_backward(x)
        self.beta, self.threshold = beta, threshold
        xp, bx = x.xp, x.array * beta
        linear = bx > threshold
        soft = xp.log1p(xp.exp(xp.where(linear, 0, bx))) / beta
        return xp.where(linear, x.array, soft).astype(x.dtype, copy=False)

    def backward(self, dz):
        (x,) = self.saved_tensors
        linear = Tensor._wrap(x.array * self.beta > self.threshold)
        return Where.apply(linear, dz, dz * sigmoid(x * self.beta))


def silu(input, inplace=False):
    """x·σ(x) (``F.silu``)."""
    return apply_activation(Silu, input, "silu", inplace=inplace)


def gelu(input, approximate="none"):
    """x·Φ(x), or its tanh approximation (``F.gelu``)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return apply_activation(Gelu, input, "gelu", approximate)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx))/β, linear above the threshold (``F.softplus``)."""
    return apply_activation(Softplus, input, "softplus", beta, threshold)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else α(eˣ − 1) (``F.elu``)."""
    return apply_activation(Elu, input, "elu", alpha, inplace=inplace)
