"""Indexing: ``t[key]``, ``t[key] = v``, and the ops that pick elements by position
(gather, index_select, take_along_dim, and ``EmbeddingLookup``, the Function behind
``F.embedding``; masked_fill and tril/triu are in ``masking.py``; narrow and select, plain
slices, live with split in ``joining.py``).

Every read is one Function, ``Index``: y = x[key]. Its VJP puts each gradient element back
where it was read from, adding where an element was read more than once,

    dx = scatter_add(zeros(x.shape), key, dy),

and the VJP of that scatter is reading at the same key again, so the pair is closed under
differentiation (higher-order gradients need nothing more).

A key is applied in two stages, as PyTorch does: first the *basic* part (ints, slices,
None, ...), whose result is a view sharing the input's version counter; then the
*advanced* part (integer arrays and boolean masks, as index arrays broadcast together),
whose result is a copy. Integers always act as basic indices here, so ``x[0, :, [1, 2]]``
has shape (x.shape[1], 2) as in PyTorch (NumPy would give (2, x.shape[1])).
"""
import numbers
import operator
import warnings

import numpy as np

import minigrad_kernels as kernels

from .. import dtypes
from ..device import to_host
from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function, check_no_internal_overlap, check_no_partial_overlap
from ..autograd.grad_mode import is_grad_enabled
from .broadcast import sum_to, broadcast_to
from .masking import masked_fill
from .operands import broadcast_shapes, check_same_device
from .shape import _mark_view, reshape

__all__ = ["gather", "index_select", "take_along_dim"]

_VALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
          "valid indices (got {})")


# ---------------------------------------------------------------------- keys
class IndexKey:
    """A parsed index: ``basic`` (a NumPy basic-indexing tuple ending in ``...``, so results
    are always arrays) and ``advanced`` (None, or a tuple of slices and integer index arrays
    applied to the basic result)."""

    __slots__ = ("basic", "advanced")

    def __init__(self, basic, advanced=None):
        self.basic, self.advanced = basic, advanced

    def view(self, array):
        return array[self.basic] if self.basic else array

    def take(self, array, xp):
        out = self.view(array)
        return out if self.advanced is None else xp.asarray(out[self.advanced])

    def put(self, array, values):
        """array[key] = values, in place (later duplicates win, as NumPy assigns)."""
        target = self.view(array)
        if self.advanced is None:
            target[...] = values
        else:
            target[self.advanced] = values

    def scatter_add(self, values, shape, xp):
        out = xp.zeros(shape, dtype=values.dtype)
        target = self.view(out)
        if self.advanced is None:      # basic positions are distinct: plain assignment
            target[...] = values
        elif hasattr(xp.add, "at"):
            xp.add.at(target, self.advanced, values)
        else:                          # older CuPy
            import cupyx
            cupyx.scatter_add(target, self.advanced, values)
        return out

    def result_shape(self, shape):
        """The shape ``take`` gives an array of ``shape``, worked out on the host: the
        advanced index arrays (maybe on the GPU, already bounds-checked) only lend their
        shapes, as zeros."""
        dummy = np.broadcast_to(np.empty((), np.int8), shape)
        advanced = None if self.advanced is None else tuple(
            a if isinstance(a, slice) else np.zeros(a.shape, np.intp) for a in self.advanced)
        return IndexKey(self.basic, advanced).take(dummy, np).shape


def _index_array(item):
    """An index object as a host array (bool mask or int64 indices), or None if it is not
    array-like."""
    if isinstance(item, Tensor):
        array = to_host(item.array)
    elif isinstance(item, np.ndarray) or hasattr(item, "__cuda_array_interface__"):
        array = to_host(item)
    elif isinstance(item, (list, tuple, range)):
        array = np.asarray(item)
        if array.size == 0 and array.dtype.kind in "fV":
            array = array.astype(np.int64)
    else:
        return None
    if array.dtype.kind == "b" or array.dtype == np.uint8:  # uint8: PyTorch's legacy masks
        return array.astype(bool, copy=False)
    if array.dtype.kind in "iu":
        if array.dtype not in (np.int64, np.int32) and isinstance(item, Tensor):
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors "
                             f"(got {array.dtype})")
        return array.astype(np.int64, copy=False)
    if array.dtype.kind in "fc" and isinstance(item, (Tensor, np.ndarray)):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    raise IndexError(_VALID.format(type(item).__name__))


def _classify(item):
    """('int', i) | ('slice', s) | ('none',) | ('ellipsis',) | ('bool', b) | ('array', a)."""
    if item is None:
        return ("none",)
    if item is Ellipsis:
        return ("ellipsis",)
    if isinstance(item, (bool, np.bool_)):
        return ("bool", bool(item))
    if isinstance(item, (numbers.Integral, np.integer)):
        return ("int", int(item))
    if isinstance(item, slice):
        start, stop, step = (None if v is None else operator.index(v)
                             for v in (item.start, item.stop, item.step))
        if step is not None and step == 0:
            raise ValueError("slice step cannot be zero")
        if step is not None and step < 0:
            raise ValueError("step must be greater than zero")
        return ("slice", slice(start, stop, step))
    array = _index_array(item)
    if array is None:
        raise IndexError(_VALID.format(type(item).__name__))
    if array.ndim == 0:  # 0-d tensors act as Python scalars
        return ("bool", bool(array)) if array.dtype == bool else ("int", int(array))
    return ("array", array)


def _sequence_as_tuple(key):
    """PyTorch's (and old numpy's) legacy rule: a list of fewer than 32 items holding a
    sequence, tensor, slice, ``...`` or None is read as a tuple (``x[[[0, 1]]]`` is
    ``x[[0, 1]]``, ``x[[0, slice(None)]]`` is ``x[0, :]``)."""
    return type(key) is list and len(key) < 32 and any(
        isinstance(item, (Tensor, list, tuple, range, np.ndarray, slice)) or item is None
        or item is Ellipsis for item in key)


def parse_key(shape, key, xp=np):
    """Turn a user index into an IndexKey for a tensor of ``shape``, raising PyTorch's
    errors (out-of-range, too many indices, mask shape mismatch)."""
    if _sequence_as_tuple(key):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; "
                      "use x[tuple(seq)] instead of x[seq].", UserWarning, stacklevel=3)
        key = tuple(key)
    items = key if isinstance(key, tuple) else (key,)
    parsed = [_classify(item) for item in items]
    consumed = sum(1 if p[0] in ("int", "slice") else 0 if p[0] != "array" else
                   p[1].ndim if p[1].dtype == bool else 1 for p in parsed)
    ndim = len(shape)
    if consumed > ndim:
        if ndim == 0 and parsed[0][0] == "int":
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    basic, adv_positions = [], []   # adv_positions: (position in basic result, index array)
    dim = out_dim = 0               # next dim of the input / of the basic result
    out_shape = []                  # shape of the basic result so far
    seen_ellipsis = False
    for position, p in enumerate(parsed):
        kind = p[0]
        if kind == "ellipsis":
            count = 0 if seen_ellipsis else ndim - consumed
            seen_ellipsis = True
            basic.extend([slice(None)] * count)
            out_shape.extend(shape[dim:dim + count])
            dim, out_dim = dim + count, out_dim + count
        elif kind == "none" or kind == "bool":
            basic.append(None)
            out_shape.append(1)
            if kind == "bool":
                adv_positions.append((out_dim, np.zeros(1 if p[1] else 0, np.int64)))
            out_dim += 1
        elif kind == "int":
            size = shape[dim]
            if not -size <= p[1] < size:
                raise IndexError(f"index {p[1]} is out of bounds for dimension {position} with "
                                 f"size {size}")
            basic.append(p[1])
            dim += 1
        elif kind == "slice":
            basic.append(p[1])
            out_shape.append(len(range(*p[1].indices(shape[dim]))))
            dim, out_dim = dim + 1, out_dim + 1
        else:
            array = p[1]
            k = array.ndim
            if array.dtype == bool:
                indexed = tuple(shape[dim:dim + k])
                if array.shape != indexed:
                    full = out_shape + list(shape[dim:])
                    j = next(i for i, (a, b) in enumerate(zip(array.shape, indexed)) if a != b)
                    raise IndexError(f"The shape of the mask {list(array.shape)} at index {j} does "
                                     f"not match the shape of the indexed tensor {full} at index "
                                     f"{out_dim + j}")
                arrays = np.nonzero(array)
            else:
                k, arrays = 1, (array,)
            for i, a in enumerate(arrays):
                adv_positions.append((out_dim + i, a))
            basic.extend([slice(None)] * k)
            out_shape.extend(shape[dim:dim + k])
            dim, out_dim = dim + k, out_dim + k

    basic = tuple(basic) + (Ellipsis,)
    if all(b == slice(None) for b in basic[:-1]):
        basic = ()
    if not adv_positions:
        return IndexKey(basic)
    full = out_shape + list(shape[dim:])
    for ordinal, (pos, a) in enumerate(adv_positions):
        _check_bounds(a, full[pos], ordinal)
    try:
        np.broadcast_shapes(*[a.shape for _, a in adv_positions])
    except ValueError:
        shapes = ", ".join(str(list(a.shape)) for _, a in adv_positions)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with "
                         f"shapes {shapes}") from None
    advanced = [slice(None)] * (adv_positions[-1][0] + 1)
    for pos, a in adv_positions:
        advanced[pos] = xp.asarray(a)
    return IndexKey(basic, tuple(advanced))


def _check_bounds(array, size, dim):
    if array.size == 0:
        return
    if size == 0:
        raise IndexError("index is out of bounds for dimension with size 0")
    bad = array[(array >= size) | (array < -size)]
    if bad.size:
        raise IndexError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with size {size}")


# ---------------------------------------------------------------------- Functions
class Index(Function):
    """y = x[key];  dx = scatter_add(zeros(x.shape), key, dy)  (repeated indices accumulate).
    Shapes: x (s) → y (key.result_shape(s)); a basic key gives a view of x."""

    def forward(self, x, key):
        self.key, self.input_shape = key, x.shape
        return key.take(x.array, x.xp)

    def backward(self, dy):
        return IndexAccumulate.apply(dy, self.key, self.input_shape)


class IndexAccumulate(Function):
    """z = zeros(shape); z[key] += v (each read position receives the sum of the values
    aimed at it) — the adjoint of Index;  dv = dz[key]."""

    def forward(self, v, key, shape):
        self.key = key
        return key.scatter_add(v.array, shape, v.xp)

    def backward(self, dz):
        return Index.apply(dz, self.key)


class IndexPut(Function):
    """z = x with z[key] = v (v broadcast to the indexed shape);
    dx = dz with dz[key] set to 0,  dv = sum_to(dz[key], v.shape)."""
    overlap_checked_by_caller = True  # setitem checks the written region against the value

    def forward(self, x, v, key):
        self.key, self.value_shape = key, v.shape
        out = x.xp.array(x.array, copy=True)  # an array even when x.array is a NumPy scalar
        key.put(out, v.array)
        return out

    def backward(self, dz):
        dx = dv = None
        if self.needs_input_grad[0]:
            zero = Tensor._wrap(dz.xp.zeros((), dtype=dz.dtype))
            dx = IndexPut.apply(dz, zero, self.key)
        if self.needs_input_grad[1]:
            dv = sum_to(Index.apply(dz, self.key), self.value_shape)
        return dx, dv


class EmbeddingLookup(Function):
    """y = W[ids] (rows of W picked by an integer array).   W (V, D), ids (*) → (*, D).
    VJP: dW = scatter_add(zeros(V, D), ids, dy) with dy zeroed where ids = padding_idx,
    one ``kernels.embedding_backward`` call; with ``create_graph`` the scatter-add is
    ``IndexAccumulate`` instead, whose own VJP is the lookup again."""

    def forward(self, weight, ids, padding_idx):
        self.ids, self.padding_idx, self.weight_shape = ids, padding_idx, weight.shape
        return weight.array[ids.array]

    def backward(self, dy):
        if not is_grad_enabled():
            return Tensor._wrap(kernels.embedding_backward(
                dy.array, self.ids.array, self.weight_shape[0], self.padding_idx)), None
        # create_graph: the same scatter in Tensor ops, so it can be differentiated again.
        if self.padding_idx is not None:
            padding = Tensor._wrap((self.ids.array == self.padding_idx)[..., None])
            dy = masked_fill(dy, padding, 0.0)
        return IndexAccumulate.apply(dy, IndexKey((), (self.ids.array,)), self.weight_shape), None


def index_with_key(input, key):
    """Apply a parsed IndexKey; basic keys give a view sharing input's version counter."""
    out = Index.apply(input, key)
    return _mark_view(out, input) if key.advanced is None else out


# ---------------------------------------------------------------------- t[key], t[key] = v
def getitem(self, key):
    return index_with_key(self, parse_key(self.shape, key, self.xp))


def setitem(self, key, value):
    """t[key] = value, recorded as IndexPut through the core's in-place machinery."""
    check_no_internal_overlap(self)
    index_key = parse_key(self.shape, key, self.xp)
    target = tuple(index_key.result_shape(self.shape))
    if isinstance(value, Tensor):
        check_same_device([self, value] if value.ndim else [self], "index_put_")
        if value.dtype != self.dtype:
            if index_key.advanced is not None and value.ndim:
                raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                                   f"got {self.dtype} for the destination and {value.dtype} for "
                                   f"the source.")
            value = value.to(self.dtype)
        if value.device != self.device:
            value = value.to(self.device)
        lead = 0
        while value.ndim - lead > len(target) and value.shape[lead] == 1:
            lead += 1
        if lead:
            value = reshape(value, tuple(value.shape[lead:]))
        try:
            fits = broadcast_shapes(value.shape, target) == target
        except RuntimeError:
            fits = False
        if not fits:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot "
                               f"be broadcast to indexing result of shape {list(target)}")
    elif isinstance(value, (numbers.Number, np.bool_, np.number)):
        dtypes.check_representable(value, self.dtype)  # NaN/inf/out of range: raise, unchanged
        value = Tensor._wrap(self.xp.asarray(value).astype(self.dtype))
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a Tensor of shape "
                        f"{list(self.shape)}")
    if index_key.advanced is None:  # a basic key writes into a view: refuse partial overlap
        check_no_partial_overlap(Tensor._wrap(index_key.view(self.array)), [value])
    record = is_grad_enabled() and (self.requires_grad or value.requires_grad)
    if not record:
        index_key.put(self.array, value.array)
        self._version_counter.value += 1
        return
    if self.grad_fn is None and self.requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    IndexPut.apply_inplace(self, value, index_key)



# ---------------------------------------------------------------------- named ops
def _int_index(index, name, message):
    if not isinstance(index, Tensor) or index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"{name}(): Expected dtype {message} for index")
    return to_host(index.array).astype(np.int64, copy=False)


def gather(input, dim, index, sparse_grad=False):
    """out[i][j][k] = input[index[i][j][k]][j][k] (for dim=0); index has input's rank and is
    no larger than input apart from ``dim``.  Gradient: scatter-add back along ``dim``."""
    idx = _int_index(index, "gather", "int32/int64")
    dim = _normalize_dim(dim, input.ndim)
    if max(idx.ndim, 1) != max(input.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if input.ndim == 0:
        return reshape(gather(reshape(input, (1,)), 0, Tensor._wrap(idx.reshape(1))), ())
    if idx.ndim == 0:
        idx = idx.reshape(1)
    for d in range(input.ndim):
        if d != dim and idx.shape[d] > input.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(input.shape)} "
                               f"apart from dimension {dim}")
    size = input.shape[dim]
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with size {size}")
    return Index.apply(input, along_dim_key(input.xp, idx, dim))


def along_dim_key(xp, idx, dim):
    """The IndexKey of ``gather``/``scatter`` along ``dim``: position p of an index array
    ``idx`` (host int64, one dim per dim of the indexed tensor) addresses
    ``[p_0, …, idx[p], …, p_{n-1}]`` (idx[p] in place of p_dim)."""
    key = []
    for d in range(idx.ndim):
        if d == dim:
            key.append(xp.asarray(idx))
        else:
            shape = [1] * idx.ndim
            shape[d] = idx.shape[d]
            key.append(xp.arange(idx.shape[d]).reshape(shape))
    return IndexKey((), tuple(key))


def index_select(input, dim, index):
    """The entries of input at positions ``index`` (a vector) along ``dim``."""
    idx = _int_index(index, "index_select", "int32 or int64")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = _normalize_dim(dim, input.ndim)
    idx = idx.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if input.ndim == 0:
        return reshape(index_select(reshape(input, (1,)), 0, Tensor._wrap(idx)), ())
    key = (slice(None),) * dim + (input.xp.asarray(idx),)
    return Index.apply(input, IndexKey((), key))


def take_along_dim(input, indices, dim=None):
    """gather after broadcasting input and indices against each other except along ``dim``;
    with dim=None both are flattened first."""
    if not isinstance(indices, Tensor) or indices.dtype != dtypes.int64:
        got = (dtypes.c_type_name(indices.dtype) if isinstance(indices, Tensor) else "non-tensor").capitalize()
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {got}")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {input.ndim} dimensions for input, and "
                           f"{indices.ndim} dimensions for indices")
    dim = _normalize_dim(dim, input.ndim)
    shape_in, shape_idx = list(input.shape), list(indices.shape)
    shape_in[dim] = shape_idx[dim] = 1
    common = list(broadcast_shapes(shape_in, shape_idx))
    input = broadcast_to(input, common[:dim] + [input.shape[dim]] + common[dim + 1:])
    indices = Tensor._wrap(input.xp.broadcast_to(
        indices.array, tuple(common[:dim] + [indices.shape[dim]] + common[dim + 1:])))
    return gather(input, dim, indices)
