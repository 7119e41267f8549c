"""Elementwise arithmetic: + − × ÷ ** and negation, with broadcasting, plus comparisons.

Operands are promoted first (``operands.promote``); a binary op's output has the broadcast
shape S, and each input's gradient is the elementwise VJP reduced back by ``sum_to``.
Backward formulas are written with Tensor ops, so they are differentiable again.
"""
import numbers

import numpy as np

from ..tensor import Tensor
from ..autograd.function import Function
from ..dtypes import get_default_dtype, scalar_type_name
from .broadcast import sum_to
from .operands import promote, broadcast_shapes, result_dtype
from .pointwise import log, trunc
from .pointwise_piecewise import PointwiseFunction, where
from .rounding import floor_divide
from .sparse import SparseCOOTensor
from ..amp.autocast_mode import autocast_op


def _check_broadcast(a, b):
    if a.array.shape != b.array.shape:
        broadcast_shapes(a.array.shape, b.array.shape)


class Add(Function):
    """z = a + b;  da = sum_to(dz, a.shape),  db = sum_to(dz, b.shape)."""

    def forward(self, a, b):
        self.input_shapes = a.array.shape, b.array.shape
        return a.array + b.array

    def backward(self, dz):
        sa, sb = self.input_shapes
        return (sum_to(dz, sa) if self.needs_input_grad[0] else None,
                sum_to(dz, sb) if self.needs_input_grad[1] else None)


class Sub(Function):
    """z = a − b;  da = sum_to(dz),  db = −sum_to(dz)."""

    def forward(self, a, b):
        self.input_shapes = a.array.shape, b.array.shape
        return a.array - b.array

    def backward(self, dz):
        sa, sb = self.input_shapes
        return (sum_to(dz, sa) if self.needs_input_grad[0] else None,
                -sum_to(dz, sb) if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = a ⊙ b;  da = sum_to(dz ⊙ b),  db = sum_to(dz ⊙ a)."""

    def forward(self, a, b):
        self.input_shapes = a.array.shape, b.array.shape
        self.save_for_backward(a if b.requires_grad else None, b if a.requires_grad else None)
        return a.array * b.array

    def backward(self, dz):
        a, b = self.saved_tensors
        sa, sb = self.input_shapes
        return (sum_to(dz * b, sa) if self.needs_input_grad[0] else None,
                sum_to(dz * a, sb) if self.needs_input_grad[1] else None)


class Div(Function):
    """z = a / b;  da = sum_to(dz / b),  db = −sum_to(dz ⊙ a / b²)."""

    def forward(self, a, b):
        self.input_shapes = a.array.shape, b.array.shape
        self.save_for_backward(a if b.requires_grad else None, b)
        return a.array / b.array

    def backward(self, dz):
        a, b = self.saved_tensors
        da = sum_to(dz / b, self.input_shapes[0]) if self.needs_input_grad[0] else None
        db = sum_to(-dz * a / (b * b), self.input_shapes[1]) if self.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    """z = −a;  da = −dz."""

    def forward(self, a):
        return -a.array

    def backward(self, dz):
        return -dz


class PowScalar(Function):
    """z = aⁿ for a constant n;  da = dz ⊙ n aⁿ⁻¹."""

    def forward(self, a, exponent):
        self.save_for_backward(a)
        self.exponent = exponent
        # numpy lifts bool ** n to int8; the result keeps a's (already promoted) dtype.
        return (a.array ** exponent).astype(a.array.dtype, copy=False)

    def backward(self, dz):
        (a,) = self.saved_tensors
        n = self.exponent
        if n == 0:
            return dz * 0.0
        return dz * (n * a ** (n - 1)) if n != 1 else dz


class Pow(PointwiseFunction):
    """z = aᵇ (both tensors);  da = sum_to(dz ⊙ b aᵇ⁻¹),  db = sum_to(dz ⊙ aᵇ ln a).
    Where b = 0, da = 0 (not 0·0⁻¹ = nan); where a = 0 and b ≥ 0, db = 0, while a = 0 and
    b < 0 give db = ∞·(−∞) = −∞ (PyTorch's conventions)."""

    def forward(self, a, b):
        self.input_shapes = a.array.shape, b.array.shape
        self.save_for_backward(a, b)
        self.save_outputs_for_backward()
        return _int_power(a.xp, a.array, b.array) if a.array.dtype.kind in "iu" else a.array ** b.array

    def backward(self, dz):
        a, b = self.saved_tensors
        (z,) = self.saved_outputs
        da = db = None
        if self.needs_input_grad[0]:
            da = sum_to(where(b == 0, 0.0, dz * b * a ** (b - 1)), self.input_shapes[0])
        if self.needs_input_grad[1]:
            # 0 where a = 0 and b ≥ 0 (z·ln a would be 0·(−∞)); for a = 0, b < 0 it is
            # ∞·(−∞) = −∞, PyTorch's values.
            skip = (a == 0) & (b >= 0)
            db = sum_to(dz * where(skip, 0.0, z * log(where(skip, 1.0, a))), self.input_shapes[1])
        return da, db


def _int_power(xp, a, b):
    """Integer aᵇ where b may be negative (numpy refuses): PyTorch gives 1 for a = 1, ±1 for
    a = −1 and 0 for every other base (0 included)."""
    negative = b < 0
    if not negative.any():
        return a ** b
    z = a ** xp.where(negative, 0, b).astype(b.dtype, copy=False)
    minus_one = xp.where(b % 2 == 0, 1, -1).astype(z.dtype, copy=False)
    small = xp.where(a == 1, 1, xp.where(a == -1, minus_one, 0)).astype(z.dtype, copy=False)
    return xp.where(negative, small, z)


def _binary(function, a, b, op):
    a, b = promote(a, b, op=op)
    _check_broadcast(a, b)
    return function.apply(a, b)


def scale_by_alpha(input, other, alpha):
    """``other * alpha`` for ``add``/``sub`` (and their in-place forms) with PyTorch's
    checks: a float alpha is refused for an integral result, a bool alpha for a non-bool
    one; for a bool result alpha acts as a bool (``other & alpha``)."""
    if alpha == 1 and not isinstance(alpha, (bool, np.bool_)):
        return other
    target = result_dtype(input, other)
    if isinstance(alpha, (bool, np.bool_)):
        if target.kind != "b":
            raise RuntimeError(f"Boolean alpha only supported for Boolean results (the result "
                               f"dtype is {target}).")
    elif target.kind in "iub" and not isinstance(alpha, (numbers.Integral, np.integer)):
        raise RuntimeError(f"For integral input tensors, argument alpha must not be a floating "
                           f"point number (got alpha={alpha!r} for a {target} result).")
    if target.kind == "b":
        return other if alpha else other & False
    if isinstance(other, Tensor) and other.dtype != target:
        other = other.to(target)  # scale in the result's dtype: uint8 200 · 2 must not wrap
    return other * (int(alpha) if isinstance(alpha, (bool, np.bool_)) else alpha)


def add(input, other, alpha=1):
    input, other = _densify_sparse(input, other, "add")
    other = scale_by_alpha(input, other, alpha)
    return _binary(Add, input, other, "add")


def _densify_sparse(input, other, op):
    """dense ± sparse COO is dense (the sparse operand's ``to_dense()``, so its values get
    their gradient); sparse ± dense is refused, as PyTorch refuses it."""
    if isinstance(input, SparseCOOTensor):
        raise RuntimeError(f"{op}(sparse, dense) is not supported. Use {op}(dense, sparse) "
                           f"instead.")
    if isinstance(other, SparseCOOTensor):
        other = other.to_dense()
    return input, other


def _is_bool(value):
    return value.dtype.kind == "b" if isinstance(value, Tensor) else isinstance(value, (bool, np.bool_))


def check_sub_operands(input, other):
    """PyTorch refuses subtraction with a bool operand (a bool Python scalar included)."""
    if _is_bool(input) and _is_bool(other):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def sub(input, other, alpha=1):
    input, other = _densify_sparse(input, other, "sub")
    check_sub_operands(input, other)
    other = scale_by_alpha(input, other, alpha)
    return _binary(Sub, input, other, "sub")


def mul(input, other):
    return _binary(Mul, input, other, "mul")


def div(input, other, *, rounding_mode=None):
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    if rounding_mode is not None:
        return floor_divide(input, other) if rounding_mode == "floor" else _trunc_div(input, other)
    a, b = promote(input, other, op="div")
    if a.dtype.kind not in "fV":  # true division of integers gives the default float dtype
        a, b = a.to(get_default_dtype()), b.to(get_default_dtype())
    _check_broadcast(a, b)
    return Div.apply(a, b)


def _trunc_div(a, b):
    return trunc(div(a, b)).to(promote(a, b)[0].dtype)


def neg(input):
    if input.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(input)


@autocast_op("pow")
def pow(input, exponent):
    if _is_bool(input) and isinstance(exponent, Tensor) and _is_bool(exponent):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if not isinstance(input, Tensor):  # scalar ** tensor
        base, exponent = promote(input, exponent, op="pow")
        return Pow.apply(base, exponent)
    if isinstance(exponent, (numbers.Number, np.generic)):
        # A numpy scalar exponent is a weak scalar too: as a Python number it cannot
        # widen the result (float32 ** np.float64(2) stays float32).
        exponent = exponent.item() if isinstance(exponent, np.generic) else exponent
        target = result_dtype(input, exponent)
        if input.dtype != target:
            input = input.to(target)
        if input.dtype.kind in "iu" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return PowScalar.apply(input, exponent)
    return _binary(Pow, input, exponent, "pow")


# The reflected operators (``2 - t`` calls ``t.__rsub__(2)``): the number is the left operand.
def radd(self, other):
    return add(other, self) if isinstance(other, Tensor) else _binary(Add, other, self, "add")


def rsub(self, other):
    return sub(other, self)


def rmul(self, other):
    return _binary(Mul, other, self, "mul")


def rtruediv(self, other):
    return div(promote(other, self)[0], self)


def rpow(self, other):
    return pow(other, self)


def positive(input):
    """``+t``: the tensor itself (``torch.positive``)."""
    return input


# ---------------------------------------------------------------------- comparisons
def _compare(name, ufunc_name):
    def compare(input, other):
        a, b = promote(input, other, op=name)
        _check_broadcast(a, b)
        return Tensor._wrap(getattr(a.xp, ufunc_name)(a.array, b.array))
    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{ufunc_name}``; a bool tensor with no gradient."
    return compare


def comparison_operator(compare):
    """The ``==``-style dunder of a comparison: NotImplemented for a non-numeric operand, so
    Python falls back to identity (``t == None`` is False, as in PyTorch)."""
    def operator(self, other):
        if not isinstance(other, (Tensor, numbers.Number, np.generic, np.ndarray)):
            return NotImplemented
        return compare(self, other)
    return operator


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = _compare("lt", "less")
le = _compare("le", "less_equal")
gt = _compare("gt", "greater")
ge = _compare("ge", "greater_equal")


def contains(self, element):
    """``element in t``: ``(t == element).any()`` for a Tensor (broadcast against t) or a
    number, as PyTorch; any other element is a RuntimeError rather than a silent False."""
    if not isinstance(element, (Tensor, numbers.Number, np.generic)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed "
                           f"in a {type(element)}.")
    return bool((eq(self, element)).array.any())


def _logical(name, ufunc_name):
    def logical(input, other):
        a, b = promote(input, other, op=name)
        if name.startswith("bitwise") and a.dtype.kind in "fV":
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{scalar_type_name(a.dtype)}'")
        return Tensor._wrap(getattr(a.xp, ufunc_name)(a.array, b.array))
    logical.__name__ = name
    return logical


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
bitwise_and = _logical("bitwise_and", "bitwise_and")
bitwise_or = _logical("bitwise_or", "bitwise_or")
bitwise_xor = _logical("bitwise_xor", "bitwise_xor")
logical_xor = _logical("logical_xor", "logical_xor")


def true_divide(input, other):
    """``div`` without a rounding mode (PyTorch's alias): integers give the default float."""
    return div(input, other)


def logical_not(input):
    return Tensor._wrap(input.xp.logical_not(input.array))


def bitwise_not(input):
    if input.dtype.kind in "fV":
        raise TypeError("bitwise_not is not implemented for floating-point tensors")
    return Tensor._wrap(input.xp.invert(input.array))
