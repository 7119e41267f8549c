"""Reference cross-entropy from logits and class-index targets, forward and backward.

PyTorch's ``F.cross_entropy(x, t, weight, ignore_index, reduction, label_smoothing)`` for
integer targets, fused: the log-probabilities are formed once (max-shifted), the target
class is *picked* (no C×C one-hot), and the gradient is ``softmax − target coefficients``.

Shapes: logits ``x (N, C, d1, …)`` or ``(C,)`` (class axis 1, or 0 for a single sample),
targets ``t (N, d1, …)`` or ``()`` int64, class weights ``w (C,)`` or None (= ones).  Per
target i, with ``z = log_softmax(x)`` along the class axis, ε = label_smoothing and
``m_i = 0`` where ``t_i = ignore_index`` else 1:

    w_i  = m_i · w[t_i]
    ℓ_i  = (1 − ε) · (−w_i z_{i,t_i})  +  (ε/C) · m_i · (−Σ_c w_c z_{i,c})

    reduction  'none' → ℓ (N, d1, …);  'sum' → Σ_i ℓ_i;  'mean' → Σ_i ℓ_i / Σ_i w_i

(the 'mean' of an input where every target is ignored is NaN, as PyTorch's).  This is
PyTorch's formula: its smoothing term is reduced by Σ w_i when weights are given and by
the count of non-ignored targets otherwise, which is the same number since w_i = m_i
then.  Writing ``ℓ_i = −Σ_c a_{i,c} z_{i,c}`` with coefficients

    a_{i,c} = (1 − ε) w_i [c = t_i] + (ε/C) m_i w_c,      A_i = Σ_c a_{i,c}

and ``∂z_{i,c}/∂x_{i,j} = [c = j] − p_{i,j}`` (``p = softmax(x)``), the VJP is

    dx_{i,j} = g_i (A_i p_{i,j} − a_{i,j})

with ``g_i = dℓ_i`` ('none'), ``dℓ`` ('sum') or ``dℓ / Σ w_i`` ('mean'; 0 when that sum is
0).  Targets must be valid class ids or ``ignore_index``; the caller checks the range
(it needs a host round trip to raise PyTorch's IndexError).  The loss has the logits'
dtype.
"""
from ..catalogue import CATALOGUE, get_array_module
from .softmax import log_softmax, softmax

REDUCTIONS = ("none", "sum", "mean")


def _class_axis(x):
    return 0 if x.ndim == 1 else 1


def _target_weights(xp, x, target, weight, ignore_index):
    """``(safe target ids, w_i, m_i)``: ignored targets read class 0 with weight 0."""
    ignored = target == ignore_index
    safe = xp.where(ignored, 0, target)
    kept = (~ignored).astype(x.dtype)
    w = kept if weight is None else weight.astype(x.dtype, copy=False)[safe] * kept
    return safe, w, kept


def cross_entropy_coefficients(x, target, weight, ignore_index, label_smoothing):
    """``(a, A, w_i)``: the per-class coefficients of ``−z`` in ℓ (shape of x), their sum
    over classes (shape of the targets) and the per-target weights.  The one-hot is an
    arange comparison.  Not a catalogue entry: minigrad's CrossEntropy uses it to write
    its VJP in Tensor ops when a second derivative is wanted."""
    xp = get_array_module(x, target, weight)
    axis = _class_axis(x)
    classes = x.shape[axis]
    safe, w, kept = _target_weights(xp, x, target, weight, ignore_index)
    shape = [1] * x.ndim
    shape[axis] = classes
    class_ids = xp.arange(classes).reshape(shape)
    one_hot = xp.expand_dims(safe, axis) == class_ids
    a = (1.0 - label_smoothing) * xp.expand_dims(w, axis) * one_hot
    total = (1.0 - label_smoothing) * w
    if label_smoothing > 0:
        class_w = (xp.ones(classes, dtype=x.dtype) if weight is None
                   else weight.astype(x.dtype, copy=False))
        smooth = label_smoothing / classes
        a = a + smooth * xp.expand_dims(kept, axis) * class_w.reshape(shape)
        total = total + smooth * kept * class_w.sum()
    return a.astype(x.dtype, copy=False), total.astype(x.dtype, copy=False), w


def _check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: unknown reduction {reduction!r}")


@CATALOGUE.reference("cross_entropy_forward")
def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, reduction):
    """``ℓ`` reduced as ``reduction``: ``(N, d1, …)`` for 'none', ``()`` otherwise."""
    _check_reduction(reduction)
    xp = get_array_module(x, target, weight)
    axis = _class_axis(x)
    z = log_softmax(x, axis)
    safe, w, kept = _target_weights(xp, x, target, weight, ignore_index)
    picked = xp.take_along_axis(z, xp.expand_dims(safe, axis), axis=axis).squeeze(axis)
    loss = (1.0 - label_smoothing) * (-w * picked)
    if label_smoothing > 0:
        weighted = z if weight is None else z * weight.astype(x.dtype, copy=False).reshape(
            [-1 if d == axis else 1 for d in range(x.ndim)])
        loss = loss + (label_smoothing / x.shape[axis]) * kept * -weighted.sum(axis=axis)
    loss = loss.astype(x.dtype, copy=False)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return _safe_divide(xp, total, w.sum())


def _safe_divide(xp, total, denominator):
    """``total / denominator``, NaN for a zero denominator without numpy's warning."""
    zero = denominator == 0
    out = total / xp.where(zero, xp.ones_like(denominator), denominator)
    return xp.where(zero, xp.asarray(xp.nan, dtype=out.dtype), out)


@CATALOGUE.reference("cross_entropy_backward")
def cross_entropy_backward(x, target, d_loss, weight, ignore_index, label_smoothing, reduction):
    """``dx = g ⊙ (A softmax(x) − a)``, the shape and dtype of ``x``; ``d_loss`` has the
    shape of the forward's output."""
    _check_reduction(reduction)
    xp = get_array_module(x, target, d_loss, weight)
    axis = _class_axis(x)
    a, total, w = cross_entropy_coefficients(x, target, weight, ignore_index, label_smoothing)
    g = (d_loss * cross_entropy_gradient_scale(w, reduction)).astype(x.dtype, copy=False)
    g = xp.expand_dims(g * xp.ones_like(w), axis)
    return g * (xp.expand_dims(total, axis) * softmax(x, axis) - a)


@CATALOGUE.reference("cross_entropy_forward_backward")
def cross_entropy_forward_backward(x, target, weight, ignore_index, label_smoothing, reduction):
    """``(ℓ, dx₁)``: ``cross_entropy_forward``'s loss and the gradient of that loss for an
    upstream gradient of ones (``d_loss = 1``), which a fused kernel writes while the
    logits are in cache; the VJP of any ``d_loss`` is then ``d_loss · dx₁`` (broadcast over
    the class axis for 'none': ``dx`` is linear in the per-target ``g``)."""
    xp = get_array_module(x, target, weight)
    loss = cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, reduction)
    ones = xp.ones(loss.shape, dtype=x.dtype)
    return loss, cross_entropy_backward(x, target, ones, weight, ignore_index, label_smoothing,
                                        reduction)


def cross_entropy_gradient_scale(w, reduction):
    """What ``dℓ`` is multiplied by to give ``g``: 1, or ``1/Σ w_i`` for 'mean' (0 when every
    target is ignored: the loss is then the constant NaN, whose gradient PyTorch makes 0)."""
    xp = get_array_module(w)
    if reduction != "mean":
        return xp.ones((), dtype=w.dtype)
    denominator = w.sum()
    zero = denominator == 0
    return xp.where(zero, xp.zeros_like(denominator),
                    1.0 / xp.where(zero, xp.ones_like(denominator), denominator))
