"""Reductions built from the basic ones (``reduction.py``): std_mean/var_mean, aminmax,
nansum/nanmean.

Each but nansum is a composition of differentiable ops, so its gradient is theirs: std_mean returns
``(std, mean)`` whose gradients add up at the input; aminmax's parts have amin/amax's VJP
(ties share the gradient evenly); nansum sums the non-NaN elements and its VJP is
PyTorch's ``grad · ¬isnan(x)``; nanmean is nansum divided by the count of non-NaN
elements.
"""
from collections import namedtuple

from .. import dtypes
from ..tensor import Tensor
from ..autograd.function import Function
from .operands import check_tensor
from .reduction import (_accumulator, _expand_grad, _reduction_axes, _variance_args, Mean,
                        Std, Var, amax, amin, sum)
from .rounding import isnan

__all__ = ["std_mean", "var_mean", "aminmax", "nansum", "nanmean"]

# PyTorch's torch.return_types.aminmax: a tuple with .min and .max.
aminmax_type = namedtuple("aminmax", ["min", "max"])


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim`` in one call (the arguments of ``std``)."""
    args = _variance_args("std_mean", input, dim, unbiased, keepdim, correction)
    x, axes, _, keepdim, _ = args
    return Std.apply(*args), Mean.apply(x, axes, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one call (the arguments of ``var``)."""
    args = _variance_args("var_mean", input, dim, unbiased, keepdim, correction)
    x, axes, _, keepdim, _ = args
    return Var.apply(*args), Mean.apply(x, axes, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over one ``dim`` (all elements when None), as a named tuple."""
    check_tensor(input, "aminmax")
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    axes = _reduction_axes(dim, input.ndim)
    if input.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    for a in axes if dim is not None else ():
        if input.shape[a] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {a} to have non-zero size.")
    if dim is None:
        keepdim = keepdim and input.ndim > 0
        return aminmax_type(amin(input, (), keepdim), amax(input, (), keepdim))
    return aminmax_type(amin(input, dim, keepdim), amax(input, dim, keepdim))


class NanSum(Function):
    """y = Σ_A x over the non-NaN x.   VJP: dx = broadcast(dy) ⊙ [x is not NaN] (a product,
    as PyTorch's, so a NaN or inf in dy is not masked to 0)."""

    def forward(self, x, axes, keepdim):
        self.input_shape, self.axes = x.shape, axes
        self.present = ~x.xp.isnan(x.array)
        data = x.xp.where(self.present, x.array, x.xp.zeros((), dtype=x.dtype))
        return x.xp.asarray(data.sum(axis=axes, keepdims=keepdim, dtype=_accumulator(x.dtype))
                            ).astype(x.dtype, copy=False)

    def backward(self, dy):
        mask = Tensor._wrap(self.present.astype(dy.dtype))
        return _expand_grad(dy, self.input_shape, self.axes) * mask


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over ``dim`` treating NaN as 0 (integer inputs sum to int64, like ``sum``)."""
    check_tensor(input, "nansum")
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind not in "fV":
        return sum(input, dim, keepdim, dtype=dtype)
    return NanSum.apply(input, _reduction_axes(dim, input.ndim), bool(keepdim))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over ``dim`` of the non-NaN elements (NaN where there are none)."""
    check_tensor(input, "nanmean")
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {dtypes.scalar_type_name(input.dtype)}")
    if dtype is not None:
        input = input.to(dtype)
    present = (~isnan(input)).to(input.dtype)
    return nansum(input, dim, keepdim) / sum(present, dim, keepdim)



