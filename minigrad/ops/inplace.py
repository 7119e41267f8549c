"""In-place ops: ``add_ sub_ mul_ div_ pow_ clamp_ masked_fill_ fill_ zero_ copy_ lerp_``.

Each is its out-of-place twin written back into the tensor's own array
(``Function.apply_inplace``): the tensor's version counter goes up by one, so any node that
saved the old value refuses to run backward (PyTorch's "modified by an inplace operation"
error), and when autograd is recording the tensor becomes the output of the new node.
A leaf that requires grad cannot be modified in place while recording (PyTorch's rule);
under ``no_grad`` it can, which is how optimisers update parameters.
"""
import numbers

from ..tensor import Tensor
from ..autograd.function import Function, check_no_partial_overlap
from ..autograd.functional import grad
from ..autograd.grad_mode import no_grad, enable_grad, is_grad_enabled
from .arithmetic import (Add, Sub, Mul, Div, check_sub_operands, scale_by_alpha, pow,
                         bitwise_and, bitwise_or, bitwise_xor)
from .broadcast import sum_to, broadcast_to
from . import (arithmetic, pointwise, pointwise_binary, pointwise_inverse, pointwise_piecewise,
               rounding)
from .conversion import clone
from .logic import bitwise_left_shift, bitwise_right_shift
from .rounding import floor_divide, remainder
from .masking import MaskedFill, masked_fill_operands
from .operands import check_tensor, promote, result_dtype
from .operands import broadcast_shapes
from .pointwise_binary import Lerp, lerp_operands
from .pointwise_piecewise import clamp
from .. import dtypes
from ..dtypes import category

__all__ = []


def _binary_inplace(function, self, other, op):
    """The result keeps self's dtype, so ``other`` is cast to it; promoting to a higher
    category (an int tensor += a float) is an error, as in PyTorch."""
    target = result_dtype(self, other)
    if category(target) > category(self.dtype):
        raise RuntimeError(f"result type {target} can't be cast to the desired output type "
                           f"{self.dtype} (in {op})")
    return function.apply_inplace(self, promote(self, other, op=op, dtype=self.dtype)[1])


def add_(self, other, alpha=1):
    return _binary_inplace(Add, self, scale_by_alpha(self, other, alpha), "add_")


def sub_(self, other, alpha=1):
    check_sub_operands(self, other)
    return _binary_inplace(Sub, self, scale_by_alpha(self, other, alpha), "sub_")


def mul_(self, other):
    return _binary_inplace(Mul, self, other, "mul_")


def div_(self, other):
    if self.dtype.kind not in "fV":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {self.dtype}")
    return _binary_inplace(Div, self, other, "div_")



class _Apply(Function):
    """y = f(x) for an out-of-place op f given as a Python callable; the VJP is f's own,
    taken by re-running f on a fresh leaf. Used so ``clamp_`` and ``masked_fill_`` reuse the
    out-of-place ops instead of duplicating their backward."""

    def forward(self, x, fn, *args):
        self.fn, self.args = fn, args
        self.save_for_backward(x)
        with no_grad():
            return fn(x.detach(), *args).array

    def backward(self, dy):
        (x,) = self.saved_tensors
        probe = x.detach().requires_grad_(True)
        with enable_grad():
            y = self.fn(probe, *self.args)
        return grad(y, probe, grad_outputs=dy, create_graph=dy.requires_grad)[0]


def clamp_(self, min=None, max=None):
    return _Apply.apply_inplace(self, clamp, min, max)


def masked_fill_(self, mask, value):
    return MaskedFill.apply_inplace(self, *masked_fill_operands(self, mask, value))


class Fill(Function):
    """y = c everywhere (c a scalar or a 0-d tensor);  dx = 0,  dc = Σ dy."""
    overlap_checked_by_caller = True  # the 0-d value acts as a number

    def forward(self, x, value):
        self.shape = x.shape
        v = value.array if isinstance(value, Tensor) else dtypes.cast_scalar(value, x.dtype)
        return x.xp.full(x.shape, v, dtype=x.dtype)

    def backward(self, dy):
        return (dy * 0, sum_to(dy, ())) if len(self.needs_input_grad) == 2 else dy * 0


def fill_(self, value):
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if not isinstance(value, Tensor):
        dtypes.check_representable(value, self.dtype)
    return Fill.apply_inplace(self, value)


def zero_(self):
    return Fill.apply_inplace(self, 0)


class Copy(Function):
    """y = broadcast(src) cast to x's dtype;  dx = 0,  dsrc = sum_to(dy, src.shape)."""

    def forward(self, x, src):
        self.src_shape, self.src_dtype = src.shape, src.dtype
        return x.xp.broadcast_to(src.array, x.shape).astype(x.dtype)

    def backward(self, dy):
        return dy * 0, sum_to(dy, self.src_shape).to(self.src_dtype)


def copy_(self, src, non_blocking=False):
    check_tensor(src, "copy_", "src")
    src = src.to(self.device)
    try:
        broadcast_to(src.detach(), self.shape)
    except RuntimeError:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(src.shape)}") from None
    return Copy.apply_inplace(self, src)


def lerp_(self, end, weight):
    """self ← self + weight·(end − self) (``ema.lerp_(param, 1 − decay)``); end and weight
    must broadcast to self's shape."""
    operands = lerp_operands(self, end, weight)
    shape = broadcast_shapes(*(t.shape for t in operands))
    if tuple(shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    return Lerp.apply_inplace(*operands)


def _written_back(function, op):
    """``self.<op>(*args)`` (and ``self <op>= other``) for ops without a dedicated in-place
    Function: the out-of-place result written back into ``self`` with ``copy_`` (so a view's
    base sees it and autograd records it), under PyTorch's in-place rules: the result's dtype
    may not be of a higher category than self's (``int_tensor **= 0.5`` and
    ``int_tensor.sqrt_()`` are refused) and its shape must be self's (no broadcasting self
    up). Nothing is written when either check fails."""
    def inplace(self, *args, **kwargs):
        check_no_partial_overlap(self, [*args, *kwargs.values()])
        if args and isinstance(args[0], (Tensor, numbers.Number)):  # PyTorch checks this first
            target = result_dtype(self, args[0])
            if category(target) > category(self.dtype):
                raise RuntimeError(f"result type {target} can't be cast to the desired output "
                                   f"type {self.dtype} (in {op})")
        recording = is_grad_enabled() and (self.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values())))
        result = function(clone(self) if recording else self, *args, **kwargs)
        if category(result.dtype) > category(self.dtype):
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output "
                               f"type {self.dtype} (in {op})")
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                               f"shape {list(result.shape)}")
        if not recording:
            self.array[...] = result.array.astype(self.dtype, copy=False)
            self._version_counter.value += 1
            return self
        return copy_(self, result)
    inplace.__name__ = inplace.__qualname__ = op
    inplace.__doc__ = f"``self.{op}(...)``: ``{function.__name__}`` written back into self."
    return inplace


pow_ = _written_back(pow, "pow_")
floor_divide_ = _written_back(floor_divide, "floor_divide_")
remainder_ = _written_back(remainder, "remainder_")
bitwise_and_ = _written_back(bitwise_and, "bitwise_and_")
bitwise_or_ = _written_back(bitwise_or, "bitwise_or_")
bitwise_xor_ = _written_back(bitwise_xor, "bitwise_xor_")
bitwise_left_shift_ = _written_back(bitwise_left_shift, "bitwise_left_shift_")
bitwise_right_shift_ = _written_back(bitwise_right_shift, "bitwise_right_shift_")

# Unary (and a few binary) methods with a trailing underscore: t.exp_(), t.abs_(), ...
_WRITTEN_BACK_FROM = {
    pointwise: ("exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "sin",
                "cos", "tan", "sinh", "cosh", "tanh", "sigmoid",
                "reciprocal", "square", "erf"),
    pointwise_inverse: ("asin", "acos", "atan"),
    pointwise_piecewise: ("abs", "relu", "clamp_min", "clamp_max"),
    rounding: ("floor", "ceil", "round", "trunc", "frac", "sign", "nan_to_num"),
    pointwise_binary: ("atan2", "hypot"),
    arithmetic: ("neg", "logical_not", "bitwise_not", "logical_and", "logical_or"),
}
WRITTEN_BACK = {f"{name}_": _written_back(getattr(module, name), f"{name}_")
                for module, names in _WRITTEN_BACK_FROM.items() for name in names}
