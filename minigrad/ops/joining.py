"""Joining and slicing: cat/concat/concatenate, stack, split, chunk, unbind, narrow, select.

The Functions come in adjoint pairs, each the other's VJP, so every backward is itself
differentiable:

    Cat   (x₁…xₙ → y along dim)     ↔  Split  (y → pieces of given sizes along dim)
    Stack (x₁…xₙ → y, new dim)      ↔  Unbind (y → its slices along dim, dim removed)

Split and Unbind return views of their input (one node with several outputs), so the
pieces share the input's version counter; narrow and select are single slices, read through
indexing's ``Index`` (also views).
"""
import operator

from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function
from .operands import promote
from .indexing import IndexKey, index_with_key
from .shape import _mark_view

__all__ = ["cat", "concat", "concatenate", "stack", "split", "chunk", "unbind", "narrow", "select"]


class Cat(Function):
    """y = concatenate(x₁…xₙ, dim)   (…, nᵢ, …) → (…, Σnᵢ, …);
    dxᵢ = Split(dy)ᵢ, the slice of dy xᵢ was copied to. Inputs flagged in ``skip`` (PyTorch's
    legacy empty (0,) tensors) are left out and get a (0,) zero gradient."""

    def forward(self, *tensors, dim, skip):
        self.dim, self.skip = dim, skip
        kept = [t for t, s in zip(tensors, skip) if not s]
        self.sizes = [t.shape[dim] for t in kept]
        self.meta = [(t.shape, t.dtype) for t in tensors]
        xp = tensors[0].xp
        if not kept:
            return xp.zeros((0,), dtype=tensors[0].dtype)
        return xp.concatenate([t.array for t in kept], axis=dim)

    def backward(self, dy):
        pieces = iter(Split.apply(dy, self.sizes, self.dim) if self.sizes else ())
        grads = []
        for needed, skipped, (shape, dtype) in zip(self.needs_input_grad, self.skip, self.meta):
            piece = Tensor._wrap(dy.xp.zeros(shape, dtype=dtype)) if skipped else next(pieces)
            grads.append(piece if needed else None)
        return tuple(grads)


class Split(Function):
    """(y₁…yₙ) = consecutive slices of x along dim with sizes (n₁…nₙ), Σnᵢ = x.shape[dim];
    dx = concatenate(dy₁…dyₙ, dim)."""

    def forward(self, x, sizes, dim):
        self.dim = dim
        pieces, start = [], 0
        lead = (slice(None),) * dim
        for size in sizes:
            pieces.append(x.array[lead + (slice(start, start + size), Ellipsis)])
            start += size
        return tuple(pieces)

    def backward(self, *dys):
        return Cat.apply(*dys, dim=self.dim, skip=(False,) * len(dys))


class Stack(Function):
    """y = stack(x₁…xₙ, dim)   n × (s) → (s[:dim], n, s[dim:]);  dxᵢ = Unbind(dy, dim)ᵢ."""

    def forward(self, *tensors, dim):
        self.dim = dim
        return tensors[0].xp.stack([t.array for t in tensors], axis=dim)

    def backward(self, dy):
        grads = Unbind.apply(dy, self.dim)
        return tuple(g if needed else None for g, needed in zip(grads, self.needs_input_grad))


class Unbind(Function):
    """(y₁…yₙ) = x[..., i, ...] along dim for i < n = x.shape[dim];  dx = stack(dy₁…dyₙ, dim)."""

    def forward(self, x, dim):
        self.dim = dim
        lead = (slice(None),) * dim
        return tuple(x.array[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    def backward(self, *dys):
        return Stack.apply(*dys, dim=self.dim)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


def cat(tensors, dim=0):
    """Join tensors along an existing dim. Sizes must agree elsewhere; dtypes are promoted;
    1-D empty tensors are skipped (PyTorch's legacy rule)."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    skip = tuple(t.ndim == 1 and t.shape[0] == 0 for t in tensors)
    tensors = promote(*tensors, op="cat") if len(tensors) > 1 else tensors
    kept = [(i, t) for i, t in enumerate(tensors) if not skip[i]]
    if not kept:
        return Cat.apply(*tensors, dim=0, skip=skip)
    first_index, first = kept[0]
    dim = _normalize_dim(dim, first.ndim)
    for i, t in kept[1:]:
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} and "
                               f"{t.ndim}")
        for d in range(first.ndim):
            if d != dim and t.shape[d] != first.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. "
                                   f"Expected size {first.shape[d]} but got size {t.shape[d]} for "
                                   f"tensor number {i} in the list.")
    return Cat.apply(*tensors, dim=dim, skip=skip)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dim inserted at ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at entry {i}")
    dim = _normalize_dim(dim, tensors[0].ndim + 1)
    if len(tensors) > 1:
        tensors = promote(*tensors, op="stack")
    return Stack.apply(*tensors, dim=dim)


def _split_views(input, sizes, dim):
    pieces = Split.apply(input, tuple(sizes), dim)
    return tuple(_mark_view(p, input) for p in pieces)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along dim (the last may be smaller), or pieces of the given
    list of sizes. Views of the input."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _normalize_dim(dim, tensor.ndim)
    size = tensor.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {dim}), but got "
                               f"split_sizes={sizes}")
        return _split_views(tensor, sizes, dim)
    step = int(split_size_or_sections)
    if step < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
    if step == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {size}")
    count = max(-(-size // step), 1) if step else 1
    sizes = [step] * (count - 1) + [size - step * (count - 1)]
    return _split_views(tensor, sizes, dim)


def chunk(input, chunks, dim=0):
    """split(input, ceil(n / chunks), dim): at most ``chunks`` pieces (fewer when they do not
    divide evenly, e.g. 6 into 4 gives 2+2+2)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _normalize_dim(dim, input.ndim)
    size = input.shape[dim]
    if size == 0:
        return _split_views(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


def unbind(input, dim=0):
    """The slices of input along ``dim``, that dim removed; views of the input."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _normalize_dim(dim, input.ndim)
    if input.shape[dim] == 0:
        return ()
    pieces = Unbind.apply(input, dim)
    return tuple(_mark_view(p, input) for p in pieces)


def narrow(input, dim, start, length):
    """input[..., start:start+length, ...] along ``dim``; a view."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _normalize_dim(dim, input.ndim)
    start, length = operator.index(start), operator.index(length)
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but "
                         f"got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    key = (slice(None),) * dim + (slice(start, start + length), Ellipsis)
    return index_with_key(input, IndexKey(key))


def select(input, dim, index):
    """input[..., index, ...] along ``dim`` (that dimension removed); a view."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _normalize_dim(dim, input.ndim)
    index = operator.index(index)
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    key = (slice(None),) * dim + (index, Ellipsis)
    return index_with_key(input, IndexKey(key))
