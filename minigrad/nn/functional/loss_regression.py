"""Robust-regression and likelihood losses, composed from existing ops, each with PyTorch's
``reduction='mean' | 'sum' | 'none'`` (and 'batchmean' for kl_div):

    smooth_l1_loss(x, y, β)   d = x − y:  ½d²/β if |d| < β, else |d| − ½β   (β = 0: |d|)
                              ∂/∂x = d/β inside, sign(d) outside (continuous at |d| = β)
    huber_loss(x, y, δ)       ½d² if |d| < δ, else δ(|d| − ½δ)   (= δ · smooth_l1 with β = δ)
    kl_div(z, t)              t (log t − z), 0 where t = 0  (z: log-probabilities);
                              log_target: eᵗ (t − z)                 ∂/∂z = −t (or −eᵗ)
    poisson_nll_loss(x, y)    log_input: eˣ − y x;  else x − y log(x + eps);
                              full adds Stirling's y log y − y + ½ log(2π y) where y > 1
    gaussian_nll_loss(μ, y, σ²)  ½ (log max(σ², eps) + (μ − y)²/max(σ², eps)) [+ ½ log 2π];
                              the clamp is applied without gradient, as PyTorch does

Shapes follow PyTorch: input and target broadcast (a warning when their sizes differ for
the elementwise losses), 'none' keeps the broadcast shape.
"""
import math
import warnings

from ...autograd.grad_mode import no_grad
from ...ops import pointwise
from ...ops.broadcast import broadcast_tensors
from ...ops.operands import check_tensor
from .loss import _reduce, _reduction
from ...amp.autocast_mode import autocast_op

__all__ = ["smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss"]


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """½(x − y)²/β where |x − y| < β, else |x − y| − ½β; reduced."""
    check_tensor(input, "smooth_l1_loss")
    check_tensor(target, "smooth_l1_loss", "target")
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = broadcast_tensors(input, target)
    d = input - target
    magnitude = pointwise.abs(d)
    if beta == 0.0:
        return _reduce(magnitude, reduction)
    loss = pointwise.where(magnitude < beta, 0.5 * d * d / beta, magnitude - 0.5 * beta)
    return _reduce(loss, reduction)


@autocast_op("huber_loss")
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """½(x − y)² where |x − y| < δ, else δ(|x − y| − ½δ); ``weight`` scales each element
    before the reduction ('mean' stays the plain mean, as PyTorch)."""
    check_tensor(input, "huber_loss")
    check_tensor(target, "huber_loss", "target")
    _warn_size(input, target)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = broadcast_tensors(input, target)
    d = input - target
    magnitude = pointwise.abs(d)
    loss = pointwise.where(magnitude < delta, 0.5 * d * d, delta * (magnitude - 0.5 * delta))
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_op("kl_div")
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback–Leibler divergence of ``target`` from the log-probabilities ``input``:
    t (log t − z) pointwise (0 where t = 0), or eᵗ (t − z) with ``log_target``.
    'batchmean' divides the sum by the batch size (the mathematical KL per sample)."""
    check_tensor(input, "kl_div")
    check_tensor(target, "kl_div", "target")
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = pointwise.exp(target) * (target - input)
    else:
        # xlogy(t, t): t log t with 0 at t = 0 (log evaluated at 1 there: no 0·(−inf))
        positive = target != 0
        xlogx = target * pointwise.log(pointwise.where(positive, target, 1.0))
        loss = xlogx - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of ``target`` counts under Poisson(rate): rate = eˣ
    (``log_input``) giving eˣ − y x, else x − y log(x + eps); ``full`` adds Stirling's
    approximation of log y! where y > 1."""
    check_tensor(input, "poisson_nll_loss")
    check_tensor(target, "poisson_nll_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = pointwise.exp(input) - target * input
    else:
        loss = input - target * pointwise.log(input + eps)
    if full:
        large = target > 1
        safe = pointwise.where(large, target, 1.0)
        stirling = (safe * pointwise.log(safe) - safe
                    + 0.5 * pointwise.log(2 * math.pi * safe))
        loss = loss + pointwise.where(large, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """½(log σ² + (μ − y)²/σ²) with σ² = max(var, eps) (clamped without gradient); ``var``
    is a tensor of input's shape, one dim short (unsqueezed), broadcastable in exactly one
    dim, or a float."""
    check_tensor(input, "gaussian_nll_loss")
    check_tensor(target, "gaussian_nll_loss", "target")
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.detach() * 0.0 + float(var)
    elif var.numel() and bool((var.array < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():          # PyTorch clamps in place without recording: gradient 1 below eps
        var.clamp_(min=eps)
    loss = 0.5 * (pointwise.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
