"""RMSprop (Hinton's lecture 6e; Graves 2013 for the centred form), as PyTorch computes it.

Divide each coordinate's step by a running root-mean-square of its recent gradients, so
steep and flat directions move at similar speeds. With g_t = ∇J(θ_{t−1}) (negated when
``maximize``):

    g_t ← g_t + λ θ_{t−1}                               (weight_decay λ)
    v_t = α v_{t−1} + (1 − α) g_t²                      (smoothing constant α, v_0 = 0)
    centred:  ḡ_t = α ḡ_{t−1} + (1 − α) g_t,   s_t = √(v_t − ḡ_t²) + ε   (≈ std of g)
    else:     s_t = √v_t + ε
    momentum μ > 0:  b_t = μ b_{t−1} + g_t / s_t,   θ_t = θ_{t−1} − lr · b_t
    else:            θ_t = θ_{t−1} − lr · g_t / s_t

Unlike Adam there is no bias correction: v starts at 0, so the first step moves each
coordinate by about lr/√(1 − α) (10·lr for α = 0.99); PyTorch keeps it that way and so do
we. ε is added outside the square root, as in PyTorch (TensorFlow adds it inside).
"""
from .. import creation
from .optimizer import Optimizer, check_hyperparameter, step_count_dtype, update_step


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False)``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if capturable or differentiable:
            raise NotImplementedError("minigrad's RMSprop has no capturable or differentiable mode")
        check_hyperparameter("lr", lr, label="learning rate")
        check_hyperparameter("eps", eps, label="epsilon value")
        check_hyperparameter("momentum", momentum, label="momentum value")
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")
        check_hyperparameter("alpha", alpha, label="alpha value")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    @update_step
    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient (formulas above)."""
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            for param, grad in self._params_with_grad(group):
                state = self.state[param]
                if not state:
                    state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
                    state["square_avg"] = creation.zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = creation.zeros_like(param)
                    if group["centered"]:
                        state["grad_avg"] = creation.zeros_like(param)
                if group["maximize"]:
                    grad = -grad
                state["step"] += 1
                if weight_decay != 0:
                    grad = grad + param * weight_decay
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).add_(grad * grad, alpha=1 - alpha)
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.add_((grad - grad_avg) * (1 - alpha))   # torch's lerp_
                    avg = (square_avg - grad_avg * grad_avg).sqrt() + eps
                else:
                    avg = square_avg.sqrt() + eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).add_(grad / avg)
                    param.add_(buf, alpha=-lr)
                else:
                    param.add_(grad / avg, alpha=-lr)
