"""Margin and embedding losses (PyTorch's ATen formulas, composed from existing ops):

    margin_ranking_loss(x1, x2, y)   max(0, −y (x1 − x2) + margin)
    hinge_embedding_loss(x, y)       x where y = 1, max(0, margin − x) where y = −1
                                     (both terms where y is neither)
    soft_margin_loss(x, y)           log(1 + e^(−y x))
    multilabel_soft_margin_loss      −Σ_c w_c (y_c log σ(x_c) + (1 − y_c) log σ(−x_c)) / C
    cosine_embedding_loss(a, b, y)   1 − cos(a, b) where y = 1, max(0, cos − margin) where
                                     y = −1; cos = a·b / √((‖a‖² + 1e−12)(‖b‖² + 1e−12))
    triplet_margin_loss(a, p, n)     max(0, margin + d(a, p) − d(a, n)), d = pairwise_distance
                                     (with ``swap``: d(a, n) ← min(d(a, n), d(p, n)))
    multi_margin_loss(x, y)          Σ_{i ≠ y} w_y max(0, margin − x_y + x_i)^p / C  (p ∈ {1, 2})
    multilabel_margin_loss(x, y)     Σ_{j ∈ Y} Σ_{i ∉ Y} max(0, 1 − (x_j − x_i)) / C, Y the
                                     target classes listed before the first −1 (a class
                                     listed twice counts twice, as in PyTorch's loop)

The ``max(0, ·)`` of the first group is ``clamp_min`` (gradient passed where the argument
is ≥ 0, as PyTorch's ``clamp_min_``); the multi-class margins use relu (gradient only where
the margin is violated, z > 0, as PyTorch's kernels).
"""
import numpy as np

from ... import dtypes
from ...device import to_host
from ...ops import pointwise
from ...ops.indexing import gather
from ...tensor import Tensor
from ...ops.operands import check_tensor
from .activation import logsigmoid
from .distance import pairwise_distance
from .loss import _reduce, _reduction
from ...amp.autocast_mode import autocast_op

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multi_margin_loss", "multilabel_margin_loss"]


@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, −y (x1 − x2) + margin): x1 should rank above x2 where y = 1, below where −1."""
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor(t, "margin_ranking_loss", name)
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    loss = pointwise.clamp_min(-target * (input1 - input2) + margin, 0)
    return _reduce(loss, reduction)


@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y ≠ −1 plus max(0, margin − x) where y ≠ 1 (y ∈ {1, −1})."""
    check_tensor(input, "hinge_embedding_loss")
    check_tensor(target, "hinge_embedding_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    margin_clamp = pointwise.clamp_min(margin - input, 0)
    loss = (pointwise.where(target != 1, margin_clamp, 0.0)
            + pointwise.where(target != -1, input, 0.0))
    return _reduce(loss, reduction)


@autocast_op("soft_margin_loss")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(−y x)) (two-class logistic loss, y ∈ {1, −1})."""
    check_tensor(input, "soft_margin_loss")
    check_tensor(target, "soft_margin_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    loss = pointwise.log1p(pointwise.exp(-input * target))
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-class logistic loss averaged over the classes (last dim), then reduced."""
    check_tensor(input, "multilabel_soft_margin_loss")
    check_tensor(target, "multilabel_soft_margin_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 − cos(x1, x2) for y = 1, max(0, cos(x1, x2) − margin) for y = −1; inputs (N, D)
    with target (N,), or (D,) with a 0-d target."""
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor(t, "cosine_embedding_loss", name)
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = 2 if target.ndim == 1 else 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(f"{target.ndim}D target tensor expects {expected}D input tensors, but "
                           f"found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")
    dim = target.ndim
    prod_sum = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + 1e-12
    mag2 = (input2 * input2).sum(dim) + 1e-12
    cos = prod_sum / pointwise.sqrt(mag1 * mag2)
    loss = (pointwise.where(target == 1, 1 - cos, 0.0)
            + pointwise.where(target == -1, pointwise.clamp_min(cos - margin, 0), 0.0))
    return _reduce(loss, reduction)


def _check_triplet(anchor, positive, negative, op):
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_tensor(t, op, name)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + ‖a − p + eps‖_p − ‖a − n + eps‖_p) per sample (``swap``: the
    negative distance is the smaller of d(a, n) and d(p, n))."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet(anchor, positive, negative, "triplet_margin_loss")
    reduction = _reduction(size_average, reduce, reduction)
    return _triplet(anchor, positive, negative,
                    lambda x, y: pairwise_distance(x, y, p, eps), margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any ``distance_function(x, y)`` (default pairwise_distance)."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet(anchor, positive, negative, "triplet_margin_with_distance_loss")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin,
                    swap, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = pointwise.minimum(dist_neg, distance(positive, negative))
    return _reduce(pointwise.clamp_min(margin + dist_pos - dist_neg, 0), reduction)


def _class_rows(input, target, op):
    """(input as (N, C), target as (N, ...), whether input was 1-D)."""
    check_tensor(input, op)
    check_tensor(target, op, "target")
    if input.ndim not in (1, 2) or (input.ndim == 2 and 0 in input.shape[1:]):
        raise RuntimeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    if target.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"{op}: expected target of dtype int64, got {target.dtype}")
    return input.ndim == 1


@autocast_op("multi_margin_loss")
def multi_margin_loss(input, target, p=1, margin=1, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: Σ_{i ≠ y} w_y max(0, margin − x_y + x_i)^p / C per sample."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    vector = _class_rows(input, target, "multi_margin_loss")
    x = input.unsqueeze(0) if vector else input
    y = target.reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{x.shape[0]}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    classes = x.shape[1]
    ids = np.asarray(to_host(y.array), dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= classes):
        raise RuntimeError("target out of range")
    picked = gather(x, 1, y.unsqueeze(1))                         # x_y, (N, 1)
    z = pointwise.relu(margin - picked + x)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * gather(weight, 0, y).unsqueeze(1)
    others = Tensor._wrap(x.xp.asarray(np.arange(classes)[None, :] != ids[:, None]))
    loss = pointwise.where(others, z, 0.0).sum(1) / classes
    return _reduce(loss.squeeze(0) if vector else loss, reduction)


@autocast_op("multilabel_margin_loss")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: each target class j (listed in ``target`` before the first
    −1) should beat each non-target class i by 1: Σ_{j, i} max(0, 1 − x_j + x_i) / C."""
    reduction = _reduction(size_average, reduce, reduction)
    vector = _class_rows(input, target, "multilabel_margin_loss")
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    x = input.unsqueeze(0) if vector else input
    ids = np.asarray(to_host(target.array), dtype=np.int64).reshape(x.shape)
    n, classes = x.shape
    if ids.size and (ids.min() < -1 or ids.max() >= classes):
        raise RuntimeError("target out of range")
    listed = np.cumprod(ids != -1, axis=1).astype(bool)          # entries before the first −1
    times = np.zeros((n, classes))                                # a class listed twice counts twice
    np.add.at(times, (np.repeat(np.arange(n)[:, None], classes, axis=1)[listed], ids[listed]), 1)
    # pairs (j target, i non-target): margins 1 − x_j + x_i, (N, C_j, C_i)
    pairs = times[:, :, None] * (times == 0)[:, None, :]
    z = pointwise.relu(1 - x.unsqueeze(2) + x.unsqueeze(1))
    loss = (z * Tensor._wrap(x.xp.asarray(pairs, dtype=x.dtype))).sum((1, 2)) / classes
    return _reduce(loss.squeeze(0) if vector else loss, reduction)
