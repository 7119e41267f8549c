"""Inverse trigonometric and hyperbolic functions, sinc, and angle conversions: elementwise
functions of one tensor (``pointwise.py`` holds the forward ones).

Each op is z = f(x) with dx = dz ⊙ f′(x), shapes unchanged; f′ is written with Tensor ops,
so ``create_graph=True`` gives higher derivatives. Outside the domain (|x| > 1 for asin,
x < 1 for acosh, ...) forward and backward give nan, and at the domain's edge the
derivative is ±inf, as in PyTorch. Integer and bool inputs become the default float dtype;
float dtypes are kept. ``arcsin`` … ``arctanh`` are NumPy-style aliases, as in PyTorch.
"""
import math

from ..tensor import Tensor
from .pointwise import _float_input, _unary, cos, rsqrt, sin
from .pointwise_piecewise import PointwiseFunction, masked_grad

__all__ = ["asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan",
           "arcsinh", "arccosh", "arctanh", "sinc", "deg2rad", "rad2deg"]


# ---------------------------------------------------------------- inverse trigonometric
class Asin(PointwiseFunction):
    """z = arcsin x  (x ∈ [−1, 1]);  dx = dz / √(1 − x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.arcsin(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz * rsqrt(1.0 - x * x)


class Acos(PointwiseFunction):
    """z = arccos x  (x ∈ [−1, 1]);  dx = −dz / √(1 − x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.arccos(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return -dz * rsqrt(1.0 - x * x)


class Atan(PointwiseFunction):
    """z = arctan x;  dx = dz / (1 + x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.arctan(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz / (x * x + 1.0)


# ---------------------------------------------------------------- inverse hyperbolic
class Asinh(PointwiseFunction):
    """z = arsinh x;  dx = dz / √(x² + 1)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.arcsinh(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz * rsqrt(x * x + 1.0)


class Acosh(PointwiseFunction):
    """z = arcosh x  (x ≥ 1);  dx = dz / √(x² − 1)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.arccosh(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz * rsqrt(x * x - 1.0)


class Atanh(PointwiseFunction):
    """z = artanh x  (x ∈ (−1, 1));  dx = dz / (1 − x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.arctanh(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz / (1.0 - x * x)


asin = arcsin = _unary("asin", Asin)
acos = arccos = _unary("acos", Acos)
atan = arctan = _unary("atan", Atan)
asinh = arcsinh = _unary("asinh", Asinh)
acosh = arccosh = _unary("acosh", Acosh)
atanh = arctanh = _unary("atanh", Atanh)


# ---------------------------------------------------------------- sinc
class Sinc(PointwiseFunction):
    """z = sin(πx) / (πx), z(0) = 1 (the normalized sinc);
    dx = dz ⊙ (πx cos(πx) − sin(πx)) / (πx²), 0 at x = 0 (PyTorch's sinc_backward)."""

    def forward(self, x):
        self.save_for_backward(x)
        xp, a = x.xp, x.array
        pix = a * math.pi
        safe = xp.where(pix == 0, xp.ones((), dtype=a.dtype), pix)
        return xp.where(pix == 0, xp.ones((), dtype=a.dtype), xp.sin(safe) / safe)

    def backward(self, dz):
        (x,) = self.saved_tensors
        zero = (x.array * x.array * math.pi) == 0
        # x + [x = 0] keeps the expression finite there (and differentiable); the mask then
        # sets those places to 0.
        safe = x + Tensor._wrap(zero.astype(x.dtype))
        pix = safe * math.pi
        slope = (pix * cos(pix) - sin(pix)) / (safe * safe * math.pi)
        return masked_grad(~zero, dz * slope)


sinc = _unary("sinc", Sinc)


# ---------------------------------------------------------------- angle conversions
class Scale(PointwiseFunction):
    """z = c·x for a constant c;  dx = c·dz."""

    def forward(self, x, c):
        self.c = c
        return (x.array * c).astype(x.dtype, copy=False)

    def backward(self, dz):
        return dz * self.c


def deg2rad(input):
    """x·π/180 (degrees to radians); integer and bool inputs become the default float."""
    return _scaled(input, "deg2rad", math.pi / 180.0)


def rad2deg(input):
    """x·180/π (radians to degrees); integer and bool inputs become the default float."""
    return _scaled(input, "rad2deg", 180.0 / math.pi)


def _scaled(input, op, c):
    return Scale.apply(_float_input(input, op), c)
