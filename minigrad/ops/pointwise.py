"""Smooth elementwise functions of one tensor: exponentials and logarithms, powers and
roots, trigonometric and hyperbolic functions, sigmoid and erf.

Each op is z = f(x) with dx = dz ⊙ f′(x), shapes unchanged. f′ is written with Tensor ops
(in terms of the saved output where that is cheapest: exp′ = z, tanh′ = 1 − z²), so
``create_graph=True`` gives higher derivatives. Integer and bool inputs become the default
float dtype; float dtypes are kept.

The piecewise ops (where, maximum, minimum, clamp, abs, relu) are in
``pointwise_piecewise.py``, rounding, remainders and predicates in ``rounding.py``, the
smooth activations in ``activation.py``; this module re-exports the first two, so
``minigrad.ops.pointwise`` is the whole family of ``torch.`` functions. ``silu gelu
softplus elu`` (and ``leaky_relu``) are for ``nn.functional``: neither in ``__all__`` nor
Tensor methods, because PyTorch has no ``torch.silu`` or ``Tensor.gelu`` either.
"""
import math

import minigrad_kernels as kernels

from .. import dtypes
from . import pointwise_piecewise, rounding
from .pointwise_piecewise import (  # noqa: F401  (re-exported)
    PointwiseFunction, check_tensor, apply_activation, Where, where, maximum, minimum, clamp,
    clip, clamp_min, clamp_max, abs, absolute, relu, leaky_relu)
from .rounding import (  # noqa: F401  (re-exported)
    floor_divide, remainder, fmod, sign, floor, ceil, round, trunc, fix, frac, nan_to_num, isnan,
    isinf, isfinite, isposinf, isneginf)

__all__ = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
           "reciprocal", "square", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid",
           "erf", "erfc", *pointwise_piecewise.__all__, *rounding.__all__]


def _float_input(input, op):
    """The tensor a float function computes on: ints and bools become the default float."""
    check_tensor(input, op)
    return input if input.dtype.kind in "fV" else input.to(dtypes.get_default_dtype())


def _unary(op, function):
    """The public form of a one-tensor float op: check, convert, apply."""
    def public(input):
        return function.apply(_float_input(input, op))
    public.__name__ = public.__qualname__ = op
    public.__doc__ = function.__doc__
    return public


# ---------------------------------------------------------------- exponentials and logarithms
class Exp(PointwiseFunction):
    """z = eˣ;  dx = dz ⊙ z."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return x.xp.exp(x.array)

    def backward(self, dz):
        return dz * self.saved_outputs[0]


class Exp2(PointwiseFunction):
    """z = 2ˣ;  dx = dz ⊙ z ln 2."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return x.xp.exp2(x.array)

    def backward(self, dz):
        return dz * self.saved_outputs[0] * math.log(2.0)


class Expm1(PointwiseFunction):
    """z = eˣ − 1 (exact for small x);  dx = dz ⊙ (z + 1)."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return x.xp.expm1(x.array)

    def backward(self, dz):
        return dz * (self.saved_outputs[0] + 1.0)


class _Logarithm(PointwiseFunction):
    """z = log_b(x) (−inf at 0, nan below);  dx = dz / (x ln b)."""
    ufunc, scale = "log", 1.0

    def forward(self, x):
        self.save_for_backward(x)
        return getattr(x.xp, self.ufunc)(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz / (x * self.scale) if self.scale != 1.0 else dz / x


class Log(_Logarithm):
    """z = ln x;  dx = dz / x."""


class Log2(_Logarithm):
    """z = log₂ x;  dx = dz / (x ln 2)."""
    ufunc, scale = "log2", math.log(2.0)


class Log10(_Logarithm):
    """z = log₁₀ x;  dx = dz / (x ln 10)."""
    ufunc, scale = "log10", math.log(10.0)


class Log1p(PointwiseFunction):
    """z = ln(1 + x) (exact for small x);  dx = dz / (1 + x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.log1p(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz / (x + 1.0)


exp = _unary("exp", Exp)
exp2 = _unary("exp2", Exp2)
expm1 = _unary("expm1", Expm1)
log = _unary("log", Log)
log2 = _unary("log2", Log2)
log10 = _unary("log10", Log10)
log1p = _unary("log1p", Log1p)


# ---------------------------------------------------------------- powers and roots
class Sqrt(PointwiseFunction):
    """z = √x;  dx = dz / (2z)  (inf at x = 0, as in PyTorch)."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return x.xp.sqrt(x.array)

    def backward(self, dz):
        return dz / (self.saved_outputs[0] * 2.0)


class Rsqrt(PointwiseFunction):
    """z = 1/√x;  dx = −½ dz ⊙ z³."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return 1.0 / x.xp.sqrt(x.array)

    def backward(self, dz):
        z = self.saved_outputs[0]
        return dz * -0.5 * (z * z * z)


class Reciprocal(PointwiseFunction):
    """z = 1/x;  dx = −dz ⊙ z²."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return 1.0 / x.array

    def backward(self, dz):
        z = self.saved_outputs[0]
        return -dz * (z * z)


sqrt = _unary("sqrt", Sqrt)
rsqrt = _unary("rsqrt", Rsqrt)
reciprocal = _unary("reciprocal", Reciprocal)


class Square(PointwiseFunction):
    """z = x²;  dx = 2x ⊙ dz."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.array * x.array

    def backward(self, dz):
        return dz * self.saved_tensors[0] * 2.0


def square(input):
    """x², keeping integer dtypes (bool becomes int64)."""
    check_tensor(input, "square")
    return Square.apply(input.long() if input.dtype == dtypes.bool_ else input)


# ---------------------------------------------------------------- trigonometric, hyperbolic
class Sin(PointwiseFunction):
    """z = sin x;  dx = dz ⊙ cos x."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.sin(x.array)

    def backward(self, dz):
        return dz * cos(self.saved_tensors[0])


class Cos(PointwiseFunction):
    """z = cos x;  dx = −dz ⊙ sin x."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.cos(x.array)

    def backward(self, dz):
        return -dz * sin(self.saved_tensors[0])


class Tan(PointwiseFunction):
    """z = tan x;  dx = dz ⊙ (1 + z²)."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return x.xp.tan(x.array)

    def backward(self, dz):
        z = self.saved_outputs[0]
        return dz * (z * z + 1.0)


class Sinh(PointwiseFunction):
    """z = sinh x;  dx = dz ⊙ cosh x."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.sinh(x.array)

    def backward(self, dz):
        return dz * cosh(self.saved_tensors[0])


class Cosh(PointwiseFunction):
    """z = cosh x;  dx = dz ⊙ sinh x."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.cosh(x.array)

    def backward(self, dz):
        return dz * sinh(self.saved_tensors[0])


class Tanh(PointwiseFunction):
    """z = tanh x;  dx = dz ⊙ (1 − z²)."""

    def forward(self, x):
        self.save_outputs_for_backward()
        return x.xp.tanh(x.array)

    def backward(self, dz):
        return TanhBackward.apply(dz, self.saved_outputs[0])


class TanhBackward(PointwiseFunction):
    """v = dz ⊙ (1 − z²) in one node (the backward of tanh, z = tanh x);
    its VJP, for double backward: d(dz) = g ⊙ (1 − z²),  d(z) = −2 g ⊙ dz ⊙ z."""

    def forward(self, dz, z):
        self.save_for_backward(dz, z)
        return dz.array * (1 - z.array * z.array)

    def backward(self, g):
        dz, z = self.saved_tensors
        return (TanhBackward.apply(g, z) if self.needs_input_grad[0] else None,
                g * dz * z * -2.0 if self.needs_input_grad[1] else None)


class Sigmoid(PointwiseFunction):
    """z = 1 / (1 + e⁻ˣ) (no overflow for any x);  dx = dz ⊙ z(1 − z)."""

    def forward(self, x):
        self.save_outputs_for_backward()
        if x.array.dtype == x.xp.float16:  # half is computed in float32 and rounded once
            return kernels.sigmoid(x.array.astype(x.xp.float32)).astype(x.xp.float16)
        return kernels.sigmoid(x.array)

    def backward(self, dz):
        return SigmoidBackward.apply(dz, self.saved_outputs[0])


class SigmoidBackward(PointwiseFunction):
    """v = dz ⊙ z(1 − z) in one node (the backward of sigmoid, z = σ(x));
    its VJP, for double backward: d(dz) = g ⊙ z(1 − z),  d(z) = g ⊙ dz ⊙ (1 − 2z)."""

    def forward(self, dz, z):
        self.save_for_backward(dz, z)
        return dz.array * z.array * (1 - z.array)

    def backward(self, g):
        dz, z = self.saved_tensors
        return (SigmoidBackward.apply(g, z) if self.needs_input_grad[0] else None,
                g * dz * (1.0 - 2.0 * z) if self.needs_input_grad[1] else None)


sin = _unary("sin", Sin)
cos = _unary("cos", Cos)
tan = _unary("tan", Tan)
sinh = _unary("sinh", Sinh)
cosh = _unary("cosh", Cosh)
tanh = _unary("tanh", Tanh)
sigmoid = _unary("sigmoid", Sigmoid)


# ---------------------------------------------------------------- error function
# The array maths (Chebyshev erfc, Taylor and rational erf) is kernels/reference/pointwise.py.
class Erf(PointwiseFunction):
    """z = erf x = (2/√π) ∫₀ˣ e^(−t²) dt;  dx = dz ⊙ (2/√π) e^(−x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return kernels.erf(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz * exp(-(x * x)) * (2.0 / math.sqrt(math.pi))


class Erfc(PointwiseFunction):
    """z = erfc x = 1 − erf x (accurate in the tail);  dx = −dz ⊙ (2/√π) e^(−x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return kernels.erfc(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz * exp(-(x * x)) * (-2.0 / math.sqrt(math.pi))


erf = _unary("erf", Erf)
erfc = _unary("erfc", Erfc)

