"""Stacking and splitting conveniences: hstack/vstack/row_stack/dstack/column_stack,
atleast_1d/2d/3d, tensor_split/hsplit/vsplit/dsplit, block_diag, cartesian_prod,
combinations, rot90, diagflat, take and broadcast_shapes.

Every function here is a composition of existing differentiable ops (reshape, cat, stack,
narrow, flip, transpose, index_select, diag), so no new Function is defined: each VJP is the
composition of the constituent VJPs and double backward works wherever theirs does.
"""
import itertools
import numbers

from .. import dtypes
from ..tensor import Size, Tensor, _normalize_dim
from .conversion import clone
from .joining import cat, stack, narrow
from .operands import broadcast_shapes as _broadcast_shapes, check_tensor, promote
from .rearrange import diag, flip, meshgrid
from .indexing import index_select
from .shape import reshape, transpose

__all__ = ["hstack", "vstack", "row_stack", "dstack", "column_stack", "atleast_1d",
           "atleast_2d", "atleast_3d", "tensor_split", "hsplit", "vsplit", "dsplit",
           "block_diag", "cartesian_prod", "combinations", "rot90", "diagflat", "take",
           "broadcast_shapes"]



def _no_out(out, op):
    if out is not None:
        raise TypeError(f"{op}(): the out= argument is not supported by minigrad")

def _atleast(tensors, fix, op):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(tuple(tensors[0]), fix, op))
    for t in tensors:
        check_tensor(t, op)
    out = tuple(fix(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors):
    """``input`` viewed with at least one dimension (a 0-d tensor becomes shape (1,))."""
    return _atleast(tensors, lambda t: reshape(t, (1,)) if t.ndim == 0 else t, "atleast_1d")


def _at2(t):
    return reshape(t, (1, 1)) if t.ndim == 0 else reshape(t, (1, t.shape[0])) if t.ndim == 1 else t


def atleast_2d(*tensors):
    """0-d → (1, 1), (n,) → (1, n); higher ranks unchanged."""
    return _atleast(tensors, _at2, "atleast_2d")


def _at3(t):
    if t.ndim == 0:
        return reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return reshape(t, (1, t.shape[0], 1))
    if t.ndim == 2:
        return reshape(t, t.shape + (1,))
    return t


def atleast_3d(*tensors):
    """0-d → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1); higher ranks unchanged."""
    return _atleast(tensors, _at3, "atleast_3d")


def _sequence(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    for t in tensors:
        check_tensor(t, op)
    return list(tensors)


def hstack(tensors, *, out=None):
    """cat(atleast_1d(tᵢ)) along dim 0 when the first is 1-d, else along dim 1."""
    _no_out(out, "hstack")
    tensors = [atleast_1d(t) for t in _sequence(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors, *, out=None):
    """cat(atleast_2d(tᵢ), dim=0)."""
    _no_out(out, "vstack")
    return cat([atleast_2d(t) for t in _sequence(tensors, "vstack")], 0)


def row_stack(tensors, *, out=None):
    """Alias of ``vstack``."""
    _no_out(out, "row_stack")
    return vstack(tensors)


def dstack(tensors, *, out=None):
    """cat(atleast_3d(tᵢ), dim=2)."""
    _no_out(out, "dstack")
    return cat([atleast_3d(t) for t in _sequence(tensors, "dstack")], 2)


def column_stack(tensors, *, out=None):
    """0-d and 1-d tensors become columns (n, 1); then cat along dim 1."""
    _no_out(out, "column_stack")
    tensors = _sequence(tensors, "column_stack")
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` along ``dim``: an int n gives n pieces, the first size % n of them
    one longer; a list of indices gives the slices [0:i₀], [i₀:i₁], …, [iₖ:]."""
    check_tensor(input, "tensor_split")
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    dim = _normalize_dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        if dtypes.is_floating(indices_or_sections.dtype) or indices_or_sections.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have "
                               "integer dtype and to be a 0-D or 1-D tensor")
        values = indices_or_sections.tolist()
        indices_or_sections = values
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(size, sections)
        bounds, start = [], 0
        for i in range(sections):
            stop = start + base + (1 if i < extra else 0)
            bounds.append((start, stop))
            start = stop
    elif isinstance(indices_or_sections, (list, tuple)):
        bounds, start = [], 0
        for index in list(indices_or_sections) + [size]:
            stop = int(index)
            stop = max(0, stop + size) if stop < 0 else min(stop, size)
            bounds.append((start, stop))
            start = stop
    else:
        raise TypeError("tensor_split(): argument 'indices_or_sections' must be int, tuple of "
                        f"ints or Tensor, not {type(indices_or_sections).__name__}")
    return tuple(narrow(input, dim, min(lo, size), max(0, hi - min(lo, size)))
                 for lo, hi in bounds)


def _split_along(input, indices_or_sections, dim, op):
    if isinstance(indices_or_sections, numbers.Integral):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the split_size "
                               f"{indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for a 1-d input); an int must divide that size."""
    check_tensor(input, "hsplit")
    if input.ndim < 1:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got "
                           "a tensor with 0 dimensions!")
    return _split_along(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor with at least 2 dimensions."""
    check_tensor(input, "vsplit")
    if input.ndim < 2:
        raise RuntimeError("torch.vsplit requires a tensor with at least 2 dimension, but got "
                           f"a tensor with {input.ndim} dimensions!")
    return _split_along(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor with at least 3 dimensions."""
    check_tensor(input, "dsplit")
    if input.ndim < 3:
        raise RuntimeError("torch.dsplit requires a tensor with at least 3 dimension, but got "
                           f"a tensor with {input.ndim} dimensions!")
    return _split_along(input, indices_or_sections, 2, "dsplit")


def _zeros(like, shape, dtype):
    return Tensor._wrap(like.xp.zeros(shape, dtype=dtype.np if hasattr(dtype, "np") else dtype))


def block_diag(*tensors):
    """The block-diagonal matrix of the (at most 2-d) inputs, promoted to a common dtype;
    0-d → (1, 1), (n,) → (1, n)."""
    for i, t in enumerate(tensors):
        check_tensor(t, "block_diag")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    if not tensors:
        raise RuntimeError("torch.block_diag: expected at least one tensor")
    blocks = [_at2(t) for t in promote(*tensors, op="block_diag")]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [_zeros(b, (r, left), b.array.dtype), b,
                 _zeros(b, (r, width - left - c), b.array.dtype)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """The rows of the Cartesian product of 1-d tensors, shape (Πnᵢ, k); one tensor is
    returned as is."""
    for t in tensors:
        check_tensor(t, "cartesian_prod")
        if t.ndim != 1:
            raise RuntimeError("Expect a 1D vector, but got shape " + str(list(t.shape)))
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of the elements of a 1-d tensor, shape (C, r), in
    itertools order (r = 0 gives an empty (0,) tensor)."""
    check_tensor(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _zeros(input, (0,), input.array.dtype)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    cols = [Tensor._wrap(input.xp.asarray([row[j] for row in rows], dtype="int64"))
            for j in range(r)]
    return stack([index_select(input, 0, c) for c in cols], 1)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90°·k in the plane of ``dims``, from dims[0] towards dims[1]."""
    check_tensor(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (_normalize_dim(d, input.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return transpose(flip(input, [d0]), d0, d1)
    return clone(input)


def diagflat(input, offset=0):
    """diag(input.flatten(), offset): the flattened input on diagonal ``offset``."""
    check_tensor(input, "diagflat")
    return diag(reshape(input, (-1,)), offset)


def take(input, index):
    """input.flatten()[index], shaped like ``index`` (negative indices count from the end)."""
    check_tensor(input, "take")
    check_tensor(index, "take", "index")
    if dtypes.is_floating(index.dtype) or str(index.dtype).endswith("bool"):
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    n = input.numel()
    flat_index = index.array.reshape(-1).astype("int64")
    bad = (flat_index >= n) | (flat_index < -n)
    if bool(bad.any()):
        value = int(flat_index[bad][0])
        raise IndexError(f"out of range: tried to access index {value} on a tensor of {n} "
                         "elements.")
    flat_index = flat_index % max(n, 1)
    picked = index_select(reshape(input, (-1,)), 0, Tensor._wrap(flat_index))
    return reshape(picked, index.shape)


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (ints count as 1-d shapes)."""
    shapes = [(s,) if isinstance(s, numbers.Integral) else tuple(s) for s in shapes]
    for s in shapes:
        for size in s:
            if size < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {size}: "
                                   f"{list(s)}")
    return Size(_broadcast_shapes(*shapes))
