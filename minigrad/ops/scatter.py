"""Writing by position: scatter, scatter_add, scatter_reduce, index_add, index_copy,
index_fill, masked_scatter, and their in-place forms (``scatter_`` …, through
``Function.apply_inplace``, so version counters and autograd see them).

Every op here is one of two Functions applied with an ``indexing.IndexKey`` (the positions
written): ``IndexPut`` (z = x with z[key] = v: scatter, index_copy, index_fill,
masked_scatter; from indexing.py) and ``ScatterReduce`` (z[key] ∘= v for a reduction ∘:
scatter_add, index_add, scatter_reduce). For scatter* the key is the gather key along
``dim`` (position p of index addresses [p_0, …, index[p], …]); for index_* it is
``[:, …, index, …]``; for masked_scatter the positions of the mask.
"""
import numbers
import operator
import warnings

import numpy as np

from .. import dtypes
from ..device import device_of_array, move_array, quiet_floating_point, to_host
from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function, check_no_overlap
from .broadcast import broadcast_to
from .indexing import Index, IndexKey, IndexPut, along_dim_key
from .inplace import copy_
from .operands import broadcast_shapes, check_same_device, check_tensor
from .pointwise_piecewise import where
from .shape import reshape
from ..amp.autocast_mode import autocast_op

__all__ = ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
           "masked_scatter"]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _ufunc_at(xp, name, target, index, values):
    """target[index] ∘= values with repeated positions combined (numpy's ``ufunc.at``)."""
    if xp is np:
        getattr(np, name).at(target, index, values)
        return
    try:  # CuPy has ``at`` for some ufuncs only (NotImplementedError/TypeError otherwise)
        getattr(xp, name).at(target, index, values)
        return
    except (AttributeError, NotImplementedError, TypeError):
        pass
    import cupyx  # CuPy: the scatter kernels cupyx has, else a round trip through the host
    kernel = {"add": "scatter_add", "maximum": "scatter_max", "minimum": "scatter_min"}.get(name)
    if kernel is not None:
        getattr(cupyx, kernel)(target, index, values)
        return
    host = to_host(target)
    getattr(np, name).at(host, tuple(to_host(i) if not isinstance(i, slice) else i
                                     for i in index), to_host(values))
    target[...] = move_array(host, device_of_array(target))


def _identity(reduce, dtype):
    """The value a position starts from when include_self=False."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dtype.kind in "fV" else (True if dtype.kind == "b" else np.iinfo(dtype).max)
    small = -np.inf if dtype.kind in "fV" else (False if dtype.kind == "b" else np.iinfo(dtype).min)
    return small if reduce == "amax" else big


def _constant(array, like):
    return Tensor._wrap(array.astype(like.dtype))


class ScatterReduce(Function):
    """z = x, then z[key] ∘= v over every element of v (∘ ∈ sum, prod, mean, amax, amin;
    without include_self the written positions start from ∘'s identity instead of x).
    Shapes: x (s), v (key.result_shape), z (s). VJPs (c = number of values reduced into a
    position, counting x when included; W = the written positions):
      sum:  dx = dz (0 on W without include_self),  dv = dz[key]
      mean: dx = dz/c on W (0 without include_self),  dv = (dz/c)[key]
      amax/amin: every value equal to the result shares dz evenly
      prod: dx, dv = dz·(product of the other values at the position), with zeros exact."""

    def forward(self, x, v, key, reduce, include_self):
        xp = x.xp
        self.key, self.reduce, self.include_self = key, reduce, include_self
        adv = key.advanced
        out = x.array.copy()
        if reduce in ("sum", "prod") and include_self:   # scatter_add, index_add: no counts
            self.written = None
        else:
            counts = xp.zeros(x.shape, dtype=dtypes.int64)
            _ufunc_at(xp, "add", counts, adv, xp.ones(v.shape, dtype=dtypes.int64))
            self.written = counts > 0
            self.total = counts + (1 if include_self else 0)
        if not include_self:
            out[self.written] = _identity(reduce, x.dtype)
        _ufunc_at(xp, _UFUNCS[reduce], out, adv, v.array)
        if reduce == "mean":
            divisor = xp.where(self.written, self.total, 1)
            out = (out // divisor if x.dtype.kind in "iub" else out / divisor).astype(x.dtype)
        if reduce in ("amax", "amin", "prod"):
            self.save_for_backward(x, v)
            self.save_outputs_for_backward()
        return out

    def backward(self, dz):
        key, xp, written = self.key, dz.xp, self.written
        if self.reduce == "sum":
            zero = Tensor._wrap(xp.zeros((), dtype=dz.dtype))
            dx = dz if self.include_self else IndexPut.apply(dz, zero, key)
            return dx, Index.apply(dz, key)
        if self.reduce == "mean":
            share = 1.0 / xp.where(written, self.total, 1)
            dx = dz * _constant(share if self.include_self else share * ~written, dz)
            return dx, Index.apply(dz * _constant(share, dz), key)
        (x, v), (z,) = self.saved_tensors, self.saved_outputs
        if self.reduce == "prod":
            return self._prod_backward(dz, x, v)
        keep_x = xp.ones(written.shape, dtype=bool) if self.include_self else ~written
        with quiet_floating_point(xp, invalid="ignore"):
            from_x = (x.array == z.array) & keep_x
            from_v = v.array == key.take(z.array, xp)
            ties = from_x.astype(dz.dtype)
            _ufunc_at(xp, "add", ties, key.advanced, from_v.astype(dz.dtype))
            dx = dz * _constant(from_x / ties, dz)
            dv = Index.apply(dz / _constant(ties, dz), key) * _constant(from_v, dz)
        return dx, dv

    def _prod_backward(self, dz, x, v):
        """∂z_p/∂e = Π of the other values at p: P/e when p holds no zero, P (the product of
        its non-zero values) for the one zero of a position with exactly one, else 0."""
        key, xp = self.key, dz.xp
        zero = Tensor._wrap(xp.zeros((), dtype=x.dtype))
        one = Tensor._wrap(xp.ones((), dtype=x.dtype))
        x_in = x if self.include_self else IndexPut.apply(x, one, key)
        zero_x, zero_v = x_in.array == 0, v.array == 0
        zeros = zero_x.astype(dtypes.int64)
        _ufunc_at(xp, "add", zeros, key.advanced, zero_v.astype(dtypes.int64))
        safe_x = where(Tensor._wrap(zero_x), 1.0, x_in)
        safe_v = where(Tensor._wrap(zero_v), 1.0, v)
        nonzero_product = ScatterReduce.apply(safe_x, safe_v, key, "prod", True)

        def others(is_zero, count, product, safe):
            none_zero, one_zero = Tensor._wrap(count == 0), Tensor._wrap(count == 1)
            return where(Tensor._wrap(is_zero), where(one_zero, product, 0.0),
                         where(none_zero, product / safe, 0.0))

        dx_in = dz * others(zero_x, zeros, nonzero_product, safe_x)
        dx = dx_in if self.include_self else IndexPut.apply(dx_in, zero, key)
        dv = Index.apply(dz, key) * others(zero_v, key.take(zeros, xp),
                                           Index.apply(nonzero_product, key), safe_v)
        return dx, dv


# ---------------------------------------------------------------------- argument checks
def _index_array(index, op):
    if not isinstance(index, Tensor) or index.dtype not in (dtypes.int64, dtypes.int32):
        got = dtypes.scalar_type_name(index.dtype) if isinstance(index, Tensor) else \
            type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index but got: {got}")
    return to_host(index.array).astype(np.int64, copy=False)


def _check_bounds(idx, size, dim, error=RuntimeError):
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise error(f"index {bad.flat[0]} is out of bounds for dimension {dim} with size {size}")


def _check_same_dtype(input, other, op, arg="src"):
    if other.dtype != input.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to {arg}.dtype "
                           f"(got {input.dtype} and {other.dtype})")


def _scatter_key(op, input, dim, index, src):
    """(key, src cut to index's shape) for the scatter family, with PyTorch's checks."""
    idx = _index_array(index, op)
    dim = _normalize_dim(operator.index(dim), input.ndim)
    if max(idx.ndim, 1) != max(input.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None and max(idx.ndim, 1) != max(src.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    shape = tuple(input.shape) or (1,)
    idx = idx.reshape(idx.shape or (1,))
    src_shape = (tuple(src.shape) or (1,)) if src is not None else None
    for d in range(idx.ndim):
        if (d != dim and idx.shape[d] > shape[d]) or (src is not None and idx.shape[d] > src_shape[d]):
            extra = f" and to be no larger size than src {list(src_shape)}" if src is not None else ""
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(shape)} apart from dimension {dim}{extra}")
    _check_bounds(idx, shape[dim], dim)
    if src is not None:
        check_same_device([input, src], op)
        if src.ndim == 0:
            src = reshape(src, (1,))
        if tuple(src.shape) != idx.shape:
            src = Index.apply(src, IndexKey(tuple(slice(0, n) for n in idx.shape) + (Ellipsis,)))
    return along_dim_key(input.xp, idx, dim), src


def _run(function, inplace, input, *args):
    """function(input, *args), out of place or written into input. A 0-d input is worked on
    as a 1-element vector (an index key needs a dim to index)."""
    if input.ndim == 0:
        out = _run(function, False, reshape(input, (1,)), *args)
        out = reshape(out, ())
        return copy_(input, out) if inplace else out
    if inplace:  # PyTorch's assert_no_overlap: no source (a 0-d value aside) may share memory
        check_no_overlap(input, [a for a in args if isinstance(a, Tensor) and a.ndim])
    return function.apply_inplace(input, *args) if inplace else function.apply(input, *args)


def _value_tensor(input, value, op):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value.ndim} dimension(s).")
        return value.to(device=input.device, dtype=input.dtype)
    return Tensor._wrap(input.xp.asarray(value).astype(input.dtype))


# ---------------------------------------------------------------------- scatter family
def _scatter(input, dim, index, src, value, reduce, inplace):
    check_tensor(input, "scatter")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    if src is not None:
        _check_same_dtype(input, src, "scatter")
    key, src = _scatter_key("scatter", input, dim, index, src)
    if src is None:
        src = broadcast_to(_value_tensor(input, value, "scatter"), key.result_shape(
            tuple(input.shape) or (1,)))
    if reduce is None:
        return _run(IndexPut, inplace, input, src, key)
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if value is None:
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will "
                      "be removed in a future PyTorch release. Use torch.scatter_reduce instead "
                      "for more reduction options.", UserWarning, stacklevel=3)
    return _run(ScatterReduce, inplace, input, src, key, "sum" if reduce == "add" else "prod", True)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """out = input with out[..., index[p], ...] = src[p] (the gather key along ``dim``; src
    may be a number, the ``value``). With ``reduce='add'``/``'multiply'`` the written
    values are added/multiplied in instead. Repeated positions: the last write wins."""
    return _scatter(input, dim, index, src, value, reduce, False)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    return _scatter(self, dim, index, src, value, reduce, True)


def _scatter_reduce(input, dim, index, src, reduce, include_self, inplace, op):
    check_tensor(input, op)
    check_tensor(src, op, "src")
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    _check_same_dtype(input, src, "scatter")
    key, src = _scatter_key(op, input, dim, index, src)
    return _run(ScatterReduce, inplace, input, src, key, reduce, bool(include_self))


@autocast_op("scatter_add")
def scatter_add(input, dim, index, src):
    """out = input with src[p] added at [..., index[p], ...] (repeats accumulate)."""
    return _scatter_reduce(input, dim, index, src, "sum", True, False, "scatter_add")


def scatter_add_(self, dim, index, src):
    return _scatter_reduce(self, dim, index, src, "sum", True, True, "scatter_add")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce every src[p] into out[..., index[p], ...] with ``reduce`` (sum, prod, mean,
    amax, amin), starting from input there (or, without include_self, from the values
    alone); positions nothing is scattered to keep input."""
    return _scatter_reduce(input, dim, index, src, reduce, include_self, False, "scatter_reduce")


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce(self, dim, index, src, reduce, include_self, True, "scatter_reduce")


# ---------------------------------------------------------------------- index_* family
def _index_key(op, input, dim, index, source=None, bounds_error=RuntimeError):
    """The key [:, …, index, …] along ``dim`` (index a vector), with PyTorch's checks."""
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {idx.ndim} "
                         f"with type: {dtypes.scalar_type_name(index.dtype)} and size: "
                         f"{list(idx.shape)}")
    dim = _normalize_dim(operator.index(dim), input.ndim)
    idx = idx.reshape(-1)
    shape = tuple(input.shape) or (1,)
    if source is not None:
        check_same_device([input, source], op)
        if source.dtype != input.dtype:
            raise RuntimeError(f"{op}(): self ({dtypes.scalar_type_name(input.dtype)}) and source "
                               f"({dtypes.scalar_type_name(source.dtype)}) must have the same "
                               f"scalar type")
        source_shape = tuple(source.shape) or (1,)
        if len(source_shape) != len(shape) or \
                source_shape[:dim] + source_shape[dim + 1:] != shape[:dim] + shape[dim + 1:]:
            if op == "index_copy_":
                raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                                   f"shapes (self {list(shape)}, source {list(source_shape)}, "
                                   f"dim {dim})")
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension. Got self.shape = {list(shape)} "
                               f"source.shape = {list(source_shape)}")
        if source_shape[dim] != idx.size:
            if op == "index_copy_":
                raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal "
                                 f"to source.size(dim) ({source_shape[dim]})")
            raise RuntimeError(f"{op}(): Number of indices ({idx.size}) should be equal to "
                               f"source.size(dim): ({source_shape[dim]}), for dim: {dim}")
    _check_bounds(idx, shape[dim], dim, bounds_error)
    key = IndexKey((), (slice(None),) * dim + (input.xp.asarray(idx),))
    if source is not None and source.ndim == 0:
        source = reshape(source, (1,))
    return key, source


def _index_add(input, dim, index, source, alpha, inplace):
    check_tensor(input, "index_add")
    check_tensor(source, "index_add", "source")
    key, source = _index_key("index_add_", input, dim, index, source)
    if input.dtype.kind in "iu" and not isinstance(alpha, numbers.Integral):
        alpha = int(alpha)  # PyTorch casts alpha to the integral dtype (2.5 adds 2·source)
    if alpha != 1:
        source = source * alpha
    return _run(ScatterReduce, inplace, input, source, key, "sum", True)


def index_add(input, dim, index, source, *, alpha=1):
    """out = input with alpha·source[..., i, ...] added at [..., index[i], ...] (repeats
    accumulate)."""
    return _index_add(input, dim, index, source, alpha, False)


def index_add_(self, dim, index, source, *, alpha=1):
    return _index_add(self, dim, index, source, alpha, True)


def _index_copy(input, dim, index, source, inplace):
    check_tensor(input, "index_copy")
    check_tensor(source, "index_copy", "source")
    key, source = _index_key("index_copy_", input, dim, index, source, IndexError)
    return _run(IndexPut, inplace, input, source, key)


def index_copy(input, dim, index, source):
    """out = input with out[..., index[i], ...] = source[..., i, ...]."""
    return _index_copy(input, dim, index, source, False)


def index_copy_(self, dim, index, source):
    return _index_copy(self, dim, index, source, True)


def _index_fill(input, dim, index, value, inplace):
    check_tensor(input, "index_fill")
    key, _ = _index_key("index_fill_", input, dim, index, bounds_error=IndexError)
    return _run(IndexPut, inplace, input, _value_tensor(input, value, "index_fill_"), key)


def index_fill(input, dim, index, value):
    """out = input with every slice [..., index[i], ...] set to ``value`` (a number or a
    0-d tensor, which receives the sum of their gradients)."""
    return _index_fill(input, dim, index, value, False)


def index_fill_(self, dim, index, value):
    return _index_fill(self, dim, index, value, True)


# ---------------------------------------------------------------------- masked_scatter
def _masked_scatter(input, mask, source, inplace):
    check_tensor(input, "masked_scatter")
    check_tensor(mask, "masked_scatter", "mask")
    check_tensor(source, "masked_scatter", "source")
    if mask.dtype != dtypes.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{dtypes.scalar_type_name(mask.dtype)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{dtypes.scalar_type_name(input.dtype)} and "
                           f"{dtypes.scalar_type_name(source.dtype)}")
    check_same_device([input, mask, source], "masked_scatter")
    shape = tuple(input.shape) if inplace else broadcast_shapes(input.shape, mask.shape)
    try:
        mask_array = input.xp.broadcast_to(mask.array, shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter_: mask of shape {list(mask.shape)} can't be broadcast "
                           f"to self of shape {list(input.shape)}") from None
    if not inplace and tuple(input.shape) != shape:
        input = broadcast_to(input, shape)
    count = int(mask_array.sum())
    if source.numel() < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    values = Index.apply(reshape(source, (-1,)), IndexKey((slice(0, count), Ellipsis)))
    if inplace and values.numel():  # source may be self (allowed): read it before writing
        values = Tensor._wrap(values.array.copy()) if not values.requires_grad else values * 1
    if not shape:
        mask_array = mask_array.reshape(1)
    key = IndexKey((), tuple(input.xp.nonzero(mask_array)))
    return _run(IndexPut, inplace, input, values, key)


def masked_scatter(input, mask, source):
    """out = input with the positions where ``mask`` (broadcast with input) is True filled,
    in row-major order, by the leading elements of source."""
    return _masked_scatter(input, mask, source, False)


def masked_scatter_(self, mask, source):
    return _masked_scatter(self, mask, source, True)
