"""Counting, binning and membership: bincount, histc, searchsorted, bucketize, isin,
unique_consecutive, signbit, sgn, and the covariance compositions cov and corrcoef.

The counting ops work on host copies of the raw arrays and are not differentiable (as in
PyTorch). ``sgn`` is ``sign`` for real input (gradient zero). ``cov`` and ``corrcoef`` are
compositions of differentiable ops:

    w = fweights · aweights,  μ = Σ_j w_j x_ij / Σ w,  xm = x − μ
    cov = (xm · w) xmᵀ / (Σ w − correction · Σ(w · aweights) / Σ w)   (or Σ w − correction)
    corrcoef = cov / (√diag ⊗ √diag), clipped to [−1, 1].
"""
import warnings
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..device import move_array, to_host
from ..tensor import Tensor, _normalize_dim
from .operands import check_tensor
from .shape import reshape

# PyTorch's ``torch.return_types.histogram``.
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])

__all__ = ["bincount", "histc", "histogram", "searchsorted", "bucketize", "isin", "unique_consecutive",
           "signbit", "sgn", "cov", "corrcoef"]


def _host(t):
    return to_host(t.array)


def _wrap(array, device):
    array = np.asarray(array)
    return Tensor._wrap(move_array(np.ascontiguousarray(array).reshape(array.shape), device))


def bincount(input, weights=None, minlength=0):
    """How often each value 0..max(input) occurs in the 1-D non-negative integer input (the
    sum of ``weights`` at its positions instead, when given); at least ``minlength`` bins."""
    check_tensor(input, "bincount")
    if input.dtype.kind in "fV":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    array = _host(input)
    if input.ndim != 1 or (array.size and array.min() < 0) or input.dtype.kind not in "iub":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None:
        check_tensor(weights, "bincount")
        if weights.ndim != 1 or weights.shape[0] != input.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        kind = weights.array.dtype
        # (PyTorch: an empty input gives int64 counts, weights or not)
        out_dtype = np.int64 if not array.size else \
            kind if kind.kind in "fV" else np.float64
        counts = np.bincount(array.astype(np.int64), _host(weights).astype(np.float64),
                             minlength=minlength).astype(out_dtype)
    else:
        counts = np.bincount(array.astype(np.int64), minlength=minlength).astype(np.int64)
    return _wrap(counts, input.device)


def histc(input, bins=100, min=0, max=0):
    """A histogram of input with ``bins`` equal bins between min and max (the data's own
    range when min = max); values outside are ignored. Same float dtype as input."""
    check_tensor(input, "histc")
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0")
    array = _host(input).reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and array.size:
        lo, hi = float(array.min()), float(array.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    inside = array[(array >= lo) & (array <= hi)].astype(np.float64)
    pos = ((inside - lo) * bins / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)
    counts = np.bincount(pos, minlength=bins).astype(array.dtype)
    return _wrap(counts, input.device)


def histogram(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: a histogram of input over ``bins`` equal bins spanning
    ``range`` (the data's min..max by default; ±0.5 around a single value) or over the
    given 1-D tensor of increasing edges; the last bin includes its right edge. ``weight``
    sums weights instead of counting; ``density`` normalises to unit area."""
    check_tensor(input, "histogram")
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    array = _host(input).reshape(-1)
    if isinstance(bins, Tensor):
        if bins.dtype != input.dtype:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have "
                               f"the same dtype, but got input with dtype "
                               f"{dtypes.c_type_name(input.dtype)} and bins for dimension 0 "
                               f"with dtype {dtypes.c_type_name(bins.dtype)}")
        edges = _host(bins).astype(np.float64)
    else:
        count = int(bins)
        if count <= 0:
            raise RuntimeError("torch.histogramdd(): bins must be > 0, but got "
                               f"{count} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got "
                                   f"min {lo:g} max {hi:g} for dimension 0")
        elif array.size:
            lo, hi = float(array.min()), float(array.max())
        else:
            lo, hi = 0.0, 0.0
        if lo == hi:
            lo, hi = (0.0, 1.0) if not array.size and range is None else (lo - 0.5, hi + 0.5)
        edges = np.linspace(lo, hi, count + 1)
    w = None
    if weight is not None:
        check_tensor(weight, "histogram")
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should "
                               f"have the same shape as the input tensor excluding its "
                               f"innermost dimension, but got input with shape "
                               f"{list(input.shape)} and weight with shape "
                               f"{list(weight.shape)}")
        w = _host(weight).reshape(-1).astype(np.float64)
    hist, _ = np.histogram(array.astype(np.float64), bins=edges, weights=w)
    hist = hist.astype(np.float64)
    if density:
        total = hist.sum()
        with np.errstate(divide="ignore", invalid="ignore"):   # 0/0 = NaN, as PyTorch
            hist = hist / (total * np.diff(edges))
    device = input.device
    return histogram_result(_wrap(hist.astype(array.dtype), device),
                            _wrap(edges.astype(array.dtype), device))


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """For each value, the index at which it would be inserted into the sorted last dim of
    ``sorted_sequence`` (the leftmost place, or the rightmost when ``right``/side='right')."""
    check_tensor(sorted_sequence, "searchsorted")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        right = side == "right"
    seq = _host(sorted_sequence)
    if sorter is not None:
        order = _host(sorter).astype(np.int64)
        if order.shape != seq.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same "
                               "size, but got boundary tensor " f"{list(seq.shape)} and got "
                               f"sorter tensor {list(order.shape)}")
        seq = np.take_along_axis(seq, order, axis=-1)
    scalar = not isinstance(values, Tensor)
    vals = np.asarray(values) if scalar else _host(values)
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(vals.shape)}")
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=how)
    else:
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)])
        out = out.reshape(vals.shape)
    out = np.asarray(out, dtype=np.int32 if out_int32 else np.int64)
    return _wrap(out, sorted_sequence.device)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each input element among the 1-D ``boundaries``:
    boundaries[i-1] < x <= boundaries[i] (or ``<= x <`` with ``right``)."""
    check_tensor(boundaries, "bucketize")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element occurs in test_elements (bool, elements' shape)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: at least one "
                        "of elements and test_elements must be a Tensor")
    device = (elements if isinstance(elements, Tensor) else test_elements).device
    a = _host(elements) if isinstance(elements, Tensor) else np.asarray(elements)
    b = _host(test_elements) if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _wrap(np.isin(a, b, invert=bool(invert)), device)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """input with each run of equal consecutive elements (or slices along ``dim``) kept
    once; optionally the inverse (which run each element/slice went to) and run lengths."""
    check_tensor(input, "unique_consecutive")
    array = _host(input)
    if dim is None:
        work, axis = array.reshape(-1), 0
    else:
        axis = _normalize_dim(dim, input.ndim)
        work = array
    n = work.shape[axis]
    moved = np.moveaxis(work, axis, 0).reshape(n, -1) if n else np.zeros((0, 1))
    if n:
        change = np.r_[True, (moved[1:] != moved[:-1]).any(axis=1)]
    else:
        change = np.zeros(0, bool)
    starts = np.flatnonzero(change)
    values = np.take(work, starts, axis=axis)
    inverse = (np.cumsum(change) - 1).astype(np.int64)
    counts = np.diff(np.r_[starts, n]).astype(np.int64)
    if dim is None:
        inverse = inverse.reshape(array.shape)
    device = input.device
    out = [_wrap(values, device)]
    if return_inverse:
        out.append(_wrap(inverse, device))
    if return_counts:
        out.append(_wrap(counts, device))
    return out[0] if len(out) == 1 else tuple(out)


def signbit(input):
    """Whether the sign bit is set (True for −0.0 and negative numbers), bool."""
    check_tensor(input, "signbit")
    return Tensor._wrap(input.xp.signbit(input.array))


def sgn(input):
    """sign(x) for real input (x / |x| for complex in PyTorch); gradient zero."""
    check_tensor(input, "sgn")
    return input.sign()


def _as_float(input):
    return input if input.dtype.kind in "fV" else input.to(dtypes.get_default_dtype())


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in input's rows (observations in columns; a
    1-D input is one variable, giving a 0-d result). Differentiable."""
    check_tensor(input, "cov")
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.ndim} dimensions")
    x = reshape(input, (1, -1)) if input.ndim < 2 else input
    x = _as_float(x)
    observations = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.ndim > 1 or fweights.shape[0] != observations:
            raise RuntimeError(f"cov(): expected fweights to have one dimension and the same "
                               f"number of elements as the number of observations "
                               f"({observations}) but got {list(fweights.shape)}")
        if fweights.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {fweights.dtype} dtype")
        if (_host(fweights) < 0).any():
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.ndim > 1 or aweights.shape[0] != observations:
            raise RuntimeError(f"cov(): expected aweights to have one dimension and the same "
                               f"number of elements as the number of observations "
                               f"({observations}) but got {list(aweights.shape)}")
        if aweights.dtype.kind not in "fV":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but "
                               f"got aweights with {aweights.dtype} dtype")
        if (_host(aweights) < 0).any():
            raise RuntimeError("cov(): aweights cannot be negative")
        aw = aweights
        w = aw if w is None else w * aw
    if w is None:
        w_sum = float(observations)
        avg = x.mean(1)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is None:
        norm = w_sum - correction
    elif aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aw).sum() / w_sum
    norm_value = float(to_host(norm.array)) if isinstance(norm, Tensor) else norm
    if norm_value <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the number of observations.", UserWarning)
        norm = norm.clamp(min=0) if isinstance(norm, Tensor) else 0.0
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = (xw @ xm.t()) / norm
    return c.squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the variables in input's rows (cov normalised by
    the standard deviations, clipped to [−1, 1]). Differentiable."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt()
    c = c / std.unsqueeze(1)
    c = c / std.unsqueeze(0)
    return c.clamp(-1, 1)
