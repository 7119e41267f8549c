"""Reference optimizer updates on flat arrays: the oracle of ``cuda/optimizer.py``.

``adam_update`` is one Adam/AdamW step over arrays of one dtype and one shape (in practice
the flat buffers that hold every parameter of a group, see ``minigrad/optim/adam.py``),
written in place, with exactly the operations, order and float32 rounding of minigrad's
``Adam._array_step`` (and so of PyTorch's for-loop Adam).  Each Python scalar is rounded
to the arrays' dtype once (numpy's and CuPy's weak-scalar rule), t is the step count
after its increment:

    g  ← −grad (maximize) else grad;     g ← g + θ·λ          (L2 decay, not decoupled)
    θ  ← θ·(1 − αλ)                                             (decoupled decay)
    m  ← m + (g − m)·(1 − β₁)                                  (torch's lerp_)
    v  ← v·β₂ + (g·g)·(1 − β₂)          (the product skipped when 1 − β₂ = 1)
    v̄  ← max(v̄, v), used for v below                          (amsgrad)
    θ  ← θ + (m / (√v / √(1 − β₂ᵗ) + ε))·(−α/(1 − β₁ᵗ))

``grad`` is only read.
"""
from ..catalogue import CATALOGUE, get_array_module


def adam_scalars(step, lr, beta1, beta2, eps, weight_decay, decoupled):
    """The Python scalars of one step, as ``Adam._array_step`` forms them (in float64):
    ``(l2_decay, decay_factor, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt,
    eps, negative_step_size)``; ``decay_factor`` is 1 without decoupled decay."""
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    return (0.0 if decoupled else weight_decay,
            1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0,
            1 - beta1, beta2, 1 - beta2, bias_correction2_sqrt, eps, -(lr / bias_correction1))


@CATALOGUE.reference("adam_update")
def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, decoupled, maximize):
    """One Adam step in place (formulas above); every array has ``param``'s shape and dtype,
    ``max_exp_avg_sq`` is None without amsgrad; returns None."""
    xp = get_array_module(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    l2, decay, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step = adam_scalars(
        step, lr, beta1, beta2, eps, weight_decay, decoupled)
    g = xp.negative(grad) if maximize else grad
    if l2 != 0:
        g = g + param * l2
    if decay != 1.0:
        param *= decay
    s = g - exp_avg
    s *= one_minus_beta1
    exp_avg += s
    exp_avg_sq *= beta2
    s = g * g
    if one_minus_beta2 != 1:
        s *= one_minus_beta2
    exp_avg_sq += s
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        v = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    s = xp.sqrt(v)
    s /= bc2_sqrt
    s += eps
    s = exp_avg / s
    if neg_step != 1:
        s *= neg_step
    param += s
