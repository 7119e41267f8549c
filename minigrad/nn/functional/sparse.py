"""Lookups by integer id: ``F.embedding`` and ``F.one_hot``.

embedding   y[…, :] = W[ids[…], :]          ids (*) int, W (V, D) → y (*, D)
            dW[v] = Σ_{positions p with ids[p] = v} dy[p]   (a scatter-add: repeated ids
            accumulate), except that the row ``padding_idx`` receives no gradient.
one_hot     y[…, c] = [t[…] = c]            t (*) int64 → y (*, C) int64,
            built by comparing t against arange(C) (never by indexing an identity matrix).
"""
import numbers

from ... import dtypes
from ...tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.indexing import EmbeddingLookup
from ...ops.operands import check_tensor

__all__ = ["embedding", "one_hot"]


def _renorm_rows(weight, ids, max_norm, norm_type):
    """PyTorch's ``embedding_renorm_``: rows referenced by ``ids`` whose ``norm_type``-norm
    exceeds ``max_norm`` are scaled in place to norm max_norm (no gradient)."""
    xp = weight.xp
    rows = xp.unique(ids.array.reshape(-1))
    with no_grad():
        picked = weight.array[rows]
        norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
        weight.array[rows] = picked * scale[:, None]
        weight._version_counter.value += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (V, D) at the integer ids ``input`` (*) → (*, D).

    ``padding_idx`` (may be negative): that row gets no gradient.  ``max_norm``: referenced
    rows are first renormalised in place to at most this norm."""
    check_tensor(input, "embedding")
    check_tensor(weight, "embedding", "weight")
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           f"(while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, but got weight of size {list(weight.shape)}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not "
                                  "supported by minigrad")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    if input.numel():
        low, high = int(input.array.min()), int(input.array.max())
        if low < 0 or high >= num:
            bad = low if low < 0 else high
            raise IndexError(f"index out of range in self (id {bad} for an embedding of "
                             f"{num} rows)")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return EmbeddingLookup.apply(weight, input, padding_idx)


def one_hot(tensor, num_classes=-1):
    """(*) int64 class ids → (*, num_classes) int64 with a single 1 per row;
    ``num_classes=-1`` uses max(tensor) + 1."""
    if not isinstance(tensor, Tensor) or tensor.dtype != dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not "
                        f"{type(num_classes).__name__}")
    xp = tensor.xp
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if int(tensor.array.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        largest = int(tensor.array.max())
        if num_classes == -1:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    if num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes should be -1 or non-negative, got {num_classes}")
    classes = xp.arange(num_classes, dtype=dtypes.int64)
    return Tensor._wrap((tensor.array[..., None] == classes).astype(dtypes.int64))
