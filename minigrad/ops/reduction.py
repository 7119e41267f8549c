"""Reductions: sum, mean, var/std, prod, max/min (with and without dim), amax/amin,
argmax/argmin and logsumexp.

A reduction over the axes A of x (shape s) has the shape of x with A removed (or kept as 1
with ``keepdim``). Its VJP always starts the same way: reshape dy to the keepdim shape and
broadcast it back to s (``_expand_grad``), which is the adjoint of summing over A. Every
backward is written with Tensor ops, so second derivatives work. Zero-size inputs and error
cases follow PyTorch: sum → 0, mean → nan, max/amax/argmax over an empty dim raise.
"""
import builtins
import math
import operator
import warnings
from collections import namedtuple


from .. import dtypes
from ..device import quiet_floating_point
from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function
from .broadcast import broadcast_to
from .operands import check_tensor
from .pointwise_piecewise import maximum, minimum
from .shape import reshape
from ..amp.autocast_mode import autocast_op

__all__ = ["sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin"]

# PyTorch's ``torch.return_types.max`` / ``.min``: tuples with ``.values`` and ``.indices``.
return_types = {name: namedtuple(name, ["values", "indices"]) for name in ("max", "min")}


# ---------------------------------------------------------------------- helpers
def _reduction_axes(dim, ndim):
    """``dim`` (None, an int or a sequence of ints; None and () mean every dim) as a sorted
    tuple of numpy axes. A 0-d tensor accepts dim 0/−1 and reduces over no axis."""
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return tuple(range(ndim))
    seen = set()
    for d in dims:
        try:
            d = _normalize_dim(operator.index(d), ndim)
        except TypeError:
            raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}") from None
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return tuple(sorted(seen)) if ndim else ()


def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _single_dim(dim, op):
    """max/min/argmax/argmin/prod take one int dim (PyTorch has no tuple overload)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


def _expand_grad(dy, shape, axes):
    """Adjoint of summing over ``axes``: dy (keepdim or not) broadcast back to ``shape``.
    When the reduced axes are all leading ones, broadcasting alone puts dy's axes in place
    (no reshape node; this is the common sum()/mean() of a whole tensor)."""
    kept = _kept_shape(shape, axes)
    leading = sorted(axes) == list(range(len(axes)))
    if dy.array.shape != tuple(kept) and not leading:
        dy = reshape(dy, kept)
    return broadcast_to(dy, shape)


def _accumulator(dtype):
    """Half precision sums accumulate in float32 (as PyTorch does), then round once."""
    return dtypes.float32 if dtype == dtypes.float16 else dtype


def _torch_name(dtype):
    return dtypes.scalar_type_name(dtype)


# ---------------------------------------------------------------------- sum / mean
class Sum(Function):
    """y = Σ_A x.   (s) → (s without A, or with 1s at A when keepdim)
    VJP: dx = broadcast_to(dy, s)  (dy reshaped with 1s at A first)."""

    def forward(self, x, axes, keepdim, dtype):
        self.input_shape, self.axes = x.shape, axes
        y = x.array.sum(axis=axes, keepdims=keepdim, dtype=_accumulator(dtype))
        return x.xp.asarray(y).astype(dtype, copy=False)

    def backward(self, dy):
        return _expand_grad(dy, self.input_shape, self.axes)


class Mean(Function):
    """y = Σ_A x / N with N = Π_{a∈A} s_a (nan when N = 0).   (s) → (s without A)
    VJP: dx = broadcast_to(dy, s) / N."""

    def forward(self, x, axes, keepdim):
        self.input_shape, self.axes = x.shape, axes
        self.count = _count(x.shape, axes)
        with quiet_floating_point(x.xp, divide="ignore", invalid="ignore"):  # N = 0 gives nan
            y = x.array.sum(axis=axes, keepdims=keepdim, dtype=_accumulator(x.dtype)) / self.count
        return x.xp.asarray(y).astype(x.dtype, copy=False)

    def backward(self, dy):
        return _expand_grad(dy, self.input_shape, self.axes) / self.count


@autocast_op("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over ``dim`` (int, tuple, or None for all). bool/int inputs sum to int64, as in
    PyTorch; ``dtype`` casts the input first."""
    check_tensor(input, "sum")
    if dtype is not None:
        input = input.to(dtype)
    out_dtype = input.dtype if input.dtype.kind in "fV" or dtype is not None else dtypes.int64
    return Sum.apply(input, _reduction_axes(dim, input.ndim), bool(keepdim), out_dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``; floating inputs only (or pass a floating ``dtype``)."""
    check_tensor(input, "mean")
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        if dtype.kind not in "fV":
            raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be "
                               f"either a floating point or complex dtype. Got: {_torch_name(dtype)}")
        input = input.to(dtype)
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_torch_name(input.dtype)}")
    return Mean.apply(input, _reduction_axes(dim, input.ndim), bool(keepdim))


# ---------------------------------------------------------------------- var / std
def _var_backward(dy, x, axes, correction, whole):
    """dx = dy · 2(x − x̄)/(N − c), PyTorch's var_backward, including its N − c ≤ 0 cases:
    over all elements (``whole``) dx = dy · (nan where x = x̄ else inf); along dims the
    factor 2/(N − c) is used as is (+inf at N = c, negative below)."""
    dy = _expand_grad(dy, x.shape, axes)
    dof = _count(x.shape, axes) - correction
    x_bar = Mean.apply(x, axes, True)
    if whole and dof <= 0:
        xp = x.xp
        factor = xp.where(x.array == x_bar.array, xp.nan, xp.inf).astype(x.dtype)
        return dy * Tensor._wrap(factor)
    factor = math.inf if dof == 0 else 2.0 / dof
    return factor * dy * (x - x_bar)


class Var(Function):
    """y = Σ_A (x − x̄)² / max(N − c, 0)  (c = correction; nan/inf when N ≤ c).
    VJP: dx = dy · 2(x − x̄)/(N − c)  (see ``_var_backward`` for N ≤ c)."""

    def forward(self, x, axes, correction, keepdim, whole):
        self.axes, self.correction, self.whole = axes, correction, whole
        self.save_for_backward(x)
        return _variance(x, axes, correction, keepdim)

    def backward(self, dy):
        (x,) = self.saved_tensors
        return _var_backward(dy, x, self.axes, self.correction, self.whole)


class Std(Function):
    """y = √var(x).   VJP: dvar = dy / 2y (0 where y = 0, PyTorch's convention), then
    dx = var's VJP of dvar."""

    def forward(self, x, axes, correction, keepdim, whole):
        self.axes, self.correction, self.whole = axes, correction, whole
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        return _variance(x, axes, correction, keepdim, root=True)

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        zero = y.array == 0
        # y + [y = 0] keeps the division finite and still differentiable in y.
        safe_y = y + Tensor._wrap(zero.astype(y.dtype))
        dvar = dy * Tensor._wrap((~zero).astype(y.dtype)) / (2 * safe_y)
        return _var_backward(dvar, x, self.axes, self.correction, self.whole)


def _variance(x, axes, correction, keepdim, root=False):
    """Two-pass Σ(x − x̄)², first shifted by one sample of each slice (var(x − k) = var(x)):
    a constant slice then has variance exactly 0 and |x̄| ≫ σ loses no precision."""
    xp = x.xp
    # PyTorch's CPU variance accumulates float32/float16 in float64 (acc_type), so squares of
    # values near float32's limit (1e30² overflows float32) still give a finite std.
    acc = dtypes.float64 if x.device.type == "cpu" and x.dtype.itemsize < 8 else _accumulator(x.dtype)
    n = _count(x.shape, axes)
    data = x.array.astype(acc, copy=False)
    if n:
        data = data - data[tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))]
    with quiet_floating_point(xp, divide="ignore", invalid="ignore", over="ignore"):  # n ≤ c: nan/inf
        centered = data - data.sum(axis=axes, keepdims=True) / n
        m2 = (centered * centered).sum(axis=axes, keepdims=keepdim)
        y = m2 / builtins.max(n - correction, 0)
        if root:                   # std: the root before rounding to x's dtype
            y = xp.sqrt(y)
        return xp.asarray(y).astype(x.dtype, copy=False)   # var beyond float32: inf


def _variance_args(name, input, dim, unbiased, keepdim, correction):
    check_tensor(input, name)
    if isinstance(dim, bool):  # var(x, False): PyTorch's (input, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{name}() got the unbiased flag twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: pass either "
                        f"unbiased={unbiased} or correction={correction}, not both")
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"std and var only support floating point and complex dtypes "
                           f"(got {input.dtype})")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _reduction_axes(dim, input.ndim)
    if _count(input.shape, axes) - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    # PyTorch's backward treats "no dim" (or a 0-d input) apart from an explicit dim list.
    return input, axes, correction, bool(keepdim), dim is None or input.ndim == 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` ≡ 0)."""
    return Var.apply(*_variance_args("var", input, dim, unbiased, keepdim, correction))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation √var (same arguments as ``var``)."""
    return Std.apply(*_variance_args("std", input, dim, unbiased, keepdim, correction))


# ---------------------------------------------------------------------- prod
class ProductOfOthers(Function):
    """p_i = Π_{j≠i} x_j along ``axes`` via exclusive cumulative products (exact with zeros).
    Used as ∂prod/∂x when x holds zeros; its own derivative is not implemented."""

    def forward(self, x, axes):
        xp = x.xp
        # prod reduces one dim (moved last) or all of them (flattened).
        rows = xp.moveaxis(x.array, axes[0], -1) if len(axes) == 1 else x.array.reshape(-1)
        ones = xp.ones(rows.shape[:-1] + (1,), dtype=rows.dtype)
        before = xp.cumprod(xp.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
        after = xp.cumprod(xp.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = before * after
        others = xp.moveaxis(others, -1, axes[0]) if len(axes) == 1 else others
        return xp.ascontiguousarray(others).reshape(x.shape)

    def backward(self, dp):
        raise RuntimeError("the second derivative of prod() at an input containing zeros is not "
                           "implemented in minigrad")


class Prod(Function):
    """y = Π_A x.   VJP: dx = broadcast(dy) · Π_{j≠i} x_j, i.e. broadcast(dy) · (y / x) when x has
    no zeros (differentiable again), else via exclusive products (``ProductOfOthers``)."""

    def forward(self, x, axes, keepdim, dtype):
        self.input_shape, self.axes = x.shape, axes
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        return x.xp.asarray(x.array.prod(axis=axes, keepdims=keepdim, dtype=dtype))

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        if not (x.array == 0).any():
            kept = _kept_shape(self.input_shape, self.axes)
            return _expand_grad(dy, self.input_shape, self.axes) * (reshape(y, kept) / x)
        return _expand_grad(dy, self.input_shape, self.axes) * ProductOfOthers.apply(x, self.axes)


@autocast_op("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Π over one ``dim`` (or all elements); bool/int inputs give int64, as in PyTorch."""
    check_tensor(input, "prod")
    dim = _single_dim(dim, "prod")
    if dtype is not None:
        input = input.to(dtype)
    out_dtype = input.dtype if input.dtype.kind in "fV" or dtype is not None else dtypes.int64
    return Prod.apply(input, _reduction_axes(dim, input.ndim), bool(keepdim), out_dtype)


# ---------------------------------------------------------------------- max / min
class ExtremumAll(Function):
    """y = max(x) (or min) over every element, a 0-d tensor; NaN propagates.
    VJP: dx = (dy / k) at the k positions where x = y (where x is NaN if y is), 0 elsewhere:
    ties split the gradient evenly, as PyTorch's max() without dim."""

    def name(self):
        return f"{self.op.capitalize()}Backward"

    def forward(self, x, op):
        self.op = op
        y = x.xp.asarray(getattr(x.array, op)())
        if x.requires_grad:
            mask = x.xp.isnan(x.array) if bool(x.xp.isnan(y)) else x.array == y
            self.mask, self.count, self.input_shape = mask, int(mask.sum()), x.shape
        return y

    def backward(self, dy):
        shape = self.input_shape
        share = broadcast_to(reshape(dy / self.count, (1,) * len(shape)), shape)
        return share * Tensor._wrap(self.mask.astype(dy.dtype))


class ExtremumOverDims(Function):
    """y = amax(x) (or amin) over A.   VJP: dx = m ⊙ broadcast(dy / k), m = [x = y] and
    k = Σ_A m (ties split evenly; a NaN result gives NaN gradients), PyTorch's amax rule."""

    def name(self):
        return f"A{self.op}Backward"

    def forward(self, x, axes, keepdim, op):
        self.op = op
        y = x.xp.asarray(getattr(x.array, op)(axis=axes, keepdims=True))
        if x.requires_grad:
            mask = x.array == y
            self.mask, self.input_shape, self.axes = mask, x.shape, axes
            self.count = mask.sum(axis=axes, keepdims=True).astype(x.dtype)
        return y if keepdim else y.reshape(_reduced_shape(x.shape, axes))

    def backward(self, dy):
        kept = _kept_shape(self.input_shape, self.axes)
        with quiet_floating_point(dy.xp, divide="ignore", invalid="ignore"):
            # k = 0 only for NaN results, where NaN is the answer
            share = reshape(dy, kept) / Tensor._wrap(self.count)
        return broadcast_to(share, self.input_shape) * Tensor._wrap(self.mask.astype(dy.dtype))


class ExtremumAlongDim(Function):
    """(values, indices) = max (or min) along one axis, indices the first extreme position
    (NaN counts as extreme).   VJP: dx = dy scattered to ``indices`` (a one-hot mask along the
    axis); the int64 indices are not differentiable."""

    def name(self):
        return f"{self.op.capitalize()}Backward"

    def forward(self, x, axis, keepdim, op):
        xp, self.op = x.xp, op
        self.mark_non_differentiable(1)
        if x.ndim == 0:
            self.onehot = xp.ones((), dtype=bool)
            return x.array.copy(), xp.zeros((), dtype=dtypes.int64)
        find = xp.argmax if op == "max" else xp.argmin
        idx = find(x.array, axis=axis, keepdims=True)
        values = xp.take_along_axis(x.array, idx, axis=axis)
        if x.requires_grad:
            positions = xp.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
            self.onehot, self.input_shape, self.axes = positions == idx, x.shape, (axis,)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype(dtypes.int64, copy=False)

    def backward(self, dvalues, dindices):
        if self.onehot.ndim == 0:
            return dvalues
        share = _expand_grad(dvalues, self.input_shape, self.axes)
        return share * Tensor._wrap(self.onehot.astype(dvalues.dtype))


def _check_nonempty(input, axes, op, specified):
    if not specified and input.numel() == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                           f"Specify the reduction dim with the 'dim' argument.")
    for a in axes:
        if input.shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size "
                             f"(input shape {list(input.shape)}).")


def _extremum(op, input, dim, keepdim, other):
    check_tensor(input, op)
    if isinstance(dim, Tensor) or other is not None:  # max(input, other): elementwise
        return (maximum if op == "max" else minimum)(
            input, dim if other is None else other)
    if dim is None:
        _check_nonempty(input, (), op, specified=False)
        return ExtremumAll.apply(input, op)
    axes = _reduction_axes(_single_dim(dim, op), input.ndim)
    _check_nonempty(input, axes, op, specified=True)
    values, indices = ExtremumAlongDim.apply(input, axes[0] if axes else None, bool(keepdim), op)
    return return_types[op](values, indices)


def max(input, dim=None, keepdim=False, *, other=None):
    """``max(x)`` → 0-d max; ``max(x, dim, keepdim)`` → ``(values, indices)``;
    ``max(x, other)`` → elementwise ``maximum``."""
    return _extremum("max", input, dim, keepdim, other)


def min(input, dim=None, keepdim=False, *, other=None):
    """``min(x)`` → 0-d min; ``min(x, dim, keepdim)`` → ``(values, indices)``;
    ``min(x, other)`` → elementwise ``minimum``."""
    return _extremum("min", input, dim, keepdim, other)


def _amax_amin(op, input, dim, keepdim):
    check_tensor(input, "a" + op)
    specified = dim is not None and (not isinstance(dim, (tuple, list)) or len(dim) > 0)
    axes = _reduction_axes(dim, input.ndim)
    _check_nonempty(input, axes if specified else (), "a" + op, specified)
    return ExtremumOverDims.apply(input, axes, bool(keepdim), op)


def amax(input, dim=(), keepdim=False):
    """Max over ``dim`` (int or tuple; () for all); ties share the gradient evenly."""
    return _amax_amin("max", input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    """Min over ``dim`` (int or tuple; () for all); ties share the gradient evenly."""
    return _amax_amin("min", input, dim, keepdim)


def _arg_extremum(op, input, dim, keepdim):
    check_tensor(input, op)
    if input.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input (shape {list(input.shape)})")
    xp = input.xp
    find = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = xp.asarray(find(input.array.reshape(-1)), dtype=dtypes.int64)
        return Tensor._wrap(index.reshape((1,) * input.ndim if keepdim else ()))
    axes = _reduction_axes(_single_dim(dim, op), input.ndim)
    _check_nonempty(input, axes, op, specified=True)
    if not axes:
        return Tensor._wrap(xp.zeros((), dtype=dtypes.int64))
    return Tensor._wrap(find(input.array, axis=axes[0], keepdims=bool(keepdim)).astype(dtypes.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum along ``dim`` (of the flattened input when dim is None)."""
    return _arg_extremum("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum along ``dim`` (of the flattened input when dim is None)."""
    return _arg_extremum("argmin", input, dim, keepdim)
