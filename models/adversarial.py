"""Adversarial examples (seed 004's "model security", Goodfellow, Shlens & Szegedy 2015).

An attack moves an input ``x`` (label ``y``) inside an L∞ ball of radius ε so that the
model's loss grows. With the input gradient ``g = ∇ₓ L(f(x), y)`` (autograd through the
model, its parameters untouched):

* **FGSM** (fast gradient sign method), one step to the corner of the ball that the
  linearised loss prefers:  ``x' = clip(x + ε · sign(g), lo, hi)``;
* **PGD** (projected gradient descent, Madry et al. 2018): from a random start in the
  ball, ``steps`` steps ``x ← Π(x + α · sign(∇ₓ L))``, where Π clips back into the
  ε-ball around the clean x and into ``[lo, hi]``.

``lo, hi`` is the valid input range (pixels in [0, 1], or its image under the run's
normalisation ``(p − mean)/std``; ε is then measured in the same units, so ε = 0.1 in
pixels is 0.1/std there). **FGSM adversarial training** minimises
``α·L(x, y) + (1 − α)·L(x_fgsm, y)`` with ``α = 0.5`` (Goodfellow et al., §6).

The model is put in eval mode while the gradient is taken (dropout and batch statistics
would otherwise change the attack) and restored afterwards.
"""
import contextlib

import minigrad as mg
import minigrad.nn.functional as F

__all__ = ["input_gradient", "fgsm", "pgd", "adversarial_loss"]


@contextlib.contextmanager
def _eval_mode(model):
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def input_gradient(model, x, y, loss_fn=F.cross_entropy):
    """``(∇ₓ loss(model(x), y), loss value)``; ``x`` is not modified and no parameter
    gradient is accumulated."""
    x = x.detach().requires_grad_(True)
    with mg.enable_grad():
        loss = loss_fn(model(x), y)
        (grad,) = mg.autograd.grad(loss, [x])
    return grad.detach(), float(loss.item())


def fgsm(model, x, y, eps, clip_min=0.0, clip_max=1.0, loss_fn=F.cross_entropy):
    """``clip(x + eps · sign(∇ₓ L), clip_min, clip_max)`` (detached)."""
    with _eval_mode(model):
        grad, _ = input_gradient(model, x, y, loss_fn)
    return (x.detach() + eps * grad.sign()).clamp(clip_min, clip_max)


def pgd(model, x, y, eps, alpha=None, steps=10, clip_min=0.0, clip_max=1.0, random_start=True,
        loss_fn=F.cross_entropy, generator=None):
    """L∞ PGD: ``steps`` signed-gradient steps of size ``alpha`` (default ``2.5·eps/steps``),
    each projected into ``[x − eps, x + eps] ∩ [clip_min, clip_max]``; a uniform random
    start in the ball when ``random_start`` (minigrad's generator, or ``generator``)."""
    alpha = 2.5 * eps / steps if alpha is None else alpha
    clean = x.detach()
    low, high = (clean - eps).clamp(clip_min, clip_max), (clean + eps).clamp(clip_min, clip_max)
    adv = clean
    if random_start:
        noise = mg.rand(tuple(clean.shape), device=clean.device, generator=generator)
        adv = (clean + (2 * noise - 1) * eps).clamp(clip_min, clip_max)
    with _eval_mode(model):
        for _ in range(steps):
            grad, _ = input_gradient(model, adv, y, loss_fn)
            adv = mg.minimum(mg.maximum(adv + alpha * grad.sign(), low), high)
    return adv.detach()


def adversarial_loss(model, x, y, eps, clip_min=0.0, clip_max=1.0, alpha=0.5):
    """Goodfellow et al.'s FGSM training objective ``α·L(x) + (1−α)·L(x_fgsm)``, the
    adversarial example made from the current parameters (treated as a constant)."""
    x_adv = fgsm(model, x, y, eps, clip_min, clip_max)
    return alpha * F.cross_entropy(model(x), y) + (1 - alpha) * F.cross_entropy(model(x_adv), y)
