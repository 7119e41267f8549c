"""Rearranging ops: flip/fliplr/flipud, roll, Tensor.repeat, tile, repeat_interleave,
diag/diagonal/diag_embed/trace, Tensor.unfold, meshgrid, and the position finders nonzero,
argwhere, masked_select, tril_indices/triu_indices.

Every op here moves (or copies) elements without arithmetic, so each VJP sends every
gradient element back to where its value came from: a permutation is undone (flip ↔ flip,
roll(s) ↔ roll(−s)), a copy sums its gradients (repeat = reshape + broadcast, whose VJP is
``sum_to``; repeat_interleave and masked_select are reads at index arrays, whose VJP is the
scatter-add of ``indexing.Index``), and a strided view is the adjoint of writing into zeros
(diagonal ↔ diag_embed, unfold ↔ the overlap-add of its windows).
"""
import numbers
import operator
import warnings

import numpy as np

from .. import dtypes
from ..device import as_device, move_array, to_host
from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function
from .broadcast import broadcast_to
from .conversion import clone
from .indexing import Index, IndexKey, index_select
from .operands import broadcast_shapes, check_same_device, check_tensor, sizes_argument
from .reduction import sum as reduce_sum
from .shape import _mark_view, reshape
from ..amp.autocast_mode import autocast_op

__all__ = ["flip", "fliplr", "flipud", "roll", "tile", "repeat_interleave", "diag", "diagonal",
           "diag_embed", "trace", "meshgrid", "nonzero", "argwhere", "masked_select",
           "tril_indices", "triu_indices"]


def _dims_list(dims, ndim, op):
    """An int or a sequence of ints as distinct normalised dims (PyTorch's error for repeats)."""
    if isinstance(dims, (numbers.Integral, Tensor)):
        dims = (dims,)
    dims = [_normalize_dim(operator.index(d), ndim) for d in dims]
    seen = set()
    for d in dims:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return tuple(dims)


def _sizes(args):
    """``f(2, 3)`` or ``f((2, 3))`` → (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(operator.index(a) for a in args)


# ---------------------------------------------------------------------- flip / roll
class Flip(Function):
    """y = x reversed along ``dims`` (a copy);  dx = flip(dy, dims)."""

    def forward(self, x, dims):
        self.dims = dims
        return x.xp.flip(x.array, axis=dims).copy() if dims else x.array.copy()

    def backward(self, dy):
        return Flip.apply(dy, self.dims)


class Roll(Function):
    """y_i = x_{(i − s) mod n} along each dim (over the flattened tensor when dims is None);
    dx = roll(dy, −s)."""

    def forward(self, x, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return x.xp.roll(x.array, shifts, axis=dims)

    def backward(self, dy):
        negated = tuple(-s for s in self.shifts) if self.dims is not None else -self.shifts
        return Roll.apply(dy, negated, self.dims)


def flip(input, *args, dims=None):
    """Reverse the order of elements along ``dims`` (``flip(x, (0, 1))`` or ``x.flip(0, 1)``)."""
    check_tensor(input, "flip")
    dims = sizes_argument(args, dims, "flip", "dims")
    if not dims:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    dims = _dims_list(_sizes(dims), input.ndim, "flip")
    return Flip.apply(input, dims) if input.ndim else clone(input)


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor when dims
    is None); shifts and dims are ints or equally long sequences."""
    check_tensor(input, "roll")
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return Roll.apply(input, operator.index(shifts[0]), None)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(_normalize_dim(operator.index(d), input.ndim) for d in dims)
    return Roll.apply(input, tuple(operator.index(s) for s in shifts), dims)


# ---------------------------------------------------------------------- repeat family
def repeat(input, *sizes, repeats=None):
    """``Tensor.repeat(*sizes)``: tile the tensor sizes[i] times along dim i (leading sizes
    add new dims). Built as reshape → broadcast → reshape, so the VJP is ``sum_to``."""
    repeats = sizes_argument(sizes, repeats, "repeat", "repeats")
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = _sizes(repeats)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    paired = tuple(n for s in shape for n in (1, s))
    target = tuple(n for r, s in zip(sizes, shape) for n in (r, s))
    out = reshape(broadcast_to(reshape(input, paired), target),
                  tuple(r * s for r, s in zip(sizes, shape)))
    return clone(out) if out.xp.may_share_memory(out.array, input.array) else out


def tile(input, *dims):
    """``repeat`` with ``dims`` padded by leading 1s when shorter than input's rank."""
    check_tensor(input, "tile")
    sizes = _sizes(dims)
    return repeat(input, (1,) * (input.ndim - len(sizes)) + sizes)


def _repeat_counts(repeats, length):
    if isinstance(repeats, Tensor):
        if repeats.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got "
                               f"{repeats.dtype}")
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        counts = to_host(repeats.array).astype(np.int64).reshape(-1)
    else:
        counts = np.asarray([operator.index(repeats)], dtype=np.int64)
    if counts.size == 1:
        counts = np.repeat(counts, length)
    if counts.size != length:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.size} and input.size(0) = {length}")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    return counts


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (slice along ``dim``; of the flattened input when dim is None) repeated
    ``repeats`` times in a row (an int, or one count per element). With only a 1-D integer
    tensor, ``repeat_interleave(r)`` repeats the indices 0..len(r)−1."""
    check_tensor(input, "repeat_interleave")
    if repeats is None:
        counts = _repeat_counts(input, input.numel())
        return Tensor._wrap(move_array(np.repeat(np.arange(counts.size), counts), input.device))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    if input.ndim == 0:  # PyTorch's own (unsqueezing) message for a 0-d input with a dim
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"{dim + 1})")
    dim = _normalize_dim(dim, input.ndim)
    counts = _repeat_counts(repeats, input.shape[dim])
    positions = np.repeat(np.arange(counts.size), counts)
    if output_size is not None and output_size != positions.size:
        raise RuntimeError("allocated size does not match required size")
    return index_select(input, dim, Tensor._wrap(positions))


# ---------------------------------------------------------------------- diagonals
def _diagonal_view(array, offset, dim1, dim2, xp):
    """A writable strided view of the diagonal (numpy's layout: remaining dims, then the
    diagonal), where ``array.diagonal`` would give a read-only one."""
    cut = [slice(None)] * array.ndim
    if offset >= 0:
        cut[dim2] = slice(offset, None)
    else:
        cut[dim1] = slice(-offset, None)
    sub = array[tuple(cut)]
    probe = sub.diagonal(0, dim1, dim2)
    return xp.lib.stride_tricks.as_strided(sub, probe.shape, probe.strides)


class Diagonal(Function):
    """y[..., i] = x[..., i, i + offset, ...] over dims (dim1, dim2) (a view);
    dx = diag_embed-like scatter of dy into zeros(x.shape)."""

    def forward(self, x, offset, dim1, dim2):
        self.args, self.input_shape = (offset, dim1, dim2), x.shape
        return _diagonal_view(x.array, offset, dim1, dim2, x.xp)

    def backward(self, dy):
        return DiagonalScatter.apply(dy, self.input_shape, *self.args)


class DiagonalScatter(Function):
    """z = zeros(shape) with z's diagonal (offset, dim1, dim2) = v;  dv = diagonal(dz)."""

    def forward(self, v, shape, offset, dim1, dim2):
        self.args = (offset, dim1, dim2)
        out = v.xp.zeros(shape, dtype=v.dtype)
        _diagonal_view(out, offset, dim1, dim2, v.xp)[...] = v.array
        return out

    def backward(self, dz):
        return Diagonal.apply(dz, *self.args)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) shifted by ``offset`` (above the main diagonal when
    positive), as a view whose last dim runs along it."""
    check_tensor(input, "diagonal")
    d1, d2 = _normalize_dim(dim1, input.ndim), _normalize_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _mark_view(Diagonal.apply(input, int(offset), d1, d2), input)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor of zeros whose (dim1, dim2) diagonals (shifted by offset) hold input's last
    dim: (…, n) → (…, n + |offset|, n + |offset|) with the new dims at dim1, dim2."""
    check_tensor(input, "diag_embed")
    ndim = input.ndim + 1
    d1, d2 = _normalize_dim(dim1, ndim), _normalize_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if input.ndim == 0:
        input = reshape(input, (1,))
    n = input.shape[-1] + abs(int(offset))
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagonalScatter.apply(input, tuple(shape), int(offset), d1, d2)


def diag(input, diagonal=0):
    """1-D → the 2-D matrix with input on diagonal ``diagonal``; 2-D → that diagonal (a copy)."""
    check_tensor(input, "diag")
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return clone(_diagonal_function(input, diagonal, 0, 1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


_diagonal_function = diagonal


@autocast_op("trace")
def trace(input):
    """Σ_i x[i, i] of a 2-D tensor (integer inputs give int64, as sum does)."""
    check_tensor(input, "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return reduce_sum(diagonal(input))


# ---------------------------------------------------------------------- unfold
class Unfold(Function):
    """y[..., j, ..., w] = x[..., j·step + w, ...]: windows of ``size`` every ``step`` along
    ``dim`` (a strided view; the window index replaces dim, the offset w is a new last dim).
    VJP: dx[..., j·step + w, ...] += dy[..., j, ..., w] (windows overlap when step < size)."""

    def forward(self, x, dim, size, step):
        self.args, self.input_shape = (dim, size, step), x.shape
        a = x.array
        count = (a.shape[dim] - size) // step + 1
        shape = a.shape[:dim] + (count,) + a.shape[dim + 1:] + (size,)
        strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + (a.strides[dim],)
        return x.xp.lib.stride_tricks.as_strided(a, shape, strides)

    def backward(self, dy):
        return UnfoldAdd.apply(dy, self.input_shape, *self.args)


class UnfoldAdd(Function):
    """z = zeros(shape); z[..., j·step + w, ...] += v[..., j, ..., w] (the overlap-add of
    windows);  dv = unfold(dz, dim, size, step)."""

    def forward(self, v, shape, dim, size, step):
        self.args = (dim, size, step)
        out = v.xp.zeros(shape, dtype=v.dtype)
        count = v.shape[dim]
        for w in range(size):
            target = [slice(None)] * len(shape)
            target[dim] = slice(w, w + step * (count - 1) + 1, step)
            out[tuple(target)] += v.array[..., w]
        return out

    def backward(self, dz):
        return Unfold.apply(dz, *self.args)


def unfold(input, dimension, size, step):
    """``Tensor.unfold``: every slice of length ``size`` along ``dimension``, ``step`` apart."""
    dim = _normalize_dim(dimension, input.ndim)
    length = input.shape[dim] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if input.ndim == 0:
        return reshape(input, (1,))
    return _mark_view(Unfold.apply(input, dim, int(size), int(step)), input)


# ---------------------------------------------------------------------- meshgrid
def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-D/1-D tensors: with 'ij' output k varies along dim k, with 'xy'
    the first two dims are swapped (Cartesian). Outputs are broadcast views."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f'{indexing}')
    if not tensors:
        raise RuntimeError("torch.meshgrid: Expected at least one tensor")
    for t in tensors:
        check_tensor(t, "meshgrid", "tensors")
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got tensor of shape {list(t.shape)}")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the "
                           "same dtype")
    check_same_device(list(tensors), "meshgrid")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t.numel()
    grids = []
    for t, axis in zip(tensors, axes):
        lifted = [1] * len(tensors)
        lifted[axis] = t.numel()
        grids.append(broadcast_to(reshape(t, tuple(lifted)), tuple(shape)))
    return tuple(grids)


# ---------------------------------------------------------------------- positions
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor in row-major order, or
    with ``as_tuple`` one 1-D index tensor per dim (a 0-d input counts as 1-d there)."""
    check_tensor(input, "nonzero")
    xp = input.xp
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(dtypes.int64))
                     for i in xp.nonzero(xp.atleast_1d(input.array)))
    return Tensor._wrap(xp.argwhere(input.array).astype(dtypes.int64))


def argwhere(input):
    """``nonzero(input)``: an (n, ndim) int64 tensor of the non-zero positions."""
    return nonzero(input)


def masked_select(input, mask):
    """The elements of input where ``mask`` (bool, broadcast with input) is True, as a 1-D
    tensor in row-major order;  dinput = the gradient scattered back to those positions."""
    check_tensor(input, "masked_select")
    check_tensor(mask, "masked_select", "mask")
    if mask.dtype != dtypes.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    check_same_device([input, mask], "masked_select")
    shape = broadcast_shapes(input.shape, mask.shape)
    if tuple(input.shape) != shape:
        input = broadcast_to(input, shape)
    mask_array = input.xp.broadcast_to(mask.array, shape)
    if not shape:  # 0-d: select from the 1-element 1-d form
        input, mask_array = reshape(input, (1,)), mask_array.reshape(1)
    return Index.apply(input, IndexKey((), tuple(input.xp.nonzero(mask_array))))


def _triangle_indices(which, row, col, offset, dtype, device):
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else
                           f"col must be non-negative, got{col}")
    dtype = dtypes.as_dtype(dtype)
    rows, cols = (np.tril_indices if which == "tril" else np.triu_indices)(row, offset, col)
    array = np.stack([rows, cols]).astype(dtype)
    return Tensor._wrap(array if device is None else move_array(array, as_device(device)))


def tril_indices(row, col, offset=0, *, dtype=dtypes.int64, device=None, layout=None):
    """The (2, N) row/column indices of the lower triangle (diagonal ``offset`` and below)
    of a row × col matrix, in row-major order."""
    return _triangle_indices("tril", row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=dtypes.int64, device=None, layout=None):
    """The (2, N) row/column indices of the upper triangle (diagonal ``offset`` and above)."""
    return _triangle_indices("triu", row, col, offset, dtype, device)
