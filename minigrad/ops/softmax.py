"""softmax, log_softmax and logsumexp, computed max-shifted by the ``kernels`` package.

For a slice x along ``dim`` with y = softmax(x), the Jacobian is ∂y/∂x = diag(y) − y yᵀ,
which is symmetric, so its VJP is

    dx = (diag(y) − y yᵀ) dy = y ⊙ (dy − Σ_dim dy ⊙ y),

and for z = log_softmax(x) = x − logsumexp(x), ∂z/∂x = I − 1 yᵀ, so

    dx = dy − y Σ_dim dy,   with y = softmax(x) = exp(z).

Both backward passes are Tensor expressions over the saved output, so they differentiate
again. An all −∞ slice gives NaN (the value is undefined), as in PyTorch.
"""
import warnings

import minigrad_kernels as kernels

from ..tensor import _normalize_dim
from ..autograd.function import Function
from .. import dtypes
from ..device import quiet_floating_point
from .operands import check_tensor
from .reduction import (sum as reduce_sum, _count, _expand_grad, _kept_shape,
                        _reduced_shape, _reduction_axes)
from .pointwise import exp
from .shape import reshape
from ..amp.autocast_mode import autocast_op

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _along_dim(kernel, xp, x, axis):
    """Run a same-shape kernel along ``axis`` (a 0-d input as one element; a zero-size one
    never reaches it).
    An all −∞ slice gives NaN quietly, as in PyTorch (−∞ − (−∞) inside the kernel)."""
    if x.size == 0:
        return x.copy()
    if x.dtype == xp.float16:  # half is computed in float32 and rounded once, as PyTorch
        return _along_dim(kernel, xp, x.astype(xp.float32), axis).astype(xp.float16)
    with quiet_floating_point(xp, invalid="ignore"):
        if x.ndim == 0:
            return kernel(x.reshape(1), 0).reshape(())
        return kernel(x, axis)


class Softmax(Function):
    """y = exp(x − max) / Σ_dim exp(x − max).   (s) → (s)
    VJP (Jacobian diag(y) − y yᵀ applied slice by slice): dx = y ⊙ (dy − Σ_dim dy ⊙ y)."""

    def forward(self, x, axis):
        self.axis = axis
        self.save_outputs_for_backward()
        return _along_dim(kernels.softmax, x.xp, x.array, axis)

    def backward(self, dy):
        return SoftmaxBackward.apply(dy, self.saved_outputs[0], self.axis)


class SoftmaxBackward(Function):
    """v = y ⊙ (dy − s), s = Σ_dim dy ⊙ y: softmax's VJP as one node.
    Its own VJP (double backward), from ∂v_i/∂y_k = δ_ik (dy_i − s) − y_i dy_k and the
    symmetric Jacobian in dy:  d(dy) = SoftmaxBackward(g, y),
    d(y) = g ⊙ (dy − s) − dy ⊙ Σ_dim g ⊙ y."""

    def forward(self, dy, y, axis):
        self.axis = axis
        self.save_for_backward(dy, y)
        return y.array * (dy.array - (dy.array * y.array).sum(axis=axis, keepdims=True))

    def backward(self, g):
        dy, y = self.saved_tensors
        d_dy = SoftmaxBackward.apply(g, y, self.axis) if self.needs_input_grad[0] else None
        d_y = None
        if self.needs_input_grad[1]:
            s = reduce_sum(dy * y, self.axis, keepdim=True)
            d_y = g * (dy - s) - dy * reduce_sum(g * y, self.axis, keepdim=True)
        return d_dy, d_y


class LogSoftmax(Function):
    """z = (x − max) − log Σ_dim exp(x − max).   (s) → (s)
    VJP: dx = dy − exp(z) ⊙ Σ_dim dy   (exp(z) is softmax(x))."""

    def forward(self, x, axis):
        self.axis = axis
        self.save_outputs_for_backward()
        return _along_dim(kernels.log_softmax, x.xp, x.array, axis)

    def backward(self, dy):
        return LogSoftmaxBackward.apply(dy, self.saved_outputs[0], self.axis)


class LogSoftmaxBackward(Function):
    """v = dy − p ⊙ Σ_dim dy with p = exp(z): log_softmax's VJP as one node.
    Its own VJP: d(dy) = g − Σ_dim g ⊙ p (broadcast),  d(z) = −g ⊙ p ⊙ Σ_dim dy."""

    def forward(self, dy, z, axis):
        self.axis = axis
        self.save_for_backward(dy, z)
        xp = z.xp
        return dy.array - xp.exp(z.array) * dy.array.sum(axis=axis, keepdims=True)

    def backward(self, g):
        dy, z = self.saved_tensors
        p = exp(z)
        d_dy = g - reduce_sum(g * p, self.axis, keepdim=True) if self.needs_input_grad[0] else None
        d_z = -g * p * reduce_sum(dy, self.axis, keepdim=True) if self.needs_input_grad[1] else None
        return d_dy, d_z


def _implicit_dim(name, ndim):
    """PyTorch's legacy rule for a missing dim: 0 for 0-, 1- and 3-d inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(name, input, dim, dtype):
    check_tensor(input, name)
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f'"{name}" not implemented for dtype {input.dtype}; pass a '
                                  f"floating point input or dtype=")
    if dim is None:
        dim = _implicit_dim(name, input.ndim)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return input, _normalize_dim(dim, input.ndim)


@autocast_op("softmax")
def softmax(input, dim=None, dtype=None):
    """exp(x) / Σ_dim exp(x), max-shifted; ``dtype`` casts the input first. ``dim=None`` uses
    PyTorch's deprecated implicit choice (with its warning)."""
    input, axis = _prepare("softmax", input, dim, dtype)
    return Softmax.apply(input, axis)


@autocast_op("log_softmax")
def log_softmax(input, dim=None, dtype=None):
    """x − logsumexp_dim(x), max-shifted (never log of a softmax); ``dtype`` casts first."""
    input, axis = _prepare("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(input, axis)


# ---------------------------------------------------------------------- logsumexp
class LogSumExp(Function):
    """y = m + log Σ_A exp(x − m), m = max_A x (kernels.logsumexp; an all −∞ slice or an empty
    one gives −∞ without NaN).   VJP: dx = broadcast(dy) · exp(x − y) = broadcast(dy) · softmax_A(x)."""

    def forward(self, x, axes, keepdim):
        self.input_shape, self.axes = x.shape, axes
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        xp = x.xp
        if not axes:  # a 0-d input: the log of one exponential
            return x.array.copy()
        if _count(x.shape, axes) == 0:
            shape = (_kept_shape if keepdim else _reduced_shape)(x.shape, axes)
            return xp.full(shape, -xp.inf, dtype=x.dtype)
        return xp.asarray(kernels.logsumexp(x.array, axes, keepdim)).astype(x.dtype, copy=False)

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        kept = _kept_shape(self.input_shape, self.axes)
        return _expand_grad(dy, self.input_shape, self.axes) * exp(x - reshape(y, kept))


@autocast_op("logsumexp")
def logsumexp(input, dim, keepdim=False):
    """log Σ exp(x) over ``dim`` (int or tuple), computed max-shifted; integer inputs become the
    default float dtype."""
    check_tensor(input, "logsumexp")
    if input.dtype.kind not in "fV":
        input = input.to(dtypes.get_default_dtype())
    return LogSumExp.apply(input, _reduction_axes(dim, input.ndim), bool(keepdim))
