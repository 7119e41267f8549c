"""Adadelta (Zeiler 2012), as PyTorch computes it.

Adadelta replaces the global learning rate of Adagrad/RMSprop by a *unit-correcting* ratio:
the step is scaled by the RMS of recent steps over the RMS of recent gradients, so it
carries the units of θ (Zeiler's second-order argument: Δθ ≈ H⁻¹g has units of θ, and
H⁻¹ ≈ Δθ / g). With g_t = ∇J(θ_{t−1}) (negated when ``maximize``), decay ρ, and both
running averages starting at 0:

    g_t ← g_t + λ θ_{t−1}                                    (weight_decay λ)
    v_t = ρ v_{t−1} + (1 − ρ) g_t²                            (square_avg)
    Δ_t = √(u_{t−1} + ε) / √(v_t + ε) · g_t                   (the unit-corrected step)
    u_t = ρ u_{t−1} + (1 − ρ) Δ_t²                            (acc_delta)
    θ_t = θ_{t−1} − lr · Δ_t

Zeiler's paper has no ``lr`` (it is 1.0, PyTorch's default); PyTorch keeps it as a
multiplier. ε sits inside both square roots: at the start u = 0 and the first steps are
of size about √ε / √(1 − ρ) per coordinate, whatever the gradient's scale.

The array path (default; ``optimizer.py``) writes ufuncs ``out=`` into the state and two
scratch arrays s, d (and g′ for the modified gradient), in the order of the Tensor path (``_reference_step``,
``foreach=False``), so both round identically:

    g′ ← −g (maximize);   s ← θ·λ;   g′ ← g′ + s                    (weight decay)
    v ← v·ρ;   s ← g·g;   s ← s·(1 − ρ);   v ← v + s
    s ← v + ε;   s ← √s;   d ← u + ε;   d ← √d;   d ← d / s;   d ← d·g
    u ← u·ρ;   s ← d·d;   s ← s·(1 − ρ);   u ← u + s
    d ← d·(−lr);   θ ← θ + d
"""
from .. import creation
from .optimizer import (Optimizer, bump_versions, check_hyperparameter,
                        check_implementation_flags, effective_grad, scaled, step_count_dtype)


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``: ``foreach=False`` takes the
    Tensor-op path; ``capturable`` and ``differentiable`` raise NotImplementedError.
    (PyTorch's Adadelta has no ``fused``.)"""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_implementation_flags("Adadelta", foreach, None, capturable, differentiable)
        check_hyperparameter("lr", lr, label="learning rate")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyperparameter("eps", eps, label="epsilon value")
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, state, group):
        state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
        state["square_avg"] = creation.zeros_like(param)
        state["acc_delta"] = creation.zeros_like(param)

    def _array_step(self, group):
        """One Adadelta update of the group on the parameters' arrays (formulas above)."""
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            xp, theta = param.xp, param.array
            s, d = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            g = effective_grad(xp, theta, grad.array, group["maximize"],
                               group["weight_decay"], self._scratch(xp, theta, 2), s)
            state["step"].array += 1
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            v, u = square_avg.array, acc_delta.array
            v *= rho
            v += scaled(xp, xp.multiply(g, g, out=s), 1 - rho, s)
            xp.sqrt(xp.add(v, eps, out=s), out=s)
            xp.sqrt(xp.add(u, eps, out=d), out=d)
            xp.divide(d, s, out=d)
            xp.multiply(d, g, out=d)
            u *= rho
            u += scaled(xp, xp.multiply(d, d, out=s), 1 - rho, s)
            theta += scaled(xp, d, -lr, d)
            bump_versions(state["step"], square_avg, acc_delta, param)

    def _reference_step(self, group):
        """The same update with Tensor in-place ops (PyTorch's for-loop form)."""
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            if group["maximize"]:
                grad = -grad
            state["step"] += 1
            if group["weight_decay"] != 0:
                grad = grad + param * group["weight_decay"]
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).add_(grad * grad, alpha=1 - rho)
            std = (square_avg + eps).sqrt()
            delta = (acc_delta + eps).sqrt() / std * grad
            acc_delta.mul_(rho).add_(delta * delta, alpha=1 - rho)
            param.add_(delta, alpha=-lr)
