"""Smooth elementwise functions of two tensors: atan2, hypot, logaddexp/logaddexp2, xlogy,
copysign and lerp.

Operands are promoted (``operands.promote``) and broadcast to one shape S; integer and bool
results become the default float dtype (as in PyTorch; hypot and logaddexp refuse integer
inputs as PyTorch's kernels do). Each input's gradient is its elementwise partial derivative
times dz, reduced back by ``sum_to``; partials are written with Tensor ops, so they
differentiate again. Formulas and special values (0/0 → nan at the origin for atan2 and
hypot, x = 0 → 0 for xlogy) are PyTorch's derivatives.yaml ones.
"""
from .. import dtypes
from ..tensor import Tensor
from .arithmetic import _check_broadcast
from .broadcast import sum_to
from .operands import check_tensor, promote
from .pointwise import exp, exp2
from .pointwise_piecewise import PointwiseFunction, masked_grad
from ..amp.autocast_mode import autocast_op

__all__ = ["atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign", "lerp"]


def _float_operands(input, other, op, *, integers=True, scalar_other=True, scalar_input=False):
    """(a, b) promoted to one float dtype; ``integers=False`` raises PyTorch's
    NotImplementedError for an integer or bool result dtype."""
    if not scalar_input:
        check_tensor(input, op)
    if not scalar_other:
        check_tensor(other, op, "other")
    a, b = promote(input, other, op=op)
    if a.dtype.kind not in "fV":
        if not integers:
            raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                      f"'{dtypes.scalar_type_name(a.dtype)}'")
        default = dtypes.get_default_dtype()
        a, b = a.to(default), b.to(default)
    _check_broadcast(a, b)
    return a, b


class _Binary(PointwiseFunction):
    """Shared shape bookkeeping: ``grads(a, b, dz)`` returns the two unreduced partials."""

    def forward(self, a, b):
        self.input_shapes = a.shape, b.shape
        self.save_for_backward(a, b)
        return self.compute(a.xp, a.array, b.array)

    def backward(self, dz):
        a, b = self.saved_tensors
        da, db = self.grads(a, b, dz)
        return (sum_to(da, self.input_shapes[0]) if self.needs_input_grad[0] else None,
                sum_to(db, self.input_shapes[1]) if self.needs_input_grad[1] else None)


class Atan2(_Binary):
    """z = atan2(a, b), the angle of the point (b, a) in (−π, π];
    da = dz ⊙ b r,  db = −dz ⊙ a r  with r = 1/(a² + b²), taken as 0 where a² + b² = 0
    (PyTorch's convention: both gradients are 0 at the origin)."""

    def compute(self, xp, a, b):
        return xp.arctan2(a, b)

    def grads(self, a, b, dz):
        s = a * a + b * b
        zero = s.array == 0
        # 1/(s + [s = 0]) ⊙ [s ≠ 0]: finite everywhere and still differentiable in s.
        r = masked_grad(~zero, 1.0 / (s + Tensor._wrap(zero.astype(s.dtype))))
        return dz * b * r, dz * -a * r


class Hypot(_Binary):
    """z = √(a² + b²) without overflow;  da = dz ⊙ a / z,  db = dz ⊙ b / z."""

    def compute(self, xp, a, b):
        return xp.hypot(a, b)

    def grads(self, a, b, dz):
        z = hypot(a, b)
        return dz * a / z, dz * b / z


class LogAddExp(_Binary):
    """z = ln(eᵃ + eᵇ) (no overflow);  da = dz / (1 + e^(b − a)),  db = dz / (1 + e^(a − b))."""

    def compute(self, xp, a, b):
        return xp.logaddexp(a, b)

    def grads(self, a, b, dz):
        return dz / (exp(b - a) + 1.0), dz / (exp(a - b) + 1.0)


class LogAddExp2(_Binary):
    """z = log₂(2ᵃ + 2ᵇ);  da = dz / (1 + 2^(b − a)),  db = dz / (1 + 2^(a − b))."""

    def compute(self, xp, a, b):
        return xp.logaddexp2(a, b)

    def grads(self, a, b, dz):
        return dz / (exp2(b - a) + 1.0), dz / (exp2(a - b) + 1.0)


class Xlogy(_Binary):
    """z = a·ln b, with z = 0 where a = 0 (unless b is nan);
    da = xlogy(dz, b), set to 0 where a = 0 and b ≤ 0,  db = dz ⊙ a / b  (PyTorch's)."""

    def compute(self, xp, a, b):
        z = a * xp.log(b)
        return xp.where((a == 0) & ~xp.isnan(b), xp.zeros((), dtype=z.dtype), z)

    def grads(self, a, b, dz):
        keep = ~((a.array == 0) & (b.array <= 0))
        return masked_grad(dz.xp.broadcast_to(keep, dz.shape), xlogy(dz, b)), dz * a / b


class Copysign(_Binary):
    """z = |a| with the sign of b;  da = dz ⊙ z / a (±1; 0 where a = 0),  db = 0."""

    def compute(self, xp, a, b):
        z = xp.copysign(a, b)
        self.factor = xp.where(a == 0, xp.zeros((), dtype=z.dtype), z / xp.where(a == 0, 1, a))
        return z

    def grads(self, a, b, dz):
        factor = Tensor._wrap(dz.xp.asarray(self.factor, dtype=dz.dtype))
        return dz * factor, dz * 0.0


@autocast_op("atan2")
def atan2(input, other):
    """atan2(input, other): the angle of (other, input), elementwise, in radians."""
    return Atan2.apply(*_float_operands(input, other, "atan2", scalar_other=False))


arctan2 = atan2


def hypot(input, other):
    """√(input² + other²), elementwise (float tensors only, as in PyTorch)."""
    return Hypot.apply(*_float_operands(input, other, "hypot", integers=False,
                                        scalar_other=False))


def logaddexp(input, other):
    """ln(e^input + e^other), elementwise, without overflow (float tensors only)."""
    return LogAddExp.apply(*_float_operands(input, other, "logaddexp", integers=False,
                                            scalar_other=False))


def logaddexp2(input, other):
    """log₂(2^input + 2^other), elementwise, without overflow (float tensors only)."""
    return LogAddExp2.apply(*_float_operands(input, other, "logaddexp2", integers=False,
                                             scalar_other=False))


def xlogy(input, other):
    """input·ln(other), 0 where input = 0 (unless other is nan); either may be a number."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    return Xlogy.apply(*_float_operands(input, other, "xlogy", scalar_input=True))


def copysign(input, other):
    """|input| with the sign of other (a tensor or a number), elementwise."""
    return Copysign.apply(*_float_operands(input, other, "copysign"))


# ---------------------------------------------------------------- lerp
class Lerp(PointwiseFunction):
    """z = a + w(b − a), computed as b − (b − a)(1 − w) where |w| ≥ ½ (PyTorch's form, exact
    at w = 1);  da = dz ⊙ (1 − w),  db = dz ⊙ w,  dw = dz ⊙ (b − a)."""

    def forward(self, a, b, w):
        self.input_shapes = a.shape, b.shape, w.shape
        self.save_for_backward(a, b, w)
        xp, a, b, w = a.xp, a.array, b.array, w.array
        return xp.where(xp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))

    def backward(self, dz):
        a, b, w = self.saved_tensors
        sa, sb, sw = self.input_shapes
        need = self.needs_input_grad
        return (sum_to(dz * (1.0 - w), sa) if need[0] else None,
                sum_to(dz * w, sb) if need[1] else None,
                sum_to(dz * (b - a), sw) if need[2] else None)


def lerp(input, end, weight):
    """input + weight·(end − input); ``end`` a tensor of input's dtype, ``weight`` a number
    or a tensor (of input's dtype unless 0-d). Float dtypes only, as in PyTorch."""
    return Lerp.apply(*lerp_operands(input, end, weight))


def lerp_operands(input, end, weight):
    """PyTorch's checks of lerp's arguments; (input, end, weight as a tensor)."""
    check_tensor(input, "lerp")
    check_tensor(end, "lerp", "end")
    if end.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {dtypes.c_type_name(input.dtype)} for `end` but got "
                           f"dtype {dtypes.c_type_name(end.dtype)}")
    if isinstance(weight, Tensor):
        if weight.ndim and weight.dtype != input.dtype:
            raise RuntimeError(f"expected dtype {dtypes.c_type_name(input.dtype)} for `weight` "
                               f"but got dtype {dtypes.c_type_name(weight.dtype)}")
        if weight.dtype != input.dtype:
            weight = weight.to(input.dtype)
    if input.dtype.kind not in "fV":
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    if not isinstance(weight, Tensor):
        weight = Tensor._wrap(input.xp.asarray(weight, dtype=input.dtype))
    _check_broadcast(input, end)
    _check_broadcast(input, weight)
    _check_broadcast(end, weight)
    return input, end, weight

