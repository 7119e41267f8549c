"""Sparse COO tensors: ``sparse_coo_tensor``, ``Tensor.to_sparse`` and sparse @ dense.

A COO tensor of ``size`` (s_0, …, s_{d−1}, *dense) stores ``indices`` (d, nnz) int64 and
``values`` (nnz, *dense): entry k is ``values[k]`` at position ``indices[:, k]``; entries
at the same position add up (a *coalesced* tensor has sorted, unique positions).

    to_dense    D[p] = Σ_{k : indices[:, k] = p} values[k]      (a scatter-add of rows)
    coalesce    unique positions, sorted row-major; values of repeated positions summed
    mm          (S @ B)[i] = Σ_{k : row_k = i} values[k] · B[col_k]       S (n, m), B (m, p)
    add         dense ± S = dense ± to_dense(S);  S + S′ = the entries of both

Everything is a Tensor expression of ``values`` (and of the dense operand), built from
one Function, ``IndexAddRows``, plus ``index_select``, so gradients reach both: dB is
Sᵀ·dC (the scatter-add backward of the gather B[col]) and d values[k] = ⟨dC[row_k],
B[col_k]⟩. A sparse tensor made with ``requires_grad=True`` holds its values as a leaf;
its ``.grad`` is the sparse tensor of those values' gradients (the sparsity of S, as
``torch.sparse.mm``'s gradient).

PyTorch's one exception, kept: a sparse tensor made by ``x.to_sparse()`` from an ``x``
requiring grad, multiplied with ``mm``/``matmul``/``@``, sends x the *dense* gradient
dC·Bᵀ (zeros of x included: ``to_sparse`` is the identity function of x), while
``minigrad.sparse.mm``, ``to_dense`` and ``values`` give the masked one. Such a product is
computed as the dense x @ B (the same value).

A sparse tensor made with ``requires_grad=True`` (a sparse leaf) gets the gradient of its
stored values; PyTorch gives such a leaf the dense gradient under ``mm``/``@``/``add``.

``SparseCOOTensor`` is not a ``Tensor`` subclass: dense ops refuse it with a TypeError
rather than reading its storage as if it were dense.
"""
import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Size, Tensor
from .indexing import index_select
from .joining import cat

__all__ = ["sparse_coo_tensor", "sparse_coo", "strided"]   # Tensor.to_sparse: tensor_methods


class Layout:
    """A tensor's memory layout (``minigrad.strided``, ``minigrad.sparse_coo``)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"minigrad.{self.name}"


strided = Layout("strided")
sparse_coo = Layout("sparse_coo")


class IndexAddRows(Function):
    """out = zeros(n, *rest);  out[index[k]] += src[k]   src (K, *rest), index (K,) int64.

    backward: d src = d out[index]   (a gather of rows)."""

    def forward(self, src, index, n):
        self.index = index
        xp = src.xp
        out = xp.zeros((n,) + src.array.shape[1:], dtype=src.dtype)
        xp.add.at(out, index, src.array)
        return out

    def backward(self, dout):
        return index_select(dout, 0, Tensor._wrap(self.index))


def _index_add_rows(src, index, n):
    return IndexAddRows.apply(src, src.xp.asarray(index), int(n))


class SparseCOOTensor:
    """A sparse COO tensor (see the module docstring); ``is_sparse`` is True and
    ``layout`` is ``minigrad.sparse_coo``."""

    is_sparse = True
    layout = sparse_coo

    def __init__(self, indices, values, size, coalesced=False, source=None):
        self._indices_array = indices          # host int64 (sparse_dim, nnz)
        self._values = values                  # Tensor (nnz, *dense)
        self._size = Size(size)
        self._coalesced = coalesced
        self._source = source                  # the dense tensor of to_sparse, or None

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return self._size

    def size(self, dim=None):
        return self._size if dim is None else self._size[dim]

    def dim(self):
        return len(self._size)

    @property
    def ndim(self):
        return len(self._size)

    def sparse_dim(self):
        return self._indices_array.shape[0]

    def dense_dim(self):
        return len(self._size) - self.sparse_dim()

    def _nnz(self):
        return self._indices_array.shape[1]

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def device(self):
        return self._values.device

    @property
    def is_cuda(self):
        return self._values.is_cuda

    @property
    def requires_grad(self):
        return self._values.requires_grad

    @property
    def grad_fn(self):
        return self._values.grad_fn

    @property
    def is_leaf(self):
        return self._values.grad_fn is None

    @property
    def grad(self):
        g = self._values.grad
        return None if g is None else SparseCOOTensor(self._indices_array, g, self._size,
                                                      self._coalesced)

    def requires_grad_(self, requires_grad=True):
        self._values.requires_grad_(requires_grad)
        return self

    def is_coalesced(self):
        return self._coalesced

    def numel(self):
        return int(np.prod(self._size, dtype=np.int64))

    def _indices(self):
        return Tensor._wrap(self._values.xp.asarray(self._indices_array))

    def _values_(self):
        return self._values

    def indices(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._values

    # ------------------------------------------------------------------ conversions
    def _flat_positions(self):
        return np.ravel_multi_index(tuple(self._indices_array),
                                    tuple(self._size[:self.sparse_dim()]))

    def coalesce(self):
        """Unique positions, sorted row-major, repeated entries summed."""
        if self._coalesced:
            return self
        flat = self._flat_positions()
        unique, inverse = np.unique(flat, return_inverse=True)
        values = _index_add_rows(self._values, inverse.reshape(-1), unique.size)
        indices = np.stack(np.unravel_index(unique, tuple(self._size[:self.sparse_dim()])))
        return SparseCOOTensor(indices.astype(np.int64).reshape(self.sparse_dim(), -1),
                               values, self._size, coalesced=True)

    def to_dense(self, dtype=None, *, masked_grad=True):
        sparse_shape = tuple(self._size[:self.sparse_dim()])
        n = int(np.prod(sparse_shape, dtype=np.int64))
        dense = _index_add_rows(self._values, self._flat_positions(), n)
        dense = dense.reshape(tuple(self._size))
        return dense if dtype is None else dense.to(dtype)

    def to_sparse(self, sparse_dim=None):
        return self

    def detach(self):
        return SparseCOOTensor(self._indices_array, self._values.detach(), self._size,
                               self._coalesced)

    def to(self, *args, **kwargs):
        return SparseCOOTensor(self._indices_array, self._values.to(*args, **kwargs),
                               self._size, self._coalesced)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return SparseCOOTensor(self._indices_array, self._values.cuda(device), self._size,
                               self._coalesced)

    def double(self):
        return self.to(dtypes.float64)

    def float(self):
        return self.to(dtypes.float32)

    def t(self):
        if self.sparse_dim() != 2 or self.dense_dim() != 0:
            raise RuntimeError(f"t() expects a 2-D sparse tensor with no dense dimensions, "
                               f"got size {tuple(self._size)}")
        return SparseCOOTensor(self._indices_array[::-1].copy(), self._values,
                               (self._size[1], self._size[0]),
                               source=None if self._source is None else self._source.t())

    # ------------------------------------------------------------------ sums
    def __add__(self, other):
        """sparse + sparse (same size) is sparse: the entries of both (coalesced when both
        are); sparse + dense is refused as in PyTorch (write dense + sparse)."""
        if not isinstance(other, SparseCOOTensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        if tuple(other.shape) != tuple(self.shape):
            raise RuntimeError(f"add: expected sizes to match, got {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        if other.sparse_dim() != self.sparse_dim():
            raise RuntimeError("add: expected both sparse tensors to have the same sparse_dim")
        total = SparseCOOTensor(np.concatenate([self._indices_array, other._indices_array], 1),
                                cat([self._values, other._values.to(self.dtype)], 0),
                                self._size)
        return total.coalesce() if self._coalesced and other._coalesced else total

    # ------------------------------------------------------------------ products
    def mm(self, mat2):
        return sparse_mm(self, mat2)

    def matmul(self, other):
        return sparse_mm(self, other)

    def __matmul__(self, other):
        return sparse_mm(self, other)

    def __rmatmul__(self, other):
        return dense_sparse_mm(other, self)

    def __repr__(self):
        extras = f", grad_fn=<{self.grad_fn.name()}>" if self.grad_fn is not None else (
            ", requires_grad=True" if self.requires_grad else "")
        return (f"tensor(indices={self._indices()!r},\n       values={self._values.detach()!r},"
                f"\n       size={tuple(self._size)}, nnz={self._nnz()}, "
                f"layout=minigrad.sparse_coo{extras})")


def _check_dense(tensor, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"sparse mm: {name} must be a dense Tensor, got "
                        f"{type(tensor).__name__}")


def sparse_mm(sparse, dense, masked=False):
    """S @ B for S sparse (n, m) (two sparse dims) and B dense (m, p) → dense (n, p);
    ``masked`` (``minigrad.sparse.mm``): S's gradient keeps its sparsity even for a
    ``to_sparse`` tensor (see the module docstring)."""
    _check_dense(dense, "mat2")
    if sparse.sparse_dim() != 2 or sparse.dense_dim() != 0 or dense.ndim != 2:
        raise RuntimeError(f"sparse mm: expected a 2-D sparse matrix and a 2-D dense matrix, "
                           f"got sizes {tuple(sparse.shape)} and {tuple(dense.shape)}")
    if sparse.shape[1] != dense.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sparse.shape[0]}x"
                           f"{sparse.shape[1]} and {dense.shape[0]}x{dense.shape[1]})")
    if sparse.dtype != dense.dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: "
                           f"{sparse.dtype} != {dense.dtype}")
    source = sparse._source
    if not masked and source is not None and source.requires_grad and is_grad_enabled():
        return source @ dense
    rows, cols = sparse._indices_array
    gathered = index_select(dense, 0, Tensor._wrap(dense.xp.asarray(cols)))
    products = gathered * sparse._values.unsqueeze(1)
    return _index_add_rows(products, rows, sparse.shape[0])


def dense_sparse_mm(dense, sparse, masked=False):
    """B @ S = (Sᵀ Bᵀ)ᵀ for B dense (p, n) and S sparse (n, m)."""
    _check_dense(dense, "mat1")
    if dense.ndim != 2:
        raise RuntimeError(f"sparse mm: expected a 2-D dense matrix, got size "
                           f"{tuple(dense.shape)}")
    return sparse_mm(sparse.t(), dense.t(), masked).t()


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with entries ``values`` (nnz, *dense) at ``indices`` (d, nnz);
    ``size`` defaults to (max index + 1 per sparse dim, *dense). ``values`` keeps its graph
    (gradients flow to it); ``requires_grad=True`` makes the values a new leaf."""
    index_array = np.asarray(indices.tolist() if isinstance(indices, Tensor) else indices)
    if index_array.size == 0:
        index_array = index_array.astype(np.int64)
        index_array = index_array.reshape(index_array.shape[0] if index_array.ndim == 2 else 0,
                                          0)
    if index_array.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: "
                           f"{list(index_array.shape)}")
    if index_array.dtype.kind not in "iu":
        raise RuntimeError(f"indices must be an int64 tensor, got {index_array.dtype}")
    index_array = index_array.astype(np.int64)
    if not isinstance(values, Tensor):
        values = Tensor._wrap(np.asarray(values, dtype=dtypes.as_dtype(dtype) or (
            dtypes.get_default_dtype() if np.asarray(values).dtype.kind in "fV" else None)))
    if dtype is not None or device is not None:
        values = values.to(device=device, dtype=dtype)
    if values.ndim == 0 or values.shape[0] != index_array.shape[1]:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{index_array.shape[1]}, nnz from values: "
                           f"{values.shape[0] if values.ndim else 0}")
    sparse_dim = index_array.shape[0]
    if size is None:
        sparse_size = tuple(int(m) + 1 for m in index_array.max(axis=1)) \
            if index_array.shape[1] else (0,) * sparse_dim
        size = sparse_size + tuple(values.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + values.ndim - 1:
        raise RuntimeError(f"number of dimensions must be sparse_dim ({sparse_dim}) + "
                           f"dense_dim ({values.ndim - 1}), but got {len(size)}")
    if tuple(size[sparse_dim:]) != tuple(values.shape[1:]):
        raise RuntimeError(f"values has incorrect size, expected {list(size[sparse_dim:])}, "
                           f"got {list(values.shape[1:])}")
    for d in range(sparse_dim):
        if index_array.shape[1] and (index_array[d].min() < 0
                                     or index_array[d].max() >= size[d]):
            bad = index_array[d].max() if index_array[d].max() >= size[d] else index_array[d].min()
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {bad}")
    if requires_grad:
        values = values.detach().clone().requires_grad_(True)
    return SparseCOOTensor(index_array, values, size, coalesced=bool(is_coalesced))


def to_sparse(self, sparse_dim=None, *, layout=None):
    """``Tensor.to_sparse``: the nonzero entries of a dense tensor as a coalesced COO
    tensor (over the first ``sparse_dim`` dims; a slice counts if any element is nonzero).
    The values are gathered from ``self``, so gradients flow back to it."""
    if layout not in (None, sparse_coo):
        raise RuntimeError(f"to_sparse: only layout=minigrad.sparse_coo is supported, got "
                           f"{layout}")
    sparse_dim = self.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < sparse_dim <= self.ndim:
        raise RuntimeError(f"sparse_dim must be in [1, {self.ndim}], got {sparse_dim}")
    array = self.array if self.device.type == "cpu" else self.array.get()
    mask = array != 0
    if sparse_dim < self.ndim:
        mask = mask.any(axis=tuple(range(sparse_dim, self.ndim)))
    positions = np.nonzero(mask)
    indices = np.stack(positions).astype(np.int64).reshape(sparse_dim, -1)
    values = self[tuple(Tensor._wrap(self.xp.asarray(p)) for p in positions)]
    return SparseCOOTensor(indices, values, tuple(self.shape), coalesced=True,
                           source=self if sparse_dim == self.ndim else None)
