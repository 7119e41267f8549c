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
"""
from .optimizer import Optimizer, check_hyperparameter, update_step


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None)`` (``foreach`` is accepted and ignored)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if differentiable or fused:
            raise NotImplementedError("minigrad's SGD has no differentiable or fused mode")
        check_hyperparameter("lr", lr, label="learning rate")
        check_hyperparameter("momentum", momentum, label="momentum value")
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach)
        super().__init__(params, defaults)

    @update_step
    def step(self, closure=None):
        """One update of every parameter that has a gradient (formulas above)."""
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            dampening, weight_decay = group["dampening"], group["weight_decay"]
            for param, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                if momentum != 0:
                    state = self.state[param]   # SGD without momentum keeps no state
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        # A copy: the gradient array may be shared with other leaves.
                        buf = state["momentum_buffer"] = grad.detach().clone()
                    else:
                        buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    grad = grad + buf * momentum if group["nesterov"] else buf
                param.add_(grad, alpha=-lr)
