"""Masking ops: ``masked_fill`` (and the operands ``masked_fill_`` shares) and ``tril``/``triu``.

Each keeps the input where a constant mask allows and writes a constant elsewhere, so the
VJP is the gradient with the same mask applied: dx = where(mask, 0, dy). For masked_fill the
filled value, when a tensor, receives the sum of dy over the masked positions.
"""
from .. import dtypes
from ..tensor import Tensor
from ..autograd.function import Function
from .broadcast import sum_to, broadcast_to
from .operands import broadcast_shapes, check_same_device

__all__ = ["masked_fill", "tril", "triu"]


class MaskedFill(Function):
    """y = where(mask, value, x)  (value 0-d, mask broadcast to x.shape);
    dx = where(mask, 0, dy),  dvalue = Σ where(mask, dy, 0)."""
    overlap_checked_by_caller = True  # the 0-d value acts as a number

    def forward(self, x, mask, value):
        self.save_for_backward(mask)
        return x.xp.where(mask.array, value.array.astype(x.dtype), x.array)

    def backward(self, dy):
        (mask,) = self.saved_tensors
        zero = Tensor._wrap(dy.xp.zeros((), dtype=dy.dtype))
        dx = MaskedFill.apply(dy, mask, zero) if self.needs_input_grad[0] else None
        dvalue = None
        if self.needs_input_grad[2]:
            inverse = Tensor._wrap(dy.xp.logical_not(mask.array))
            dvalue = sum_to(MaskedFill.apply(dy, inverse, zero), ())
        return dx, None, dvalue


class Tril(Function):
    """y = x with entries above diagonal k zeroed (last two dims);  dx = tril(dy, k)."""

    def forward(self, x, diagonal):
        self.diagonal = diagonal
        return x.xp.tril(x.array, diagonal)

    def backward(self, dy):
        return Tril.apply(dy, self.diagonal)


class Triu(Function):
    """y = x with entries below diagonal k zeroed (last two dims);  dx = triu(dy, k)."""

    def forward(self, x, diagonal):
        self.diagonal = diagonal
        return x.xp.triu(x.array, diagonal)

    def backward(self, dy):
        return Triu.apply(dy, self.diagonal)



def masked_fill_operands(input, mask, value):
    """Validate masked_fill's mask (a bool tensor on input's device) and value (a number or
    a 0-d tensor), returning both as tensors, value cast to input's dtype. Shared with the
    in-place ``masked_fill_`` (``MaskedFill.apply_inplace(self, *masked_fill_operands(...))``)."""
    if not isinstance(mask, Tensor):
        mask = Tensor._wrap(input.xp.asarray(mask))
    if mask.dtype != dtypes.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{dtypes.c_type_name(mask.dtype)}")
    check_same_device([input, mask], "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        value = value.to(device=input.device, dtype=input.dtype)
    else:
        dtypes.check_representable(value, input.dtype)  # NaN/inf/out of range: raise
        value = Tensor._wrap(input.xp.asarray(value).astype(input.dtype))
    return mask, value


def masked_fill(input, mask, value):
    """Where ``mask`` (bool, broadcast with input) is True, ``value`` (a number or a 0-d
    tensor, differentiable); elsewhere input. The result has input's dtype."""
    mask, value = masked_fill_operands(input, mask, value)
    shape = broadcast_shapes(input.shape, mask.shape)
    if tuple(input.shape) != shape:
        input = broadcast_to(input, shape)
    return MaskedFill.apply(input, mask, value)


def _check_matrix(input, name):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


def tril(input, diagonal=0):
    _check_matrix(input, "tril")
    return Tril.apply(input, int(diagonal))


def triu(input, diagonal=0):
    _check_matrix(input, "triu")
    return Triu.apply(input, int(diagonal))


