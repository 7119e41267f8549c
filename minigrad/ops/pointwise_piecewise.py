"""Piecewise elementwise ops, whose gradients are masks: where, maximum/minimum, clamp,
abs, relu/leaky_relu and hardtanh (``F.hardtanh``/``F.relu6`` only; no ``torch.hardtanh``)
(rounding, division with remainder and the predicates are in ``rounding.py``).

Operands are promoted with ``operands.promote`` and broadcast to one shape S; each input's
gradient is a masked copy of dz (PyTorch's ``where(mask, dz, 0)``, so an inf or NaN in dz
outside the mask gives 0, not NaN) reduced back with ``sum_to``. Masks are constants, so
the gradients are linear in dz and differentiate again (their second derivative is 0).
Integer dtypes are kept. ``pointwise.py`` re-exports everything here.

Like PyTorch, no pointwise op warns about the infs and nans IEEE arithmetic produces
(log 0, 0·inf, overflow): ``PointwiseFunction`` runs forward and backward with numpy's
floating-point warnings off.
"""
import functools

import numpy as np

from .. import dtypes
from ..device import quiet_floating_point
from ..tensor import Tensor
from ..autograd.function import Function
from .broadcast import sum_to
from .operands import promote, broadcast_shapes, check_same_device, check_tensor, result_dtype

__all__ = ["where", "maximum", "minimum", "clamp", "clip", "clamp_min", "clamp_max", "abs",
           "absolute", "relu"]


def _silenced(method):
    @functools.wraps(method)
    def silenced(self, tensor, *args, **kwargs):
        with quiet_floating_point(tensor.xp, all="ignore"):
            return method(self, tensor, *args, **kwargs)
    return silenced


class PointwiseFunction(Function):
    """A Function whose ``forward`` and ``backward`` (first argument a Tensor) run without
    floating-point warnings: inf and nan are results here, as in PyTorch, not errors."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("forward", "backward"):
            if name in vars(cls):
                setattr(cls, name, _silenced(vars(cls)[name]))


def masked_grad(mask, grad):
    """``grad`` where the xp bool array ``mask`` holds, else 0; differentiable in grad."""
    zero = Tensor._wrap(grad.xp.zeros((), dtype=grad.dtype))
    return Where.apply(Tensor._wrap(mask), grad, zero)


class Where(PointwiseFunction):
    """z = c ? a : b  (c bool; c, a, b broadcast to S);
    da = sum_to(c ? dz : 0, a.shape),  db = sum_to(c ? 0 : dz, b.shape)."""

    def forward(self, condition, a, b):
        self.condition = condition.array
        self.input_shapes = a.shape, b.shape
        return a.xp.where(condition.array, a.array, b.array)

    def backward(self, dz):
        sa, sb = self.input_shapes
        c = dz.xp.broadcast_to(self.condition, dz.shape)
        return (None,
                sum_to(masked_grad(c, dz), sa) if self.needs_input_grad[1] else None,
                sum_to(masked_grad(~c, dz), sb) if self.needs_input_grad[2] else None)


def where(condition, input=None, other=None):
    """``where(c, input, other)``: input where c, else other (either may be a number).
    ``where(c)`` alone is ``nonzero(c, as_tuple=True)``: one int64 index tensor per dim."""
    check_tensor(condition, "where", "condition")
    if input is None and other is None:
        xp = condition.xp
        return tuple(Tensor._wrap(i.astype(dtypes.int64))
                     for i in xp.nonzero(xp.atleast_1d(condition.array)))
    if input is None or other is None:
        raise TypeError("where() takes a condition and both `input` and `other`, or the "
                        "condition alone")
    if condition.dtype != dtypes.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}")
    a, b = promote(input, other, op="where")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two numbers: their 0-d tensors live where the condition does, as in PyTorch
        a, b = a.to(condition.device), b.to(condition.device)
    check_same_device([condition, a, b], "where")
    broadcast_shapes(condition.shape, a.shape, b.shape)
    return Where.apply(condition, a, b)


def where_method(self, condition, other):
    """``Tensor.where``: self is the *input*, ``x.where(c, y) == where(c, x, y)``."""
    return where(condition, self, other)


def _tie_split(dz, tie, lose):
    """PyTorch's max/min VJP: dz/2 at ties, 0 where this operand lost, else dz."""
    return masked_grad(~lose, Where.apply(Tensor._wrap(tie), dz * 0.5, dz))


class Maximum(PointwiseFunction):
    """z = max(a, b) (NaN propagates), broadcast to S;
    da = sum_to(dz where a > b, dz/2 where a = b, 0 where a < b),  db likewise."""
    ufunc = "maximum"

    def forward(self, a, b):
        self.input_shapes = a.shape, b.shape
        self.save_for_backward(a, b)
        return getattr(a.xp, self.ufunc)(a.array, b.array)

    def backward(self, dz):
        a, b = self.saved_tensors
        (sa, sb), tie = self.input_shapes, a.array == b.array
        a_loses, b_loses = (a.array < b.array, a.array > b.array) if self.ufunc == "maximum" else \
                           (a.array > b.array, a.array < b.array)
        return (sum_to(_tie_split(dz, tie, a_loses), sa) if self.needs_input_grad[0] else None,
                sum_to(_tie_split(dz, tie, b_loses), sb) if self.needs_input_grad[1] else None)


class Minimum(Maximum):
    """z = min(a, b) (NaN propagates), broadcast to S;
    da = sum_to(dz where a < b, dz/2 where a = b, 0 where a > b),  db likewise."""
    ufunc = "minimum"


def _tensor_pair(function, input, other, op):
    check_tensor(input, op)
    check_tensor(other, op, "other")
    a, b = promote(input, other, op=op)
    broadcast_shapes(a.shape, b.shape)
    return function.apply(a, b)


def maximum(input, other):
    """Elementwise maximum of two tensors (PyTorch takes no numbers here either)."""
    return _tensor_pair(Maximum, input, other, "maximum")


def minimum(input, other):
    """Elementwise minimum of two tensors."""
    return _tensor_pair(Minimum, input, other, "minimum")


class Clamp(PointwiseFunction):
    """z = min(max(x, lo), hi), lo and hi optional, all broadcast to S (so z = hi where
    lo > hi).  dx = dz where lo ≤ x ≤ hi (boundaries included),
    dlo = dz where x < lo (and lo < hi),  dhi = dz where x > hi (or hi < lo); each sum_to."""

    def forward(self, x, lo, hi):
        self.save_for_backward(x, lo, hi)
        z = x.array
        if lo is not None:
            z = x.xp.maximum(z, lo.array)
        if hi is not None:
            z = x.xp.minimum(z, hi.array)
        return z

    def backward(self, dz):
        x, lo, hi = self.saved_tensors
        xd = x.array
        if lo is not None and hi is not None:
            masks = ((xd >= lo.array) & (xd <= hi.array), (xd < lo.array) & (lo.array < hi.array),
                     (xd > hi.array) | (hi.array < lo.array))
        else:
            masks = (xd >= lo.array, xd < lo.array, None) if lo is not None else \
                    (xd <= hi.array, None, xd > hi.array)
        present = [(t, m) for t, m in zip((x, lo, hi), masks) if t is not None]
        return tuple(sum_to(masked_grad(dz.xp.broadcast_to(m, dz.shape), dz), t.shape) if needs
                     else None for (t, m), needs in zip(present, self.needs_input_grad))


def clamp(input, min=None, max=None):
    """Clamp into [min, max]; either bound may be None, a number or a tensor (broadcast).
    The result has the promoted dtype (an int tensor clamped by 0.5 becomes float32)."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    bounds = [v for v in (min, max) if v is not None]
    if input.dtype.kind == "b" and all(isinstance(v, (bool, np.bool_)) for v in bounds):
        raise NotImplementedError("\"clamp_scalar_cpu\" not implemented for 'Bool'")
    target = result_dtype(input, *bounds)
    for bound in bounds:  # a number bound must fit an integral result (uint8 clamp(max=300))
        if not isinstance(bound, Tensor):
            dtypes.check_representable(bound, target)
    values = promote(input, *bounds, op="clamp")
    broadcast_shapes(*(v.shape for v in values))
    lo = values[1] if min is not None else None
    hi = values[-1] if max is not None else None
    return Clamp.apply(values[0], lo, hi)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


# ---------------------------------------------------------------- abs
def sign_array(a):
    """PyTorch's sign: [a > 0] − [a < 0], so 0 (not nan) for nan."""
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Abs(PointwiseFunction):
    """z = |x|;  dx = dz ⊙ sign(x)  (0 at x = 0 and at nan)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.abs(x.array)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return dz * Tensor._wrap(sign_array(x.array))


def abs(input):
    check_tensor(input, "abs")
    if input.dtype == dtypes.bool_:
        raise NotImplementedError("abs is not implemented for bool tensors")
    return Abs.apply(input)


absolute = abs


# ---------------------------------------------------------------- relu, leaky_relu, hardtanh
class Relu(PointwiseFunction):
    """z = max(x, 0);  dx = 0 where x ≤ 0 (so 0 at x = 0), else dz (dz at nan, like PyTorch)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x.xp.maximum(x.array, x.array.dtype.type(0))

    def backward(self, dz):
        # where(x ≤ 0, 0, dz): one comparison and one select (~(x ≤ 0) would cost a third
        # pass over the activations); NaN compares false, so its gradient passes, as in PyTorch.
        zero = Tensor._wrap(dz.xp.zeros((), dtype=dz.dtype))
        return Where.apply(Tensor._wrap(self.saved_tensors[0].array <= 0), zero, dz)


def relu(input):
    """max(x, 0); integer tensors stay integer."""
    check_tensor(input, "relu")
    if input.dtype == dtypes.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


class LeakyRelu(PointwiseFunction):
    """z = x for x > 0, s·x otherwise;  dx = dz or s·dz (s·dz at x = 0)."""

    def forward(self, x, negative_slope):
        self.save_for_backward(x)
        self.slope = negative_slope
        return x.xp.where(x.array > 0, x.array, x.array * negative_slope)

    def backward(self, dz):
        (x,) = self.saved_tensors
        return Where.apply(Tensor._wrap(x.array > 0), dz, dz * self.slope)


class Hardtanh(Function):
    """z = clamp(x, lo, hi);  dx = dz where lo < x < hi, else 0 — zero *at* the corners too,
    which is where it differs from clamp (PyTorch's hardtanh_backward)."""

    def forward(self, x, low, high):
        self.inside = (x.array > low) & (x.array < high)
        return x.xp.clip(x.array, low, high).astype(x.dtype, copy=False)

    def backward(self, dz):
        return masked_grad(self.inside, dz)


def apply_activation(function, input, op, *args, inplace=False):
    """Apply an ``nn.functional`` activation: float tensors only, optionally in place."""
    check_tensor(input, op)
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f"{op} is not implemented for dtype {input.dtype}")
    if inplace:
        return function.apply_inplace(input, *args)
    return function.apply(input, *args)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope·x (``F.leaky_relu``)."""
    return apply_activation(LeakyRelu, input, "leaky_relu", negative_slope, inplace=inplace)


