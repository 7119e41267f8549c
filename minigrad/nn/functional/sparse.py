"""Lookups by integer id: ``F.embedding``, ``F.embedding_bag`` and ``F.one_hot``.

embedding   y[…, :] = W[ids[…], :]          ids (*) int, W (V, D) → y (*, D)
            dW[v] = Σ_{positions p with ids[p] = v} dy[p]   (a scatter-add: repeated ids
            accumulate), except that the row ``padding_idx`` receives no gradient.
one_hot     y[…, c] = [t[…] = c]            t (*) int64 → y (*, C) int64,
            built by comparing t against arange(C) (never by indexing an identity matrix).
embedding_bag  y[b] = reduce_{p ∈ bag b} w_p W[ids[p]]   (sum, mean or max per dim) with
            bags given by ``offsets`` into 1-D ids, or the rows of 2-D ids; the bags are
            laid out as a padded (B, longest) table of ids plus a mask, so it is one lookup
            and one masked reduction (empty bags and ``padding_idx`` entries give 0 and are
            not counted in the mean).  Gradients: scatter-add through the lookup, the
            reduction's VJP (max: to the maximising entries), and Σ_d dy W for the
            per-sample weights.
"""
import numbers

import numpy as np

from ... import creation, dtypes
from ...tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...device import to_host
from ...ops import pointwise
from ...ops.indexing import EmbeddingLookup, Index, IndexKey
from ...ops.joining import cat
from ...ops.operands import check_tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]


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


def _bags(input, offsets, include_last_offset):
    """(flat ids as an xp array, bag starts, bag lengths) — the last two host int arrays."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        bags, length = input.shape
        return (input.array.reshape(-1), np.arange(bags) * length,
                np.full(bags, length, dtype=np.int64))
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None or not isinstance(offsets, Tensor) or offsets.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor but got "
                         f"{None if offsets is None else offsets.ndim}")
    if offsets.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"Expected tensor for argument 'offsets' to have one of the "
                           f"following scalar types: Long, Int; but got {offsets.dtype} instead")
    marks = np.asarray(to_host(offsets.array), dtype=np.int64)
    total = input.shape[0]
    if marks.size and marks[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {int(marks[0])}")
    if include_last_offset:
        if marks.size == 0:
            raise RuntimeError("include_last_offset: number of offsets should be at least 1")
        starts, ends = marks[:-1], marks[1:]
    else:
        starts, ends = marks, np.append(marks[1:], total)
    if (ends < starts).any() or (ends > total).any():
        raise RuntimeError(f"offsets must be non-decreasing and at most the number of indices "
                           f"{total}, got {marks.tolist()}")
    return input.array, starts, ends - starts


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materialising the per-id
    lookups of a Python loop: ``input`` (B, N) (one bag per row) or 1-D with ``offsets``
    (bag b is input[offsets[b]:offsets[b+1]]) → (B, D)."""
    check_tensor(input, "embedding_bag")
    check_tensor(weight, "embedding_bag", "weight")
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           f"(while checking arguments for embedding_bag)")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, but got weight of size {list(weight.shape)}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request on "
                                      f"GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}"
                             f") is not None, then it must have the same shape as the input "
                             f"({list(input.shape)})")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq and sparse gradients are "
                                  "not supported by minigrad")
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within the number of embeddings")
        padding_idx = padding_idx % num
    ids, starts, lengths = _bags(input, offsets, include_last_offset)
    host_ids = np.asarray(to_host(ids), dtype=np.int64)
    bad = np.flatnonzero((host_ids < 0) | (host_ids >= num))
    if bad.size:
        raise RuntimeError(f"Index {int(bad[0])} of input takes value {int(host_ids[bad[0]])} "
                           f"which is not in the valid range [0, {num})")
    if max_norm is not None and host_ids.size:
        _renorm_rows(weight, Tensor._wrap(ids), max_norm, norm_type)
    xp, bags = weight.xp, len(starts)
    longest = max(int(lengths.max()) if bags else 0, 1)
    slot = np.arange(longest)
    positions = np.minimum(starts[:, None] + slot[None, :], max(host_ids.size - 1, 0))
    valid = slot[None, :] < lengths[:, None]
    table = host_ids[positions] if host_ids.size else np.zeros(positions.shape, np.int64)
    if padding_idx is not None:
        valid &= table != padding_idx
    rows = EmbeddingLookup.apply(weight, Tensor._wrap(xp.asarray(table)), None)   # (B, L, D)
    if per_sample_weights is not None:
        # one extra 0 at the end is what the unused slots of the table read
        flat = cat([per_sample_weights.reshape(-1),
                    creation.zeros((1,), dtype=per_sample_weights.dtype,
                                   device=per_sample_weights.device)])
        slots = np.where(slot[None, :] < lengths[:, None], starts[:, None] + slot[None, :],
                         host_ids.size)
        rows = rows * Index.apply(flat, IndexKey((), (xp.asarray(slots),))).unsqueeze(-1)
    mask = Tensor._wrap(xp.asarray(valid[:, :, None]))
    counts = valid.sum(1)
    if mode == "max":
        out = pointwise.where(mask, rows, float("-inf")).amax(1)
        return pointwise.where(Tensor._wrap(xp.asarray(counts[:, None] > 0)), out, 0.0)
    out = pointwise.where(mask, rows, 0.0).sum(1)
    if mode == "mean":
        out = out / Tensor._wrap(xp.asarray(np.maximum(counts, 1)[:, None], dtype=weight.dtype))
    return out
