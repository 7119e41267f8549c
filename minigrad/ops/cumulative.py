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
from .joining import cat, narrow
from .operands import check_tensor
from .pointwise import exp, log
from .pointwise_piecewise import abs as absolute, where
from .rearrange import flip
from .shape import reshape
from ..amp.autocast_mode import autocast_op

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
        # Floats accumulate in float64 (PyTorch's CPU acc_type): a float32 running sum of 10⁶
        # values of 0.1 drifts by 1% otherwise.
        wide = dtypes.float64 if x.dtype.kind in "fV" else x.dtype
        return x.xp.cumsum(x.array, axis=axis, dtype=wide).astype(x.dtype, copy=False)

    def backward(self, dy):
        return _reverse_cumsum(dy, self.axis)


def _shift(t, axis, step, fill):
    """t moved ``step`` (±1) places along ``axis``, the vacated end filled with ``fill``:
    shift(x, +1)_i = x_{i−1} (and fill at 0), shift(x, −1)_i = x_{i+1} (fill at n−1)."""
    n = t.shape[axis]
    edge_shape = list(t.shape)
    edge_shape[axis] = 1
    edge = Tensor._wrap(t.xp.full(tuple(edge_shape), fill, dtype=t.dtype))
    if n == 0:
        return t
    if step > 0:
        return cat([edge, narrow(t, axis, 0, n - 1)], axis)
    return cat([narrow(t, axis, 1, n - 1), edge], axis)


class LinearScan(Function):
    """s_i = b_i + c_i · s_{i−1} along ``axis`` (s_{−1} = 0), a first-order linear recurrence
    (one vectorised step per position).
    VJP: λ_i = ds_i + c_{i+1} λ_{i+1} (the same scan run backwards with c shifted one place),
    db = λ,  dc_i = λ_i s_{i−1}."""

    def forward(self, b, c, axis):
        self.axis = axis
        self.save_for_backward(c)
        self.save_outputs_for_backward()
        xp = b.xp
        s = xp.moveaxis(b.array.copy(), axis, 0)
        coefficients = xp.moveaxis(c.array, axis, 0)
        for i in range(1, s.shape[0]):
            s[i] += coefficients[i] * s[i - 1]
        return xp.ascontiguousarray(xp.moveaxis(s, 0, axis))

    def backward(self, ds):
        (c,), (s,) = self.saved_tensors, self.saved_outputs
        axis = self.axis
        lam = _reverse_linear_scan(ds, _shift(c, axis, -1, 0), axis)
        return lam, lam * _shift(s, axis, +1, 0)


def _reverse_linear_scan(b, c, axis):
    """s_i = b_i + c_i · s_{i+1} (s_n = 0)."""
    return flip(LinearScan.apply(flip(b, (axis,)), flip(c, (axis,)), axis), (axis,))


class CumProd(Function):
    """y_j = Π_{i≤j} x_i along ``axis``.
    VJP: dx_i = Σ_{j≥i} dy_j Π_{k≤j, k≠i} x_k. Without zeros in x that is
    revcumsum(dy·y)_i / x_i; with zeros it is computed without dividing, as
    dx_i = (Π_{k<i} x_k) · S_i with S_i = dy_i + x_{i+1} S_{i+1} (a reverse linear scan), a
    polynomial in x and dy, so every higher derivative is exact too."""

    def forward(self, x, axis):
        self.axis = axis
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        wide = dtypes.float64 if x.dtype.kind in "fV" else x.dtype  # as cumsum
        return x.xp.cumprod(x.array, axis=axis, dtype=wide).astype(x.dtype, copy=False)

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        axis = self.axis
        if not (x.array == 0).any():
            return _reverse_cumsum(dy * y, axis) / x
        before = CumProd.apply(_shift(x, axis, +1, 1), axis)      # Π_{k<i} x_k
        return before * _reverse_linear_scan(dy, _shift(x, axis, -1, 0), axis)


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


@autocast_op("cumsum")
def cumsum(input, dim, *, dtype=None):
    """y_j = x_0 + … + x_j along ``dim``."""
    rows, axis, scalar = _scan_operand(input, dim, "cumsum")
    out = CumSum.apply(_cast_for_scan(rows, dtype), axis)
    return reshape(out, ()) if scalar else out


@autocast_op("cumprod")
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
    if a.dtype.kind in "fV":
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
    if rows.dtype.kind not in "fV":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(rows.dtype)}'")
    out = LogCumSumExp.apply(rows, axis)
    return reshape(out, ()) if scalar else out
