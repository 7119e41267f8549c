"""Adamax, NAdam and RAdam: three variants of Adam (``adam.py``), as PyTorch computes them.

With g_t the gradient (negated when ``maximize``; plus λθ for L2 ``weight_decay``, or
θ ← θ(1 − αλ) first for NAdam's and RAdam's ``decoupled_weight_decay``) and
m_t = β₁ m_{t−1} + (1 − β₁) g_t Adam's first moment:

Adamax (Kingma & Ba 2015, §7) replaces Adam's L² norm of past gradients by the L∞ norm,
which needs no bias correction:

    u_t = max(β₂ u_{t−1}, |g_t| + ε)
    θ_t = θ_{t−1} − (α / (1 − β₁ᵗ)) · m_t / u_t

NAdam (Dozat 2016) puts Nesterov's look-ahead into Adam: the step mixes the current
gradient and the momentum with a momentum schedule μ_t = β₁(1 − ½·0.96^{t·ψ})
(ψ = ``momentum_decay``) and its running product Π_t = μ₁⋯μ_t:

    v_t = β₂ v_{t−1} + (1 − β₂) g_t²,   d = √(v_t / (1 − β₂ᵗ)) + ε
    θ_t = θ_{t−1} − α (1 − μ_t)/(1 − Π_t) · g_t / d − α μ_{t+1}/(1 − Π_t μ_{t+1}) · m_t / d

PyTorch keeps Π (``mu_product``) as a 0-d tensor in the step-count dtype (float32 by
default) and multiplies it in place; so does this class, for the same rounding.

RAdam (Liu et al. 2020) switches Adam's adaptive step on only once the variance of the
adaptive rate is tractable: with ρ_∞ = 2/(1 − β₂) − 1 and
ρ_t = ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ),

    ρ_t > 5:  θ_t = θ_{t−1} − α · m̂_t · r_t · √(1 − β₂ᵗ)/(√v_t + ε),
              r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))
    else:     θ_t = θ_{t−1} − α · m̂_t                      (SGD with momentum)

with m̂_t = m_t/(1 − β₁ᵗ). Each class has the array path (``_array_step``, ufuncs into
the state and scratch buffers) and the Tensor path (``_reference_step``,
``foreach=False``), with the same operations in the same order, so both round alike.
"""
from .. import creation
from .optimizer import (Optimizer, bump_versions, check_hyperparameter,
                        check_implementation_flags, effective_grad, scaled, step_count_dtype)


def _check_adam_like(lr, betas, eps, weight_decay):
    check_hyperparameter("lr", lr, label="learning rate")
    check_hyperparameter("eps", eps, label="epsilon value")
    check_hyperparameter("beta", betas[0], high=1.0, label="beta parameter at index 0")
    check_hyperparameter("beta", betas[1], high=1.0, label="beta parameter at index 1")
    check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")


class _AdamVariant(Optimizer):
    """Shared state creation: step count, first and second moments (``second`` names the
    second one: ``exp_inf`` for Adamax)."""

    second = "exp_avg_sq"

    def _init_state(self, param, state, group):
        state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
        state["exp_avg"] = creation.zeros_like(param)
        state[self.second] = creation.zeros_like(param)

    def _decoupled_decay(self, group, param, theta=None):
        """θ ← θ(1 − αλ) when the decay is decoupled; returns the λ left for the gradient."""
        decay = group["weight_decay"]
        if decay != 0 and group.get("decoupled_weight_decay"):
            if theta is not None:
                theta *= 1 - group["lr"] * decay
            else:
                param.mul_(1 - group["lr"] * decay)
            return 0
        return decay


class Adamax(_AdamVariant):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    foreach=None, *, maximize=False, differentiable=False, capturable=False)``."""

    second = "exp_inf"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_implementation_flags("Adamax", foreach, None, capturable, differentiable)
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _array_step(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            xp, theta = param.xp, param.array
            s, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            g = effective_grad(xp, theta, grad.array, group["maximize"],
                               group["weight_decay"], g_out, s)
            state["step"].array += 1
            step = float(state["step"].array)
            m, u = state["exp_avg"].array, state["exp_inf"].array
            xp.subtract(g, m, out=s)
            s *= 1 - beta1
            m += s                                                  # torch's lerp_
            u *= beta2
            xp.abs(g, out=s)
            s += eps
            xp.maximum(u, s, out=u)
            clr = lr / (1 - beta1 ** step)
            theta += scaled(xp, xp.divide(m, u, out=s), -clr, s)
            bump_versions(state["step"], state["exp_avg"], state["exp_inf"], param)

    def _reference_step(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            if group["maximize"]:
                grad = -grad
            state["step"] += 1
            step = float(state["step"])
            if group["weight_decay"] != 0:
                grad = grad + param * group["weight_decay"]
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.add_((grad - exp_avg) * (1 - beta1))
            exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs() + eps))
            param.add_(exp_avg / exp_inf, alpha=-(lr / (1 - beta1 ** step)))


class NAdam(_AdamVariant):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_implementation_flags("NAdam", foreach, None, capturable, differentiable)
        _check_adam_like(lr, betas, eps, weight_decay)
        check_hyperparameter("momentum_decay", momentum_decay, label="momentum_decay value")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _init_state(self, param, state, group):
        state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
        state["mu_product"] = creation.tensor(1.0, dtype=step_count_dtype())
        state["exp_avg"] = creation.zeros_like(param)
        state["exp_avg_sq"] = creation.zeros_like(param)

    @staticmethod
    def _schedule(group, state):
        """Advance the step count and Π; the two step sizes (of g and of m)."""
        lr, beta1, psi = group["lr"], group["betas"][0], group["momentum_decay"]
        state["step"].array += 1
        step = float(state["step"].array)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        product = state["mu_product"].array
        product *= mu                                  # in the step-count dtype, as torch
        product = float(product)
        return step, (-lr * (1.0 - mu) / (1.0 - product),
                      (-lr * mu_next) / (1.0 - product * mu_next))

    def _array_step(self, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            xp, theta = param.xp, param.array
            s, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            decay = self._decoupled_decay(group, param, theta)
            g = effective_grad(xp, theta, grad.array, group["maximize"], decay, g_out, s)
            step, (grad_size, momentum_size) = self._schedule(group, state)
            m, v = state["exp_avg"].array, state["exp_avg_sq"].array
            xp.subtract(g, m, out=s)
            s *= 1 - beta1
            m += s
            v *= beta2
            v += scaled(xp, xp.multiply(g, g, out=s), 1 - beta2, s)
            d = self._scratch(xp, theta, 2)
            xp.divide(v, 1 - beta2 ** step, out=d)
            xp.sqrt(d, out=d)
            d += eps
            theta += xp.multiply(xp.divide(g, d, out=s), grad_size, out=s)
            theta += xp.multiply(xp.divide(m, d, out=s), momentum_size, out=s)
            bump_versions(state["step"], state["mu_product"], state["exp_avg"],
                          state["exp_avg_sq"], param)

    def _reference_step(self, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            if group["maximize"]:
                grad = -grad
            decay = self._decoupled_decay(group, param)
            step, (grad_size, momentum_size) = self._schedule(group, state)
            if decay != 0:
                grad = grad + param * decay
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.add_((grad - exp_avg) * (1 - beta1))
            exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
            denom = (exp_avg_sq / (1 - beta2 ** step)).sqrt() + eps
            param.add_(grad / denom * grad_size)
            param.add_(exp_avg / denom * momentum_size)


class RAdam(_AdamVariant):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_implementation_flags("RAdam", foreach, None, capturable, differentiable)
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    @staticmethod
    def _rectification(group, step):
        """(1 − β₁ᵗ, √(1 − β₂ᵗ), r_t or None when ρ_t ≤ 5)."""
        beta1, beta2 = group["betas"]
        bias_correction1, bias_correction2 = 1 - beta1 ** step, 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t <= 5.0:
            return bias_correction1, bias_correction2 ** 0.5, None
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        return bias_correction1, bias_correction2 ** 0.5, rect

    def _array_step(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            xp, theta = param.xp, param.array
            s, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            decay = self._decoupled_decay(group, param, theta)
            g = effective_grad(xp, theta, grad.array, group["maximize"], decay, g_out, s)
            state["step"].array += 1
            step = float(state["step"].array)
            m, v = state["exp_avg"].array, state["exp_avg_sq"].array
            xp.subtract(g, m, out=s)
            s *= 1 - beta1
            m += s
            v *= beta2
            v += scaled(xp, xp.multiply(g, g, out=s), 1 - beta2, s)
            bias_correction1, bias_correction2_sqrt, rect = self._rectification(group, step)
            update = self._scratch(xp, theta, 2)
            xp.divide(m, bias_correction1, out=update)
            update *= lr
            if rect is not None:
                xp.sqrt(v, out=s)
                s += eps
                xp.divide(bias_correction2_sqrt, s, out=s)
                update *= s
                update *= rect
            theta -= update
            bump_versions(state["step"], state["exp_avg"], state["exp_avg_sq"], param)

    def _reference_step(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for param, grad, state in self._params_with_state(group):
            if group["maximize"]:
                grad = -grad
            state["step"] += 1
            step = float(state["step"])
            decay = self._decoupled_decay(group, param)
            if decay != 0:
                grad = grad + param * decay
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.add_((grad - exp_avg) * (1 - beta1))
            exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
            bias_correction1, bias_correction2_sqrt, rect = self._rectification(group, step)
            update = exp_avg / bias_correction1 * lr
            if rect is not None:
                update = update * (bias_correction2_sqrt / (exp_avg_sq.sqrt() + eps)) * rect
            param.sub_(update)
