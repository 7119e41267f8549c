"""Adagrad (Duchi, Hazan & Singer 2011), as PyTorch computes it.

Each coordinate's step is divided by the root of the *sum* of all its past squared
gradients, so rarely-updated coordinates keep large steps and frequent ones slow down.
With g_t = ∇J(θ_{t−1}) (negated when ``maximize``) and the sum starting at
``initial_accumulator_value`` a:

    g_t ← g_t + λ θ_{t−1}                                 (weight_decay λ)
    η_t = lr / (1 + (t − 1) · lr_decay)                   (PyTorch's optional decay)
    G_t = G_{t−1} + g_t²                                  (G_0 = a)
    θ_t = θ_{t−1} − η_t · g_t / (√G_t + ε)

Because G only grows, the effective rate shrinks like 1/√t on a steady gradient — the
reason Adadelta and RMSprop replace the sum by a moving average. Unlike the other rules,
PyTorch creates Adagrad's state in the constructor (``sum`` filled with a, ``step`` 0)
for every parameter, with or without a gradient; so does this class.

The array path (default; ``optimizer.py``) writes ufuncs ``out=`` into the state and two
scratch arrays s, g′, in the order of the Tensor path (``_reference_step``,
``foreach=False``), so both round identically:

    g′ ← −g (maximize);   s ← θ·λ;   g′ ← g′ + s                    (weight decay)
    s ← g·g;   G ← G + s;   s ← √G;   s ← s + ε;   s ← g / s;   s ← s·(−η);   θ ← θ + s
"""
from .. import creation
from .optimizer import (Optimizer, bump_versions, check_hyperparameter,
                        check_implementation_flags, effective_grad, scaled, step_count_dtype)


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``:
    ``foreach=False`` takes the Tensor-op path; ``differentiable`` raises
    NotImplementedError; sparse gradients do not exist in minigrad."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_hyperparameter("lr", lr, label="learning rate")
        check_hyperparameter("lr_decay", lr_decay, label="lr_decay value")
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")
        check_hyperparameter("initial_accumulator_value", initial_accumulator_value,
                             label="initial_accumulator_value value")
        check_hyperparameter("eps", eps, label="epsilon value")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        check_implementation_flags("Adagrad", foreach, fused, False, differentiable)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, self.state[param], group)

    def _init_state(self, param, state, group):
        state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
        state["sum"] = creation.full_like(param, group["initial_accumulator_value"])

    @staticmethod
    def _step_size(group, state):
        state["step"].array += 1
        step = float(state["step"].array)
        return group["lr"] / (1 + (step - 1) * group["lr_decay"])

    def _array_step(self, group):
        """One Adagrad update of the group on the parameters' arrays (formulas above)."""
        for param, grad, state in self._params_with_state(group):
            xp, theta = param.xp, param.array
            s, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
            g = effective_grad(xp, theta, grad.array, group["maximize"],
                               group["weight_decay"], g_out, s)
            clr = self._step_size(group, state)
            total = state["sum"].array
            total += xp.multiply(g, g, out=s)
            xp.sqrt(total, out=s)
            s += group["eps"]
            theta += scaled(xp, xp.divide(g, s, out=s), -clr, s)
            bump_versions(state["step"], state["sum"], param)

    def _reference_step(self, group):
        """The same update with Tensor in-place ops (PyTorch's for-loop form)."""
        for param, grad, state in self._params_with_state(group):
            if group["maximize"]:
                grad = -grad
            if group["weight_decay"] != 0:
                grad = grad + param * group["weight_decay"]
            clr = self._step_size(group, state)
            state["sum"].add_(grad * grad)
            param.add_(grad / (state["sum"].sqrt() + group["eps"]), alpha=-clr)
