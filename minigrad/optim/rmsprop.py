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

The array path (default; ``optimizer.py``) writes ufuncs ``out=`` into the state and two
scratch arrays s, g′, in the order of the Tensor path (``_reference_step``,
``foreach=False``), so both round identically:

    g′ ← −g (maximize);   s ← θ·λ;   g′ ← g′ + s                    (weight decay)
    v ← v·α;   s ← g·g;   s ← s·(1 − α);   v ← v + s
    centred:  s ← g − ḡ;  s ← s·(1 − α);  ḡ ← ḡ + s;  s ← ḡ·ḡ;  s ← v − s;  s ← √s
    else:     s ← √v
    s ← s + ε;   s ← g / s
    momentum: b ← b·μ;  b ← b + s;  s ← b·(−lr)        else: s ← s·(−lr)
    θ ← θ + s
"""
from .. import creation
from .optimizer import (Optimizer, bump_versions, check_hyperparameter,
                        check_implementation_flags, effective_grad, scaled, step_count_dtype)


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False, differentiable=False)``:
    ``foreach=False`` takes the Tensor-op path; ``capturable`` and ``differentiable`` raise
    NotImplementedError. (PyTorch's RMSprop has no ``fused``.)"""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_implementation_flags("RMSprop", foreach, None, capturable, differentiable)
        check_hyperparameter("lr", lr, label="learning rate")
        check_hyperparameter("eps", eps, label="epsilon value")
        check_hyperparameter("momentum", momentum, label="momentum value")
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")
        check_hyperparameter("alpha", alpha, label="alpha value")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
        state["square_avg"] = creation.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = creation.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = creation.zeros_like(param)

    def _array_step(self, group):
        """One RMSprop update of the group on the parameters' arrays (formulas above)."""
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        for param, grad, state in self._params_with_state(group):
            xp, theta = param.xp, param.array
            s, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            g = effective_grad(xp, theta, grad.array, group["maximize"], weight_decay, g_out, s)
            state["step"].array += 1
            square_avg = state["square_avg"]
            v = square_avg.array
            v *= alpha
            v += scaled(xp, xp.multiply(g, g, out=s), 1 - alpha, s)
            written = [state["step"], square_avg, param]
            if group["centered"]:
                grad_avg = state["grad_avg"]
                mean = grad_avg.array
                xp.subtract(g, mean, out=s)
                s *= 1 - alpha
                mean += s                                          # torch's lerp_
                xp.sqrt(xp.subtract(v, xp.multiply(mean, mean, out=s), out=s), out=s)
                written.append(grad_avg)
            else:
                xp.sqrt(v, out=s)
            s += eps
            xp.divide(g, s, out=s)
            if momentum > 0:
                buf = state["momentum_buffer"]
                b = buf.array
                b *= momentum
                b += s
                written.append(buf)
                theta += scaled(xp, b, -lr, s)
            else:
                theta += scaled(xp, s, -lr, s)
            bump_versions(*written)

    def _reference_step(self, group):
        """The same update with Tensor in-place ops (PyTorch's for-loop form)."""
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        for param, grad, state in self._params_with_state(group):
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
