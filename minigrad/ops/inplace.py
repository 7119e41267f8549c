"""In-place ops: ``add_ sub_ mul_ div_ pow_ clamp_ masked_fill_ fill_ zero_ copy_ lerp_``.

Each is its out-of-place twin written back into the tensor's own array
(``Function.apply_inplace``): the tensor's version counter goes up by one, so any node that
saved the old value refuses to run backward (PyTorch's "modified by an inplace operation"
error), and when autograd is recording the tensor becomes the output of the new node.
A leaf that requires grad cannot be modified in place while recording (PyTorch's rule);
under ``no_grad`` it can, which is how optimisers update parameters.
"""
from ..tensor import Tensor
from ..autograd.function import Function
from ..autograd.functional import grad
from ..autograd.grad_mode import no_grad, enable_grad
from .arithmetic import Add, Sub, Mul, Div, check_sub_operands
from .broadcast import sum_to, broadcast_to
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
    return _binary_inplace(Add, self, other * alpha if alpha != 1 else other, "add_")


def sub_(self, other, alpha=1):
    check_sub_operands(self, other)
    return _binary_inplace(Sub, self, other * alpha if alpha != 1 else other, "sub_")


def mul_(self, other):
    return _binary_inplace(Mul, self, other, "mul_")


def div_(self, other):
    if self.dtype.kind != "f":
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
