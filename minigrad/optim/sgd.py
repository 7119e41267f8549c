"""Stochastic gradient descent, with momentum, dampening, weight decay and Nesterov.

Plain gradient descent is ``θ ← θ − α ∇J(θ)``. PyTorch's SGD, which
this reproduces step for step, generalises it. With g_t = ∇J(θ_{t−1}) (negated when
``maximize``):

    g_t ← g_t + λ θ_{t−1}                                  (weight_decay λ, i.e. L2 = λ/2 ‖θ‖²)
    b_1 = g_1,   b_t = μ b_{t−1} + (1 − τ) g_t   (t > 1)     (momentum μ, dampening τ)
    d_t = g_t + μ b_t   (nesterov)   or   d_t = b_t
    θ_t = θ_{t−1} − α d_t

Two details matter for matching PyTorch (and docs/seeds.md#seed-004's recipe, SGD lr 0.001
momentum 0.9): the first buffer is the raw gradient, *not* (1 − τ) g_1, and the learning
rate multiplies the buffer at use time, so changing ``lr`` mid-run (a scheduler) rescales
future steps without touching the stored velocity. With μ = 0 no state is kept.

Nesterov's form is the "look-ahead" gradient written without evaluating J twice:
``θ − α (g + μ b)`` ≈ a step taken from where momentum is about to carry θ.

Two implementations (``optimizer.py``): the array path below updates each parameter with
whole-array ufuncs, ``out=`` into the parameter, the buffer and the optimizer's scratch:

    g ← −g  (maximize);   s ← θ·λ;   g ← g + s                      (weight decay)
    b ← b·μ;   s ← g·(1 − τ)  (τ ≠ 0);   b ← b + s                  (momentum)
    s ← b·μ;   d ← g + s  (nesterov)                or   d ← b
    s ← d·(−α);   θ ← θ + s

— 2 to 9 ufunc calls per parameter, the same operations in the same order as the Tensor
path (``_reference_step``, ``foreach=False``), hence bit-identical results.
"""
from ..tensor import Tensor
from .optimizer import (Optimizer, bump_versions, check_hyperparameter,
                        check_implementation_flags, effective_grad, scaled)


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)``: ``foreach=False``
    takes the Tensor-op path; ``differentiable=True`` raises NotImplementedError."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_implementation_flags("SGD", foreach, fused, differentiable=differentiable)
        check_hyperparameter("lr", lr, label="learning rate", nan_ok=True)
        check_hyperparameter("momentum", momentum, label="momentum value", nan_ok=True)
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value",
                            nan_ok=True)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _array_step(self, group):
        """The update of one group on the parameters' arrays (formulas above)."""
        lr, momentum = group["lr"], group["momentum"]
        dampening, weight_decay = group["dampening"], group["weight_decay"]
        for param, grad in self._params_with_grad(group):
            xp, theta = param.xp, param.array
            tmp, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            g = effective_grad(xp, theta, grad.array, group["maximize"], weight_decay, g_out, tmp)
            if momentum != 0:
                state = self.state[param]   # SGD without momentum keeps no state
                buf = state.get("momentum_buffer")
                if buf is None:
                    # A copy: g may be the gradient (shared with other leaves) or scratch.
                    buf = state["momentum_buffer"] = Tensor._wrap(g.copy())
                else:
                    b = buf.array
                    b *= momentum
                    b += scaled(xp, g, 1 - dampening, tmp)
                    bump_versions(buf)
                if group["nesterov"]:
                    g = xp.add(g, xp.multiply(buf.array, momentum, out=tmp), out=g_out)
                else:
                    g = buf.array
            theta += scaled(xp, g, -lr, tmp)
            bump_versions(param)

    def _reference_step(self, group):
        """The same update with Tensor in-place ops (PyTorch's for-loop form)."""
        lr, momentum = group["lr"], group["momentum"]
        dampening, weight_decay = group["dampening"], group["weight_decay"]
        for param, grad in self._params_with_grad(group):
            if group["maximize"]:
                grad = -grad
            if weight_decay != 0:
                grad = grad + param * weight_decay
            if momentum != 0:
                state = self.state[param]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = grad.detach().clone()
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                grad = grad + buf * momentum if group["nesterov"] else buf
            param.add_(grad, alpha=-lr)
