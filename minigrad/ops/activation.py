"""Smooth activations on top of the pointwise ops: elu (and its scaled forms selu, celu),
mish, silu, gelu (exact and tanh), softplus.

They are not in ``torch.``'s namespace, so they are not Tensor methods; ``nn.functional``
gives them their public names. Each Function states f and f′; backward is written in
Tensor ops so second derivatives work.
"""
import math

import numpy as np

import minigrad_kernels as kernels

from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .pointwise_piecewise import PointwiseFunction, apply_activation, clamp, Where
from .pointwise import erf, exp, tanh, sigmoid

__all__ = []


class Elu(PointwiseFunction):
    """z = s·x for x > 0, α s (e^(c x) − 1) otherwise (scale s, input_scale c; elu is
    s = c = 1, selu s = 1.0507…, α = 1.6732…, celu(α) c = 1/α);
    dx = s dz, or α s c e^(c x) dz where x ≤ 0 (at 0 too; dz at nan, as in PyTorch).
    ``backward_input_scale`` is c as PyTorch's derivative formula sees it: for celu it is
    1/float32(α), not 1/α, and gradients match PyTorch's only with that rounding."""

    def forward(self, x, alpha, scale=1.0, input_scale=1.0, backward_input_scale=None,
                from_result=False):
        # In place (from_result) PyTorch differentiates from the output:
        # dx = c dz (y + α s) where y ≤ 0, which rounds differently from α s c e^(c x).
        self.from_result = from_result
        if from_result:
            self.save_outputs_for_backward()
        else:
            self.save_for_backward(x)
        self.alpha, self.scale = alpha, scale
        self.input_scale = input_scale if backward_input_scale is None else backward_input_scale
        negative = x.xp.expm1(x.xp.minimum(x.array, 0) * input_scale) * (alpha * scale)
        positive = x.array * scale if scale != 1.0 else x.array
        return x.xp.where(x.array > 0, positive, negative).astype(x.dtype, copy=False)

    def backward(self, dz):
        positive = dz * self.scale if self.scale != 1.0 else dz
        if self.from_result:
            (y,) = self.saved_outputs
            slope = (y + self.alpha * self.scale) * self.input_scale
            return Where.apply(Tensor._wrap(y.array <= 0), dz * slope, positive)
        (x,) = self.saved_tensors
        # no inf in the branch not taken: the exponent sees min(x, 0)
        slope = exp(clamp(x, max=0.0) * self.input_scale) * (self.alpha * self.scale
                                                               * self.input_scale)
        return Where.apply(Tensor._wrap(x.array <= 0), dz * slope, positive)


class Mish(PointwiseFunction):
    """z = x tanh(softplus(x)), softplus(x) = log(1 + eˣ);
    dx = dz (t + x σ(x)(1 − t²)) with t = tanh(softplus(x)) (PyTorch's mish_backward)."""

    def forward(self, x):
        self.save_for_backward(x)
        xp = x.xp
        return (x.array * xp.tanh(xp.log1p(xp.exp(x.array)))).astype(x.dtype, copy=False)

    def backward(self, dz):
        (x,) = self.saved_tensors
        t = tanh(Softplus.apply(x, 1.0, float("inf")))
        return dz * (t + x * sigmoid(x) * (1.0 - t * t))


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
    k = √(2/π);  dx = dz (½(1 + tanh u) + ½x(1 − tanh² u) k(1 + 3·0.044715x²)).
    Without create_graph the backward is ``kernels.gelu_backward``/``gelu_tanh_backward``."""

    def forward(self, x, approximate):
        self.save_for_backward(x)
        self.approximate = approximate
        return kernels.gelu_tanh(x.array) if approximate == "tanh" else kernels.gelu(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        if not is_grad_enabled() and dz.shape == x.shape and dz.dtype == x.dtype:
            # No create_graph: one fused kernel (kernels.gelu_backward, GPU: one launch).
            backward = (kernels.gelu_tanh_backward if self.approximate == "tanh"
                        else kernels.gelu_backward)
            return Tensor._wrap(backward(dz.array, x.array))
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
    return apply_activation(Elu, input, "elu", alpha, 1.0, 1.0, None, inplace, inplace=inplace)


#: SELU's constants (Klambauer et al. 2017), as PyTorch spells them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale·(x for x > 0, else α(eˣ − 1)) with SELU's fixed α and scale (``F.selu``)."""
    return apply_activation(Elu, input, "selu", SELU_ALPHA, SELU_SCALE, 1.0, None, inplace,
                            inplace=inplace)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, else α(e^(x/α) − 1) (``F.celu``); α = 0 is an error, as in PyTorch."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    # PyTorch's celu derivative uses 1.0 / alpha.toFloat() (derivatives.yaml)
    return apply_activation(Elu, input, "celu", alpha, 1.0, 1.0 / alpha,
                            1.0 / float(np.float32(alpha)), inplace, inplace=inplace)


def mish(input, inplace=False):
    """x·tanh(softplus(x)) (``F.mish``)."""
    return apply_activation(Mish, input, "mish", inplace=inplace)
