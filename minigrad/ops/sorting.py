"""Sorting and selecting by order: sort, argsort, msort, topk, kthvalue, unique.

Each differentiable one first finds positions on the raw array (a stable ``argsort``) and
then *reads* the values at those positions with ``indexing.Index`` (the gather key along
``dim``), so the values equal the input's entries exactly and the VJP is the one of a read:

    dx = scatter_add(zeros(x.shape), dim, indices, dvalues)

(a permutation for sort; k positions per row for topk; one for kthvalue). The int64
indices are not differentiable. NaN counts as larger than every number, as in PyTorch:
last in an ascending sort, first in a descending one, and picked first by topk.
"""
import operator
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..device import move_array, to_host
from ..tensor import Tensor, _normalize_dim
from .indexing import Index, along_dim_key
from .operands import check_tensor
from .shape import reshape

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique"]

# PyTorch's ``torch.return_types.sort`` / ``.topk`` / ``.kthvalue``.
return_types = {name: namedtuple(name, ["values", "indices"])
                for name in ("sort", "topk", "kthvalue")}


def _order(array, axis, descending, xp):
    """Positions that sort ``array`` along ``axis``, stably (equal elements keep their
    order in both directions). Descending = the ascending order of the reversed array,
    reversed again, so NaN (last ascending) comes first and ties stay in input order."""
    if not descending:
        return xp.argsort(array, axis=axis, kind="stable")
    n = array.shape[axis]
    backwards = xp.argsort(xp.flip(array, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(backwards, axis)


def _read(input, dim, positions):
    """input's values at ``positions`` along ``dim`` (differentiable: the gather read)."""
    key = along_dim_key(input.xp, to_host(positions).astype(np.int64, copy=False), dim)
    return Index.apply(input, key)


def _as_rows(input, dim, op):
    """(tensor of rank ≥ 1, dim) for a sort along ``dim``; 0-d tensors act as 1-element
    vectors. Returns also whether the input was 0-d."""
    check_tensor(input, op)
    dim = _normalize_dim(operator.index(dim), input.ndim)
    if input.ndim == 0:
        return reshape(input, (1,)), 0, True
    return input, dim, False


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)``: input sorted along ``dim`` (ascending unless ``descending``),
    and the positions the values came from. The sort is always stable here."""
    rows, axis, scalar = _as_rows(input, dim, "sort")
    positions = _order(rows.array, axis, bool(descending), rows.xp)
    values = _read(rows, axis, positions)
    indices = Tensor._wrap(positions.astype(dtypes.int64, copy=False))
    if scalar:
        values, indices = reshape(values, ()), reshape(indices, ())
    return return_types["sort"](values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    """The ``indices`` of ``sort``."""
    return sort(input, dim, descending, stable).indices


def msort(input):
    """input sorted along dim 0 (the values of ``sort(input, 0)``)."""
    return sort(input, 0).values


def _narrow_positions(positions, axis, start, count):
    cut = [slice(None)] * positions.ndim
    cut[axis] = slice(start, start + count)
    return positions[tuple(cut)]


def topk(input, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the k largest (or smallest) entries along ``dim``, in sorted
    order (``sorted=False`` allows any order; this gives the sorted one)."""
    rows, axis, scalar = _as_rows(input, dim, "topk")
    if input.dtype.kind == "b":
        raise RuntimeError(f"topk does not support bool dtypes (input of shape "
                           f"{list(input.shape)})")
    k = operator.index(k)
    if not 0 <= k <= rows.shape[axis]:
        raise RuntimeError(f"selected index k out of range (k = {k}, size {rows.shape[axis]} "
                           f"along dim {axis})")
    positions = _narrow_positions(_order(rows.array, axis, bool(largest), rows.xp), axis, 0, k)
    values = _read(rows, axis, positions)
    indices = Tensor._wrap(positions.astype(dtypes.int64, copy=False))
    if scalar:
        values, indices = reshape(values, ()), reshape(indices, ())
    return return_types["topk"](values, indices)


def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)`` of the k-th smallest entry (k counts from 1) along ``dim``."""
    rows, axis, scalar = _as_rows(input, dim, "kthvalue")
    k = operator.index(k)
    if not 1 <= k <= rows.shape[axis]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    positions = _narrow_positions(_order(rows.array, axis, False, rows.xp), axis, k - 1, 1)
    values = _read(rows, axis, positions)
    indices = Tensor._wrap(positions.astype(dtypes.int64, copy=False))
    if scalar or not keepdim:
        shape = () if scalar else tuple(values.shape[:axis]) + tuple(values.shape[axis + 1:])
        values, indices = reshape(values, shape), reshape(indices, shape)
    return return_types["kthvalue"](values, indices)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of input (or distinct slices along ``dim``), in ascending
    order; optionally the inverse (where each element of input went, input's shape, or one
    per slice) and the counts. Not differentiable (PyTorch has no derivative either)."""
    check_tensor(input, "unique")
    array = to_host(input.array)
    if dim is None:
        values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(array.shape)
    else:
        axis = _normalize_dim(dim, input.ndim)
        if array.shape[axis] == 0 and array.size == 0:
            values = array
            inverse = counts = np.zeros(0, np.int64)
        else:
            values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True,
                                                axis=axis)
        inverse = inverse.reshape(-1)
    device = input.device
    out = [Tensor._wrap(move_array(np.ascontiguousarray(values), device))]
    if return_inverse:
        out.append(Tensor._wrap(move_array(inverse.astype(np.int64), device)))
    if return_counts:
        out.append(Tensor._wrap(move_array(counts.astype(np.int64), device)))
    return out[0] if len(out) == 1 else tuple(out)
