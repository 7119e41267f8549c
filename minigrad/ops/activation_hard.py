"""Piecewise-linear ("hard") activations: hardswish, hardsigmoid, softshrink, hardshrink,
threshold.  Each gradient is dz times a piecewise-constant (or, for hardswish, piecewise
linear) factor whose breakpoints follow PyTorch's backward kernels exactly — which side of
a corner owns the corner matters for gradients at the breakpoints:

    hardswish(x)   = x·min(max(x + 3, 0), 6)/6   f′ = 0 (x ≤ −3), x/3 + ½ (−3 < x < 3), 1
    hardsigmoid(x) = min(max(x + 3, 0), 6)/6     f′ = 1/6 (−3 < x < 3), else 0
    softshrink(x)  = x − λ (x > λ), x + λ (x < −λ), else 0     f′ = 0 on [−λ, λ], else 1
    hardshrink(x)  = 0 on [−λ, λ], else x                      f′ = 0 on [−λ, λ], else 1
    threshold(x)   = value (x ≤ t), else x                     f′ = 0 (x ≤ t), else 1

Like ``activation.py`` these are reached through ``nn.functional`` only (PyTorch has no
``torch.hardswish``); backward is written in Tensor ops so second derivatives work.
"""
import numpy as np

from ..tensor import Tensor
from .pointwise_piecewise import PointwiseFunction, apply_activation, masked_grad, Where
from .operands import check_tensor

__all__ = []


class Hardswish(PointwiseFunction):
    """z = x·relu6(x + 3)/6;  dx = 0 for x ≤ −3, dz (x/3 + ½) for −3 < x < 3, dz from 3 on."""

    def forward(self, x):
        self.save_for_backward(x)
        xp = x.xp
        return (x.array * xp.clip(x.array + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, dz):
        (x,) = self.saved_tensors
        middle = Where.apply(Tensor._wrap(x.array < 3), dz * (x / 3.0 + 0.5), dz)
        return masked_grad(x.array > -3, middle)


#: PyTorch's hardsigmoid_backward multiplies by 1.0f/6.0f, a float32 constant, in every dtype.
_ONE_SIXTH = float(np.float32(1.0) / np.float32(6.0))


class Hardsigmoid(PointwiseFunction):
    """z = relu6(x + 3)/6;  dx = dz/6 strictly inside (−3, 3), else 0."""

    def forward(self, x):
        self.inside = (x.array > -3) & (x.array < 3)
        return (x.xp.clip(x.array + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, dz):
        return masked_grad(self.inside, dz * _ONE_SIXTH)


class Shrink(PointwiseFunction):
    """soft: z = x − λ·sign(x) outside [−λ, λ], 0 inside;  hard: z = x outside, 0 inside.
    dx = dz outside [−λ, λ], 0 inside (the closed interval, as PyTorch)."""

    def forward(self, x, lambd, soft):
        xp = x.xp
        self.outside = ~((x.array >= -lambd) & (x.array <= lambd))
        kept = x.array - xp.sign(x.array) * lambd if soft else x.array
        return xp.where(self.outside, kept, 0).astype(x.dtype, copy=False)

    def backward(self, dz):
        return masked_grad(self.outside, dz)


class Threshold(PointwiseFunction):
    """z = x where x > t, else value;  dx = dz where x > t, else 0."""

    def forward(self, x, threshold, value):
        self.above = x.array > threshold
        return x.xp.where(self.above, x.array, value).astype(x.dtype, copy=False)

    def backward(self, dz):
        return masked_grad(self.above, dz)


def hardswish(input, inplace=False):
    """x·relu6(x + 3)/6 (``F.hardswish``)."""
    return apply_activation(Hardswish, input, "hardswish", inplace=inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3)/6 (``F.hardsigmoid``)."""
    return apply_activation(Hardsigmoid, input, "hardsigmoid", inplace=inplace)


def softshrink(input, lambd=0.5):
    """x − λ above λ, x + λ below −λ, 0 between (``F.softshrink``; λ ≥ 0)."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype "
                           f"{input.dtype}, but found {lambd}")
    return apply_activation(Shrink, input, "softshrink", lambd, True)


def hardshrink(input, lambd=0.5):
    """x outside [−λ, λ], 0 inside (``F.hardshrink``)."""
    return apply_activation(Shrink, input, "hardshrink", lambd, False)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value (``F.threshold``); integer tensors stay integer."""
    check_tensor(input, "threshold")
    if input.dtype.kind == "b":
        raise NotImplementedError(f"threshold is not implemented for dtype {input.dtype}")
    if inplace:
        return Threshold.apply_inplace(input, threshold, value)
    return Threshold.apply(input, threshold, value)
