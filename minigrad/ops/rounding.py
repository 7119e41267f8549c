"""Integer-valued elementwise ops: floor/ceil/trunc/round/sign/frac, floor_divide, remainder
and fmod, nan_to_num, and the bool predicates isnan/isinf/isfinite/isposinf/isneginf.

Rounding and sign are piecewise constant, so their gradient is 0 almost everywhere (the
value PyTorch returns); remainder and fmod are a − b·q with q piecewise constant, so
da = dz and db = −dz·q. Integer dtypes are kept. ``pointwise.py`` re-exports everything.
"""
from .. import dtypes
from ..tensor import Tensor
from .broadcast import sum_to
from .operands import promote, broadcast_shapes, check_tensor
from .pointwise_piecewise import PointwiseFunction, masked_grad, sign_array

__all__ = ["floor_divide", "remainder", "fmod", "sign", "floor", "ceil", "round", "trunc", "fix",
           "frac", "nan_to_num", "isnan", "isinf", "isfinite", "isposinf", "isneginf"]


def _check_integer_divisor(a, b):
    if a.dtype.kind in "iub" and bool((b.array == 0).any()):
        raise RuntimeError("ZeroDivisionError")


class FloorDivide(PointwiseFunction):
    """z = ⌊a / b⌋ (Python's //, -inf/inf/nan for a float division by 0);
    da = db = 0: z is piecewise constant. (PyTorch returns these zeros from
    div(rounding_mode='floor'), but raises from floor_divide's backward.)"""

    def forward(self, a, b):
        self.input_meta = (a.shape, a.dtype), (b.shape, b.dtype)
        return a.xp.floor_divide(a.array, b.array)

    def backward(self, dz):
        return tuple(Tensor._wrap(dz.xp.zeros(shape, dtype=dtype)) if needs else None
                     for (shape, dtype), needs in zip(self.input_meta, self.needs_input_grad))


class Remainder(PointwiseFunction):
    """z = a − b⌊a / b⌋ (Python's %: the sign of b);
    da = sum_to(dz),  db = sum_to(−dz ⌊a / b⌋)."""

    def forward(self, a, b):
        self.input_shapes = a.shape, b.shape
        self.save_for_backward(a, b)
        return a.xp.remainder(a.array, b.array)

    def backward(self, dz):
        a, b = self.saved_tensors
        quotient = Tensor._wrap(dz.xp.floor_divide(a.array, b.array))
        return (sum_to(dz, self.input_shapes[0]) if self.needs_input_grad[0] else None,
                sum_to(-dz * quotient, self.input_shapes[1]) if self.needs_input_grad[1] else None)


class Fmod(PointwiseFunction):
    """z = a − b·trunc(a / b) (C's fmod: the sign of a);
    da = sum_to(dz),  db = sum_to(−dz trunc(a / b))."""

    def forward(self, a, b):
        self.input_shapes = a.shape, b.shape
        self.save_for_backward(a, b)
        return a.xp.fmod(a.array, b.array)

    def backward(self, dz):
        a, b = self.saved_tensors
        quotient = Tensor._wrap(dz.xp.trunc(a.array / b.array))
        return (sum_to(dz, self.input_shapes[0]) if self.needs_input_grad[0] else None,
                sum_to(-dz * quotient, self.input_shapes[1]) if self.needs_input_grad[1] else None)


def _division(function, input, other, op):
    a, b = promote(input, other, op=op)
    if a.dtype.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool' (both operands are bool)")
    broadcast_shapes(a.shape, b.shape)
    _check_integer_divisor(a, b)
    return function.apply(a, b)


def floor_divide(input, other):
    """⌊input / other⌋ elementwise; an integer division by zero raises RuntimeError."""
    return _division(FloorDivide, input, other, "floor_divide")


def remainder(input, other):
    """input mod other with the sign of other (Python's ``%``); input may be a number."""
    return _division(Remainder, input, other, "remainder")


def fmod(input, other):
    """input mod other with the sign of input (C's ``fmod``)."""
    return _division(Fmod, input, other, "fmod")


def rfloordiv(self, other):
    return floor_divide(other, self)


def rmod(self, other):
    return remainder(other, self)


# ---------------------------------------------------------------- piecewise constant
class _PiecewiseConstant(PointwiseFunction):
    """Base of sign and the roundings: z is constant between jumps, so dx = 0."""
    ufunc = None

    def forward(self, x):
        return getattr(x.xp, self.ufunc)(x.array)

    def backward(self, dz):
        return Tensor._wrap(dz.xp.zeros_like(dz.array))


class Sign(_PiecewiseConstant):
    """z = [x > 0] − [x < 0] ∈ {−1, 0, 1} (0 for nan, as in PyTorch);  dx = 0."""

    def forward(self, x):
        return sign_array(x.array)


class Floor(_PiecewiseConstant):
    """z = ⌊x⌋;  dx = 0."""
    ufunc = "floor"


class Ceil(_PiecewiseConstant):
    """z = ⌈x⌉;  dx = 0."""
    ufunc = "ceil"


class Trunc(_PiecewiseConstant):
    """z = x rounded toward 0;  dx = 0."""
    ufunc = "trunc"


class Round(_PiecewiseConstant):
    """z = x rounded to ``decimals`` places, halves to even;  dx = 0."""

    def forward(self, x, decimals):
        return x.xp.round(x.array, decimals)


def _round_integers(input, op="round"):
    if input.dtype == dtypes.bool_:
        raise NotImplementedError(f"{op} is not implemented for bool tensors")
    return Tensor._wrap(input.array.copy())     # integers are already whole


def _rounding(op, function):
    def public(input):
        check_tensor(input, op)
        return function.apply(input) if input.dtype.kind in "fV" else _round_integers(input, op)
    public.__name__ = public.__qualname__ = op
    public.__doc__ = function.__doc__
    return public


floor = _rounding("floor", Floor)
ceil = _rounding("ceil", Ceil)
trunc = fix = _rounding("trunc", Trunc)


def round(input, *, decimals=0):
    """Round half to even, to ``decimals`` places (negative: tens, hundreds, ...)."""
    check_tensor(input, "round")
    if input.dtype.kind not in "fV":
        if input.dtype.kind == "b" or decimals != 0:  # PyTorch has no such kernel
            raise NotImplementedError(f"\"round\" not implemented for {input.dtype} tensors"
                                      + (f" with decimals={decimals}" if decimals else ""))
        return _round_integers(input)
    return Round.apply(input, int(decimals))


def sign(input):
    """−1, 0 or 1 in the input's dtype (bool stays bool); zero gradient."""
    check_tensor(input, "sign")
    if input.dtype == dtypes.bool_:
        return Tensor._wrap(input.array.copy())
    return Sign.apply(input)


class Frac(PointwiseFunction):
    """z = x − trunc x;  dx = dz."""

    def forward(self, x):
        return x.array - x.xp.trunc(x.array)

    def backward(self, dz):
        return dz


def frac(input):
    check_tensor(input, "frac")
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f"frac is not implemented for dtype {input.dtype}")
    return Frac.apply(input)


# ---------------------------------------------------------------- predicates, nan_to_num
def _predicate(op):
    def public(input):
        check_tensor(input, op)
        return Tensor._wrap(getattr(input.xp, op)(input.array))
    public.__name__ = public.__qualname__ = op
    public.__doc__ = f"Elementwise ``{op}``: a bool tensor with no gradient."
    return public


isnan, isinf, isfinite = _predicate("isnan"), _predicate("isinf"), _predicate("isfinite")
isposinf, isneginf = _predicate("isposinf"), _predicate("isneginf")


class NanToNum(PointwiseFunction):
    """z = x with nan, +inf, −inf replaced by the given values (default 0, the dtype's
    largest and lowest finite numbers);  dx = dz where x is finite, else 0."""

    def forward(self, x, nan, posinf, neginf):
        self.save_for_backward(x)
        return x.xp.nan_to_num(x.array, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, dz):
        return masked_grad(dz.xp.isfinite(self.saved_tensors[0].array), dz)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    check_tensor(input, "nan_to_num")
    if input.dtype.kind not in "fV":
        return Tensor._wrap(input.array.copy())
    return NanToNum.apply(input, nan, posinf, neginf)


