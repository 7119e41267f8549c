"""Loss functions with PyTorch's ``reduction='mean' | 'sum' | 'none'``.

cross_entropy(x, t)   from logits: ℓ = −log_softmax(x)[t]  (class ids), or
                      ℓ = −Σ_c t_c log_softmax(x)_c  (class probabilities, same shape as x)
nll_loss(z, t)        ℓ = −w_t z[t]  for log-probabilities z
mse_loss              ℓ = (x − y)²             ((1/n) Σ (y − ŷ)² with 'mean')
l1_loss               ℓ = |x − y|
binary_cross_entropy  ℓ = −w (y log x + (1 − y) log(1 − x)),  logs clamped at −100
binary_cross_entropy_with_logits
                      ℓ = (1 − y) x + (1 + (p − 1) y) softplus(−x),  which for p = 1 is
                      max(x, 0) − x y + log(1 + e^(−|x|)): never exp of a large number

Cross-entropy is computed from logits through the max-shifted log-softmax (−Σ y log ŷ of
an already computed softmax overflows for large logits; docs/seeds.md#errata-001), and
the target class is *picked* — no C×C one-hot is built.  Its gradient is the familiar
dx = softmax(x) − onehot(t) (per sample, times w_t).  With class-index targets it is one
Function over ``kernels.cross_entropy_forward/backward`` (ignore_index, weights, label
smoothing and the reduction included, so one fused kernel can replace it); with class
probabilities it stays a composite of log_softmax.

Class-index targets: input (N, C) or (N, C, d1, …) or (C,), target (N) / (N, d1, …) / ();
``ignore_index`` entries contribute 0 and are left out of the mean.  The 'mean' reduction
with class weights divides by Σ w_{t_i} over the non-ignored targets, exactly as PyTorch.
``label_smoothing`` ε mixes in the uniform distribution: (1 − ε)·ℓ_nll + (ε/C)·ℓ_smooth with
ℓ_smooth = −Σ_c w_c log_softmax(x)_c, reduced the same way (PyTorch's formula).
"""
import warnings


from ... import dtypes
from ...tensor import Tensor
from ...ops import activation as smooth, pointwise
from ...ops.broadcast import broadcast_tensors
from ...ops.indexing import gather
from ...ops.loss import BinaryCrossEntropy, CrossEntropy
from ...ops.operands import check_floating, check_tensor
from ...ops.softmax import log_softmax
from ...amp.autocast_mode import autocast_op

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction):
    """The reduction string, honouring PyTorch's deprecated size_average/reduce flags."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='...' instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _divide(total, denominator):
    """total / denominator for a host float denominator.  For 0 (every target ignored) the
    value is nan and the gradient 0, as PyTorch's nll_loss gives."""
    if denominator == 0:
        return total * 0.0 + Tensor._wrap(total.xp.asarray(float("nan"), dtype=total.dtype))
    return total / denominator


# ---------------------------------------------------------------------- class-index targets
def _check_class_target(input, target, weight):
    if input.ndim == 0:
        raise RuntimeError("cross_entropy/nll_loss: input must have at least one dimension "
                           "(the class dimension), got a 0-d tensor")
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        names = {"float32": "Float", "float64": "Double", "float16": "Half", "int32": "Int",
                 "int16": "Short", "int8": "Char", "bool": "Bool"}
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{names.get(str(target.dtype), target.dtype)}")
    if input.ndim >= 2 and target.ndim >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    expected = tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.ndim >= 2 else ()
    if input.ndim <= 2 and target.ndim != input.ndim - 1:
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported (input "
                           f"{list(input.shape)}, target {list(target.shape)})")
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    classes = input.shape[0 if input.ndim == 1 else 1]
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or "
                           f"no classes but got weight tensor of shape: {list(weight.shape)}")


def _checked_class_ids(target, classes, ignore_index):
    """Target ids as int64; raises PyTorch's IndexError for one out of range."""
    ids = target.array.astype(dtypes.int64, copy=False)
    invalid = (ids != ignore_index) & ((ids < 0) | (ids >= classes))
    if bool(invalid.any()):
        raise IndexError(f"Target {int(ids[invalid].reshape(-1)[0])} is out of bounds.")
    return ids


def _class_targets(logp, target, weight, ignore_index):
    """(picked log-probability z[t] (N, d…), per-target weights w_t as an array, ignored
    mask); raises PyTorch's IndexError for an out-of-range target."""
    class_dim = 0 if logp.ndim == 1 else 1
    classes = logp.shape[class_dim]
    xp = logp.xp
    ids = _checked_class_ids(target, classes, ignore_index)
    ignored = ids == ignore_index
    safe = xp.where(ignored, 0, ids)
    picked = gather(logp, class_dim, Tensor._wrap(xp.expand_dims(safe, class_dim)))
    picked = picked.squeeze(class_dim)
    w = xp.ones(ids.shape, dtype=logp.dtype) if weight is None else \
        weight.array.astype(logp.dtype, copy=False)[safe]
    return picked, xp.where(ignored, xp.zeros((), dtype=logp.dtype), w), ignored


def _reduce_picked(picked, w, reduction):
    """ℓ_i = −w_i z_i reduced; 'mean' divides by Σ w_i (the non-ignored target weights)."""
    loss = -picked * Tensor._wrap(w)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return _divide(loss.sum(), float(w.sum()))


@autocast_op("nll_loss")
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, …) at class ids
    ``target`` (N, …): ℓ_i = −w_{t_i} input[i, t_i]."""
    check_tensor(input, "nll_loss")
    check_floating(input, "nll_loss")
    check_tensor(target, "nll_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_target(input, target, weight)
    picked, w, _ = _class_targets(input, target, weight, ignore_index)
    return _reduce_picked(picked, w, reduction)


def _probability_cross_entropy(input, target, weight, reduction, label_smoothing):
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    if target.dtype.kind not in "fV":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {target.dtype}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = logp * target
    if weight is not None:
        shape = [1] * input.ndim
        shape[class_dim] = -1
        terms = terms * weight.reshape(shape)
    if reduction == "none":
        return -terms.sum(dim=class_dim)
    if reduction == "sum":
        return -terms.sum()
    return _divide(-terms.sum(), input.numel() // classes if classes else 0)


@autocast_op("cross_entropy")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C, …) and class ids (N, …) or class
    probabilities (same shape as input), through log_softmax; see the module docstring."""
    check_tensor(input, "cross_entropy")
    check_floating(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    if tuple(input.shape) == tuple(target.shape):
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        classes = input.shape[0 if input.ndim == 1 else 1]
        if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
            raise RuntimeError(f"weight tensor should be defined either for all {classes} "
                               f"classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        return _probability_cross_entropy(input, target, weight, reduction, label_smoothing)
    _check_class_target(input, target, weight)
    ids = _checked_class_ids(target, input.shape[0 if input.ndim == 1 else 1], ignore_index)
    return CrossEntropy.apply(input, ids, _data(weight), ignore_index, float(label_smoothing),
                              reduction)


def _data(tensor):
    return None if tensor is None else tensor.array


# ---------------------------------------------------------------------- regression losses
def _elementwise_loss(op, input, target, size_average, reduce, reduction, weight, distance):
    check_tensor(input, op)
    check_tensor(target, op, "target")
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)
    reduction = _reduction(size_average, reduce, reduction)
    input, target = broadcast_tensors(input, target)
    loss = distance(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


@autocast_op("mse_loss")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input − target)², reduced; with ``weight`` the 'mean' is Σ w ℓ / Σ w."""
    if isinstance(input, Tensor) and isinstance(target, Tensor) and \
            input.dtype.kind not in "fV" and target.dtype.kind not in "fV":
        check_floating(input, "mse_cpu")
    return _elementwise_loss("mse_loss", input, target, size_average, reduce, reduction, weight,
                             lambda d: d * d)


@autocast_op("l1_loss")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input − target| (gradient sign(input − target), 0 where equal), reduced."""
    return _elementwise_loss("l1_loss", input, target, size_average, reduce, reduction, weight,
                             pointwise.abs)


# ---------------------------------------------------------------------- binary losses
def _size_mismatch(input, target):
    return ValueError(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}) is deprecated. Please ensure they have the same "
                      f"size.")


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """−w (y log x + (1 − y) log(1 − x)) for probabilities x ∈ [0, 1] (logs clamped at −100,
    as PyTorch, so x = 0 or 1 gives a finite loss)."""
    check_tensor(input, "binary_cross_entropy")
    check_tensor(target, "binary_cross_entropy", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise _size_mismatch(input, target)
    if input.dtype.kind not in "fV" or target.dtype != input.dtype:
        raise RuntimeError(f"binary_cross_entropy: expected input and target of one floating "
                           f"dtype, got {input.dtype} and {target.dtype}")
    data = input.array
    if input.numel() and not bool(((data >= 0) & (data <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    labels = target.array
    if target.numel() and not bool(((labels >= 0) & (labels <= 1)).all()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression:
    ℓ = w [(1 − y) x + (1 + (pos_weight − 1) y) softplus(−x)]."""
    check_tensor(input, "binary_cross_entropy_with_logits")
    check_tensor(target, "binary_cross_entropy_with_logits", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    softplus_neg = smooth.softplus(-input, 1.0, 20.0)
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
