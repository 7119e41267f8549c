"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), as PyTorch computes them.

Gradient descent, and what Adam adds
------------------------------------
One seed document prints Adam as (docs/seeds.md#errata-002)

    θ ← θ − α ∇J(θ)                                              (printed)

which is plain gradient descent: no moments, no bias correction. Adam keeps two
exponential moving averages of the gradient g_t = ∇J(θ_{t−1}) and steps along their ratio:

    m_t = β₁ m_{t−1} + (1 − β₁) g_t            first moment  (m_0 = 0)
    v_t = β₂ v_{t−1} + (1 − β₂) g_t²           second moment (v_0 = 0, g² elementwise)
    m̂_t = m_t / (1 − β₁ᵗ),   v̂_t = v_t / (1 − β₂ᵗ)             bias correction
    θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)

Why the corrections. Unrolling the recursion from m_0 = 0,

    m_t = (1 − β₁) Σ_{i=1..t} β₁^{t−i} g_i,

so if the gradients have a stationary mean E[g], then

    E[m_t] = E[g] (1 − β₁) Σ_{i=1..t} β₁^{t−i} = E[g] (1 − β₁ᵗ)

(a geometric sum). The average is biased toward its zero start by exactly the factor
(1 − β₁ᵗ), and dividing by it removes the bias; likewise E[v_t] = E[g²](1 − β₂ᵗ). Without
it the first steps would be far too small for m (β₁ = 0.9: m_1 = 0.1 g_1) and, worse, too
large once divided by an under-estimated √v (β₂ = 0.999: √v_1 = 0.03 |g_1|). With it the
first step is α g_1/(|g_1| + ε) ≈ α sign(g_1): each coordinate moves by about α, whatever
the gradient's scale, which is Adam's point.

PyTorch's arithmetic, reproduced here so trajectories agree to rounding: the moments are
updated in place (m by ``lerp``, m ← m + (1 − β₁)(g − m)), the step is
``θ ← θ − (α / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`` (ε is added *after* the
correction of √v), the step count t is kept per parameter as a float32 0-d tensor, and
options follow ``torch.optim.Adam``:

* ``weight_decay`` λ (Adam): g ← g + λ θ before the moments (L2 regularisation);
* decoupled decay (AdamW, or ``decoupled_weight_decay=True``): θ ← θ (1 − α λ) first, and
  the gradient is left alone, so the decay is not rescaled by 1/√v̂;
* ``amsgrad``: divide by √(max_{i≤t} v_i) (bias-corrected) instead of √v_t;
* ``maximize``: ascend, by using −g.

The array path (default; ``optimizer.py``) computes this with ufuncs ``out=`` into the
state and two scratch arrays s, g′ — 11 calls per parameter in the plain case:

    g′ ← −g (maximize);   s ← θ·λ;   g′ ← g′ + s          (L2 decay)   or   θ ← θ·(1 − αλ)
    s ← g − m;   s ← s·(1 − β₁);   m ← m + s
    v ← v·β₂;   s ← g·g;   s ← s·(1 − β₂);   v ← v + s
    (amsgrad: v̄ ← max(v̄, v), used for v below)
    s ← √v;   s ← s / √(1 − β₂ᵗ);   s ← s + ε;   s ← m / s;   s ← s·(−α/(1 − β₁ᵗ));   θ ← θ + s

the operations, and their order, of the Tensor path (``_reference_step``,
``foreach=False``), so both round identically.

On the GPU (parameters that are CuPy arrays) the array path updates all parameters of a
group and dtype in ONE kernel launch instead of 11 per parameter: parameters and moments
become views into flat buffers (``flat_buffers.py``), the gradients are gathered into one,
and ``kernels.adam_update`` (catalogue name ``"adam_update"``; the numba.cuda kernel of
``kernels/cuda/optimizer.py`` for float32, the xp reference otherwise) applies the rule
above, with the same operations in the same order, so CPU and GPU agree bit for bit.
``FLAT_ARRAY_MODULES`` names the array modules that take this path; the CPU keeps the
per-parameter loop (a flat buffer measured no faster there, ``optimizer.py``), and the tests
add ``"numpy"`` to check the flat path against it on CPU, through the reference.  A bucket
whose parameters have different step counts (one added to the group later) takes the
per-parameter loop.
"""
import minigrad_kernels as kernels

from .. import creation
from .flat_buffers import FlatBuffers
from .optimizer import (Optimizer, bump_versions, check_hyperparameter,
                        check_implementation_flags, effective_grad, scaled, step_count_dtype)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    amsgrad=False, *, foreach=None, maximize=False, capturable=False, differentiable=False,
    fused=None, decoupled_weight_decay=False)``: ``foreach=False`` takes the Tensor-op
    path; ``capturable`` and ``differentiable`` raise NotImplementedError."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_implementation_flags(type(self).__name__, foreach, fused, capturable,
                                   differentiable)
        check_hyperparameter("lr", lr, label="learning rate")
        check_hyperparameter("eps", eps, label="epsilon value")
        check_hyperparameter("beta", betas[0], high=1.0, label="beta parameter at index 0")
        check_hyperparameter("beta", betas[1], high=1.0, label="beta parameter at index 1")
        check_hyperparameter("weight_decay", weight_decay, label="weight_decay value")
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        self._flat_buffers = {}      # (group index, array module, dtype) -> FlatBuffers

    # Array modules whose parameters take the one-launch flat update (module docstring).
    FLAT_ARRAY_MODULES = ("cupy",)

    def _init_state(self, param, state, group):
        # The step count is a 0-d float tensor, as in PyTorch's state_dict.
        state["step"] = creation.tensor(0.0, dtype=step_count_dtype())
        state["exp_avg"] = creation.zeros_like(param)
        state["exp_avg_sq"] = creation.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = creation.zeros_like(param)

    def _array_step(self, group):
        """One Adam update of the group on the parameters' arrays (formulas above): one
        flat launch per (array module, dtype) bucket on the GPU, else per parameter."""
        buckets = {}
        for entry in self._params_with_state(group):
            param = entry[0]
            key = (param.xp.__name__, param.array.dtype)
            buckets.setdefault(key, []).append(entry)
        for key, entries in buckets.items():
            steps = {float(state["step"].array) for _, _, state in entries}
            if key[0] in self.FLAT_ARRAY_MODULES and len(steps) == 1:
                self._flat_step(group, key, entries)
            else:
                for param, grad, state in entries:
                    self._param_step(group, param, grad, state)

    def _flat_step(self, group, key, entries):
        """The group's ``key`` bucket updated by one ``kernels.adam_update`` over flat
        buffers (packed on first use, and again whenever the packing was broken)."""
        params = [param for param, _, _ in entries]
        states = [state for _, _, state in entries]
        names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        xp = params[0].xp
        slot = (next(i for i, g in enumerate(self.param_groups) if g is group),) + key
        flat = self._flat_buffers.get(slot)
        if flat is None or not flat.holds(params, states, names):
            flat = self._flat_buffers[slot] = FlatBuffers(xp, params, states, names)
        grad = flat.gather_grads(xp, [grad.array for _, grad, _ in entries])
        for state in states:
            state["step"].array += 1
        beta1, beta2 = group["betas"]
        kernels.adam_update(flat.theta, grad, flat.state["exp_avg"], flat.state["exp_avg_sq"],
                            flat.state.get("max_exp_avg_sq"), float(states[0]["step"].array),
                            group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                            group["decoupled_weight_decay"], group["maximize"])
        bump_versions(*flat.tensors(), *(state["step"] for state in states))

    def _param_step(self, group, param, grad, state):
        """One Adam update of one parameter with whole-array ufuncs into scratch buffers."""
        lr, (beta1, beta2) = group["lr"], group["betas"]
        eps, weight_decay, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        xp, theta = param.xp, param.array
        s, g_out = self._scratch(xp, theta, 0), self._scratch(xp, theta, 1)
        g = effective_grad(xp, theta, grad.array, group["maximize"],
                           0 if decoupled else weight_decay, g_out, s)
        step_count = state["step"]
        step_count.array += 1     # on the host: reading it back costs no device sync
        step = float(step_count.array)
        if decoupled and weight_decay != 0:
            theta *= 1 - lr * weight_decay
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        m, v = exp_avg.array, exp_avg_sq.array
        xp.subtract(g, m, out=s)
        s *= 1 - beta1
        m += s                                                  # torch's lerp_
        v *= beta2
        v += scaled(xp, xp.multiply(g, g, out=s), 1 - beta2, s)
        written = [step_count, exp_avg, exp_avg_sq, param]
        if amsgrad:
            max_sq = state["max_exp_avg_sq"]
            v = xp.maximum(max_sq.array, v, out=max_sq.array)
            written.append(max_sq)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        xp.sqrt(v, out=s)
        s /= bias_correction2_sqrt
        s += eps
        theta += scaled(xp, xp.divide(m, s, out=s), -(lr / bias_correction1), s)
        bump_versions(*written)

    def _reference_step(self, group):
        """The same update with Tensor in-place ops (PyTorch's for-loop form)."""
        lr, (beta1, beta2) = group["lr"], group["betas"]
        eps, weight_decay, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
        for param, grad, state in self._params_with_state(group):
            if group["maximize"]:
                grad = -grad
            state["step"] += 1
            step = float(state["step"])
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad + param * weight_decay
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.add_((grad - exp_avg) * (1 - beta1))          # torch's lerp_
            exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            step_size = lr / bias_correction1
            if amsgrad:
                max_sq = state["max_exp_avg_sq"]
                max_sq.copy_(max_sq.maximum(exp_avg_sq))
                denom = max_sq.sqrt() / bias_correction2_sqrt + eps
            else:
                denom = exp_avg_sq.sqrt() / bias_correction2_sqrt + eps
            param.add_(exp_avg / denom, alpha=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ (1 − α λ) before the Adam step.
    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False,
    fused=None)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
