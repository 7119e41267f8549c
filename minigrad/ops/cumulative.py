"""Cumulative (scan) ops along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp.

A scan y_j = x_0 ∘ … ∘ x_j sends gradient from every later output back to x_i, so each VJP
is a *reverse* scan of something: for a sum, dx_i = Σ_{j≥i} dy_j, the reverse cumulative
sum ``flip(cumsum(flip(dy)))``; for a product and log-sum-exp the summand is weighted by
∂y_j/∂x_i. cummax/cummin read x at their running arg-extremum positions, so their VJP is
the scatter-add of a read (indexing.Index), like max(dim). Every backward is written with
Tensor ops, so second derivatives work.
"""
import operator
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..device import device_of_array, move_array, quiet_floating_point, to_host
from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function
from .indexing import Index, along_dim_key
from .operands import check_tensor
from .pointwise import exp, log
from .pointwise_piecewise import abs as absolute, where
from .rearrange import flip
from .shape import reshape

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

return_types = {name: namedtuple(name, ["values", "indices"]) for name in ("cummax", "cummin")}


def _accumulate(xp, name, array, axis):
    """``xp.<name>.accumulate(array, axis)``: the running reduction by a binary ufunc. CuPy
    has ``accumulate`` for a few ufuncs only; the others scan on the host."""
    if xp is not np:
        try:
            return getattr(xp, name).accumulate(array, axis=axis)
        except (AttributeError, NotImplementedError, TypeError):
            return move_array(getattr(np, name).accumulate(to_host(array), axis=axis),
                              device_of_array(array))
    return getattr(np, name).accumulate(array, axis=axis)


def _reverse_cumsum(t, axis):
    """r_i = Σ_{j≥i} t_j along ``axis`` (the adjoint of cumsum)."""
    return flip(CumSum.apply(flip(t, (axis,)), axis), (axis,))


class CumSum(Function):
    """y_j = Σ_{i≤j} x_i along ``axis``;  dx_i = Σ_{j≥i} dy_j (a reverse cumsum)."""

    def forward(self, x, axis):
        self.axis = axis
        wide = dtypes.float32 if x.dtype == dtypes.float16 else x.dtype  # half sums in float32
        return x.xp.cumsum(x.array, axis=axis, dtype=wide).astype(x.dtype, copy=False)

    def backward(self, dy):
        return _reverse_cumsum(dy, self.axis)


class CumProd(Function):
    """y_j = Π_{i≤j} x_i along ``axis``.
    VJP: dx_i = Σ_{j≥i} dy_j Π_{k≤j, k≠i} x_k. Written as revcumsum(dy·y)_i / x_i, which is
    exact for i before a row's first zero z (and 0, the right value, after it when x_i ≠ 0);
    at i = z the product skips x_z: dx_z = Σ_{j≥z} dy_j q_j with q = cumprod(x, x_z := 1).
    (Second derivatives are exact for rows with at most one zero.)"""

    def forward(self, x, axis):
        self.axis = axis
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        return x.xp.cumprod(x.array, axis=axis)

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        axis, xp = self.axis, x.xp
        zeros = x.array == 0
        if not zeros.any():
            return _reverse_cumsum(dy * y, axis) / x
        n = x.shape[axis]
        position = xp.arange(n).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
        first = xp.where(zeros.any(axis=axis, keepdims=True),
                         xp.argmax(zeros, axis=axis, keepdims=True), n)
        at_first, after = position == first, position >= first
        safe_x = where(Tensor._wrap(zeros), 1.0, x)
        before_zero = _reverse_cumsum(dy * y, axis) / safe_x
        skipped = CumProd.apply(where(Tensor._wrap(at_first), 1.0, x), axis)
        at_zero = _reverse_cumsum(dy * skipped * Tensor._wrap(after.astype(dy.dtype)), axis)
        return where(Tensor._wrap(at_first), at_zero, before_zero)


class LogCumSumExp(Function):
    """y_j = log Σ_{i≤j} exp(x_i) along ``axis`` (a running ``logaddexp``, stable).
    VJP: dx_i = Σ_{j≥i} dy_j exp(x_i − y_j), summed in log space for the positive and the
    negative parts of dy separately (PyTorch's scheme), so no exp overflows:
    dx = exp(x + rlcse(log dy⁺ − y)) − exp(x + rlcse(log dy⁻ − y)), rlcse the reverse scan."""

    def forward(self, x, axis):
        self.axis = axis
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        return _accumulate(x.xp, "logaddexp", x.array, axis)

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        axis = self.axis
        minus_inf = float("-inf")

        def reverse_lcse(t):
            return flip(LogCumSumExp.apply(flip(t, (axis,)), axis), (axis,))

        dx = None
        for sign, mask in ((1.0, dy.array > 0), (-1.0, dy.array < 0)):
            if not mask.any():
                continue
            m = Tensor._wrap(mask)
            # Masked-out terms are -inf and stay cut from y's gradient (no -inf - -inf = NaN).
            shifted = where(m, log(where(m, absolute(dy), 1.0)) - y, minus_inf)
            with quiet_floating_point(dy.xp, invalid="ignore"):
                part = exp(x + reverse_lcse(shifted))
            dx = part * sign if dx is None else dx + part * sign
        return dx if dx is not None else dy * 0


def _scan_operand(input, dim, op):
    check_tensor(input, op)
    dim = _normalize_dim(operator.index(dim), input.ndim)
    if input.ndim == 0:
        return reshape(input, (1,)), 0, True
    return input, dim, False


def _cast_for_scan(input, dtype):
    """dtype= casts first; integers and bools otherwise scan in int64, as in PyTorch."""
    if dtype is not None:
        return input.to(dtypes.as_dtype(dtype))
    if input.dtype.kind in "biu":
        return input.to(dtypes.int64)
    return input


def cumsum(input, dim, *, dtype=None):
    """y_j = x_0 + … + x_j along ``dim``."""
    rows, axis, scalar = _scan_operand(input, dim, "cumsum")
    out = CumSum.apply(_cast_for_scan(rows, dtype), axis)
    return reshape(out, ()) if scalar else out


def cumprod(input, dim, *, dtype=None):
    """y_j = x_0 · … · x_j along ``dim`` (gradient exact with zeros in input)."""
    rows, axis, scalar = _scan_operand(input, dim, "cumprod")
    out = CumProd.apply(_cast_for_scan(rows, dtype), axis)
    return reshape(out, ()) if scalar else out


def _cumulative_extremum(op, input, dim):
    rows, axis, scalar = _scan_operand(input, dim, op)
    xp, a = rows.xp, rows.array
    running = _accumulate(xp, "maximum" if op == "cummax" else "minimum", a, axis) if a.size else a
    # An element takes over when it equals the running extremum (ties: the later index) or is
    # NaN (NaN propagates and each later NaN takes over), PyTorch's rule.
    takes_over = a == running
    if a.dtype.kind == "f":
        takes_over |= xp.isnan(a)
    position = xp.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - 1 - axis))
    candidates = xp.where(takes_over, position, 0)
    indices = _accumulate(xp, "maximum", candidates, axis) if a.size else candidates
    indices = indices.astype(dtypes.int64)
    values = Index.apply(rows, along_dim_key(xp, to_host(indices), axis))
    indices = Tensor._wrap(indices)
    if scalar:
        values, indices = reshape(values, ()), reshape(indices, ())
    return return_types[op](values, indices)


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and where it was taken
    (the latest position among equal values)."""
    return _cumulative_extremum("cummax", input, dim)


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim`` and where it was taken."""
    return _cumulative_extremum("cummin", input, dim)


def logcumsumexp(input, dim):
    """y_j = log(exp(x_0) + … + exp(x_j)) along ``dim``, computed stably."""
    rows, axis, scalar = _scan_operand(input, dim, "logcumsumexp")
    if rows.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(rows.dtype)}'")
    out = LogCumSumExp.apply(rows, axis)
    return reshape(out, ()) if scalar else out
