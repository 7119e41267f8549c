"""Order statistics: median, nanmedian, quantile, nanquantile, mode.

Each finds positions on the raw array (the stable ``argsort`` of ``sorting``; NaN sorts
last) and then *reads* the input at those positions with ``indexing.Index``, so values are
the input's entries exactly and the VJP is the one of a read (scatter-add back):

    median(x, dim):   k = (n - 1) // 2 (lower median), or the first NaN when the row has one
    nanmedian(x, dim): k = (m - 1) // 2 over the m non-NaN entries (the first NaN when m = 0)
    quantile(x, q):   r = q (n - 1);  y = lo + w (hi - lo),  lo = s[floor r], hi = s[ceil r]
                      (s the sorted row; w = r - floor r for 'linear', 0/1/½ for
                      'lower'/'higher'/'midpoint', 'nearest' rounds r half to even);
                      dlo = (1 - w) dy, dhi = w dy scattered back to where lo/hi came from.
    mode(x, dim):     the most frequent value (the smallest of equally frequent ones) and
                      the position of its last occurrence, as PyTorch.

``median(x)`` / ``nanmedian(x)`` without ``dim`` return only the value, and (as PyTorch)
spread the gradient evenly over every entry equal to it: dx = dy · [x = y] / #[x = y].
"""
import operator
from collections import namedtuple
import numbers

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..device import to_host
from ..tensor import Tensor, _normalize_dim
from .indexing import Index, along_dim_key, gather
from .operands import check_tensor
from .shape import reshape, movedim, unsqueeze, squeeze
from .sorting import _order, sort
from ..amp.autocast_mode import autocast_op

__all__ = ["median", "nanmedian", "quantile", "nanquantile", "mode"]

return_types = {name: namedtuple(name, ["values", "indices"])
                for name in ("median", "nanmedian", "mode")}


class EvenSelect(Function):
    """y = x[p] for one picked flat position p;  dx = dy · [x = y] / #[x = y] (NaN equals
    NaN): the gradient spread evenly over the entries equal to the picked one. x (s) → y ()."""

    def forward(self, x, position):
        xp = x.xp
        value = x.array.reshape(-1)[position]
        mask = (x.array == value) | (xp.isnan(x.array) & xp.isnan(value))
        self.mask = mask
        return xp.asarray(value)

    def backward(self, dy):
        count = int(self.mask.sum())
        weights = Tensor._wrap(self.mask.astype(dy.dtype) / count)
        return weights * dy


def _positions(array, axis, xp, ignore_nan):
    """Sorted order along ``axis`` and, per row, the sorted slot of the (nan)median."""
    order = _order(array, axis, False, xp)
    n = array.shape[axis]
    nans = xp.isnan(array).sum(axis=axis, keepdims=True) if array.dtype.kind in "fc" \
        else xp.zeros([1] * array.ndim, dtype=np.int64)
    if ignore_nan:
        slot = xp.maximum(n - nans - 1, 0) // 2
    else:
        slot = xp.where(nans > 0, n - nans, (n - 1) // 2)
    return xp.take_along_axis(order, slot.astype(np.int64), axis=axis)


def _reduce_check(input, dim, op):
    check_tensor(input, op)
    axis = _normalize_dim(operator.index(dim), input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size.")
    return axis


def _median(input, dim, keepdim, op, ignore_nan):
    if dim is None:
        check_tensor(input, op)
        if input.numel() == 0:
            if input.dtype.kind not in "fV":   # (PyTorch returns an uninitialised integer here)
                raise RuntimeError(f"{op}(): cannot take the median of an empty "
                                   f"{input.dtype} tensor")
            return Tensor._wrap(input.xp.full((), np.nan, dtype=input.dtype))
        flat = input.array.reshape(-1)
        position = int(to_host(_positions(flat, 0, input.xp, ignore_nan))[0])
        return EvenSelect.apply(input, position)
    axis = _reduce_check(input, dim, op)
    rows = reshape(input, (1,)) if input.ndim == 0 else input
    positions = _positions(rows.array, axis, rows.xp, ignore_nan)
    key = along_dim_key(rows.xp, to_host(positions).astype(np.int64), axis)
    values = Index.apply(rows, key)
    indices = Tensor._wrap(positions.astype(dtypes.int64, copy=False))
    if input.ndim == 0:
        values, indices = reshape(values, ()), reshape(indices, ())
    elif not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return return_types[op](values, indices)


def median(input, dim=None, keepdim=False):
    """The lower median of all entries (a 0-d tensor), or ``(values, indices)`` along
    ``dim``. NaN propagates: a row with a NaN has median NaN (at its first NaN)."""
    return _median(input, dim, keepdim, "median", False)


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaN (NaN only for a row that is all NaN)."""
    return _median(input, dim, keepdim, "nanmedian", True)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, op):
    check_tensor(input, op)
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    xp = input.xp
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        qs, scalar_q = to_host(q.array).astype(np.float64).reshape(-1), q.ndim == 0
    elif isinstance(q, numbers.Real):
        qs, scalar_q = np.array([float(q)]), True
    else:
        raise TypeError(f"{op}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
    bad = qs[~((qs >= 0) & (qs <= 1))]
    if bad.size:
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {bad[0]:g}")
    if dim is None:
        rows, out_shape = reshape(input, (-1,)), (() if not keepdim else (1,) * input.ndim)
    else:
        axis = _normalize_dim(operator.index(dim), input.ndim)
        rows = movedim(reshape(input, (1,)) if input.ndim == 0 else input, axis, -1)
        out_shape = list(input.shape)
        if input.ndim and keepdim:
            out_shape[axis] = 1
        elif input.ndim:
            out_shape.pop(axis)
        out_shape = tuple(out_shape)
        if rows.shape[-1] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size.")
    srt = sort(rows, -1).values                      # (..., n), NaN last
    n = srt.shape[-1]
    nans = xp.isnan(rows.array).sum(axis=-1, keepdims=True)   # (..., 1)
    qv = xp.asarray(qs.reshape((-1,) + (1,) * rows.ndim), dtype=np.float64)  # (Q, 1.., 1)
    if op == "nanquantile":
        ranks = qv * xp.maximum(n - nans - 1, 0)
    else:
        ranks = xp.where(nans > 0, float(n - 1), qv * (n - 1))
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)
    below = xp.floor(ranks).astype(np.int64)
    above = xp.minimum(xp.ceil(ranks), n - 1).astype(np.int64)
    full = (len(qs),) + tuple(srt.shape[:-1]) + (1,)
    below, above = xp.broadcast_to(below, full), xp.broadcast_to(above, full)
    expanded = unsqueeze(srt, 0).expand(len(qs), *srt.shape)
    lo = gather(expanded, -1, Tensor._wrap(xp.ascontiguousarray(below)))
    hi = gather(expanded, -1, Tensor._wrap(xp.ascontiguousarray(above)))
    if interpolation == "midpoint":
        weight = xp.full(full, 0.5)
    elif interpolation == "linear":
        weight = xp.broadcast_to(ranks - xp.floor(ranks), full)
    else:
        weight = xp.zeros(full)
    weight = Tensor._wrap(xp.asarray(weight, dtype=input.dtype))
    result = lo + weight * (hi - lo)                 # (Q, ..., 1)
    result = reshape(result, (len(qs),) + out_shape)
    return reshape(result, out_shape) if scalar_q else result


@autocast_op("quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of input (all entries, or along ``dim``); a NaN in a row makes its
    quantiles NaN. A 1-D ``q`` puts its dim first in the result."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile")


@autocast_op("nanquantile")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaN (NaN only for rows that are all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile")


def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: along ``dim``, the most frequent value (the smallest among
    equally frequent ones) and the position of its last occurrence (PyTorch's index agrees
    for rows of up to 16 entries; beyond, its unstable sort picks any occurrence). NaN
    entries each count once."""
    axis = _reduce_check(input, dim, "mode")
    rows = reshape(input, (1,)) if input.ndim == 0 else input
    array = np.moveaxis(to_host(rows.array), axis, -1)
    flat = array.reshape(-1, array.shape[-1])
    picks = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        order = np.argsort(row, kind="stable")
        srt = row[order]
        starts = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1]])
        counts = np.diff(np.r_[starts, len(srt)])
        best = int(np.argmax(counts))                # first = smallest value
        last = starts[best] + counts[best] - 1
        picks[r] = order[last]                        # stable: its last occurrence
    positions = np.moveaxis(picks.reshape(array.shape[:-1] + (1,)), -1, axis)
    values = Index.apply(rows, along_dim_key(rows.xp, positions, axis))
    indices = Tensor._wrap(rows.xp.asarray(positions))
    if input.ndim == 0:
        values, indices = reshape(values, ()), reshape(indices, ())
    elif not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return return_types["mode"](values, indices)
