"""Adam as docs/seeds.md#errata-002 prints it (gradient descent) and as it is, bias-corrected;
a hand-written loop equal to ``minigrad.optim.Adam`` step by step; SGD with momentum as
docs/seeds.md#seed-004 trains with it (lr 0.001, momentum 0.9), equal to ``minigrad.optim.SGD``.

The problem is a badly scaled least-squares fit, the case Adam was made for:

    J(θ) = ½ ‖A θ − y‖²,   ∇J = Aᵀ (A θ − y),   A's columns scaled by 10 and 0.1
"""
import numpy as np

import minigrad as mg

from .worked_item import WorkedItem, as_array, assert_matches, leaf, rng

PRINTED = r"""seed 002 §4.1 (优化算法):
    $$ \theta_{t+1} = \theta_{t} - \alpha \cdot \nabla_\theta J(\theta) \quad (梯度下降) $$
    $$ \theta_{t+1} = \theta_{t} - \alpha \cdot \nabla_\theta J(\theta) \quad (Adam) $$
seed 004 §5.2:  optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)"""

ERROR = """\
* The line labelled Adam is the gradient-descent line above it, character for character:
  no moments, no per-coordinate scaling, no bias correction.  Adam's step is
  α m̂/(√v̂ + ε), whose size is about α in every coordinate whatever the gradient's scale;
  gradient descent's step is α g, which on a badly scaled problem is either unstable along
  the steep direction or stalled along the flat one.
* 004's momentum SGD is given only as code; its update rule (PyTorch's) is written out below."""

DERIVATION = """\
Adam, for g_t = ∇J(θ_{t−1}), m_0 = v_0 = 0:
    m_t = β₁ m_{t−1} + (1 − β₁) g_t          v_t = β₂ v_{t−1} + (1 − β₂) g_t²
    m̂_t = m_t / (1 − β₁ᵗ)                    v̂_t = v_t / (1 − β₂ᵗ)
    θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)
Why the correction: unrolling from m_0 = 0,
    m_t = (1 − β₁) Σ_{i=1..t} β₁^{t−i} g_i,
so for gradients with a stationary mean E[g], by linearity and a geometric sum
    E[m_t] = (1 − β₁) (1 + β₁ + … + β₁^{t−1}) E[g] = (1 − β₁ᵗ) E[g],
and likewise E[v_t] = (1 − β₂ᵗ) E[g²].  The zero start biases both toward 0, by exactly
those factors; m̂, v̂ remove it.  Uncorrected, the first step is
α (1 − β₁) g / (√(1 − β₂) |g| + ε) ≈ 3.16 α sign(g) for β = (0.9, 0.999), corrected it is
α g/(|g| + ε) ≈ α sign(g).
SGD with momentum μ (PyTorch's form, as 004 uses it), dampening 0:
    b_1 = g_1,   b_t = μ b_{t−1} + g_t,   θ_t = θ_{t−1} − α b_t
(equivalently, for a constant α, the velocity form u_t = μ u_{t−1} − α g_t, θ_t = θ_{t−1} + u_t,
with u_t = −α b_t).
The hand gradient ∇J = Aᵀ(Aθ − y) is asserted equal to autograd's at every step, and the
hand update equal to the optimizer's."""

EXAMPLE = """\
from minigrad.textbook import adam as item
print(item.check())                      # hand ∇J, hand Adam and hand momentum vs minigrad
print(item.bias_correction_demo())       # E[m_t] = (1 − β₁ᵗ) E[g], measured
print(item.printed_form())               # "Adam" as printed (= GD) vs Adam"""


def make_problem(seed=0, rows=8):
    g = rng(seed)
    a = g.normal(size=(rows, 2)) * np.array([10.0, 0.1])
    return a, g.normal(size=rows), np.zeros(2)


def loss(a, y, theta):
    r = a @ theta - y
    return 0.5 * float(r @ r)


def hand_gradient(a, y, theta):
    return a.T @ (a @ theta - y)


def autograd_gradient(param, a, y):
    """∇J at the current value of the minigrad parameter, filling ``param.grad``."""
    param.grad = None
    r = mg.tensor(a) @ param - mg.tensor(y)
    (0.5 * (r * r).sum()).backward()
    return as_array(param.grad)


def adam_by_hand(a, y, theta, steps, lr=0.1, betas=(0.9, 0.999), eps=1e-8,
                 bias_correction=True):
    """The textbook recursion; returns the trajectory θ_1 … θ_steps."""
    (b1, b2), m, v, out = betas, np.zeros_like(theta), np.zeros_like(theta), []
    for t in range(1, steps + 1):
        g = hand_gradient(a, y, theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def momentum_by_hand(a, y, theta, steps, lr=0.001, momentum=0.9):
    """PyTorch's momentum SGD; returns the trajectory."""
    buf, out = None, []
    for _ in range(steps):
        g = hand_gradient(a, y, theta)
        buf = g.copy() if buf is None else momentum * buf + g
        theta = theta - lr * buf
        out.append(theta)
    return out


def velocity_form(a, y, theta, steps, lr=0.001, momentum=0.9):
    """u ← μ u − α g, θ ← θ + u: the same trajectory for a constant α."""
    u, out = np.zeros_like(theta), []
    for _ in range(steps):
        u = momentum * u - lr * hand_gradient(a, y, theta)
        theta = theta + u
        out.append(theta)
    return out


def optimizer_trajectory(make_optimizer, a, y, theta, steps):
    """θ after each ``step()`` of a minigrad optimizer; checks hand ∇J == autograd each time."""
    param = leaf(theta)
    opt, out, grad_diff = make_optimizer([param]), [], 0.0
    for _ in range(steps):
        auto = autograd_gradient(param, a, y)
        grad_diff = max(grad_diff, assert_matches("∇J", hand_gradient(a, y, as_array(param)),
                                                  auto))
        opt.step()
        out.append(as_array(param))
    return out, grad_diff


def check(seed=0, steps=50):
    a, y, theta = make_problem(seed)
    diffs = {}
    adam, diffs["∇J (Adam run)"] = optimizer_trajectory(
        lambda p: mg.optim.Adam(p, lr=0.1), a, y, theta, steps)
    diffs["θ_t: hand Adam vs optim.Adam"] = max(
        assert_matches("Adam θ", h, m) for h, m in zip(adam_by_hand(a, y, theta, steps), adam))
    sgd, diffs["∇J (SGD run)"] = optimizer_trajectory(
        lambda p: mg.optim.SGD(p, lr=0.001, momentum=0.9), a, y, theta, steps)
    hand = momentum_by_hand(a, y, theta, steps)
    diffs["θ_t: hand momentum vs optim.SGD"] = max(
        assert_matches("SGD θ", h, m) for h, m in zip(hand, sgd))
    diffs["θ_t: velocity form vs buffer form"] = max(
        assert_matches("velocity θ", h, v) for h, v in zip(hand, velocity_form(a, y, theta,
                                                                               steps)))
    return diffs


def bias_correction_demo(beta1=0.9, steps=10, runs=200_000, mean=1.5, seed=0):
    """Average m_t over many runs of i.i.d. gradients with mean ``mean``: (1 − β₁ᵗ)·mean."""
    g = rng(seed).normal(loc=mean, size=(steps, runs))
    m, rows = np.zeros(runs), []
    for t in range(1, steps + 1):
        m = beta1 * m + (1 - beta1) * g[t - 1]
        rows.append((t, float(m.mean()), (1 - beta1 ** t) * mean,
                     float(m.mean()) / (1 - beta1 ** t)))
    return rows                              # (t, mean m_t, (1 − β₁ᵗ) E[g], mean m̂_t)


def printed_form_errors(seed=0, steps=100, lr=0.1):
    a, y, theta = make_problem(seed)
    def gradient_descent(step):              # the printed "Adam": θ − α ∇J
        t = theta
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(steps):
                t = t - step * hand_gradient(a, y, t)
            return loss(a, y, t)
    stable_lr = 1.0 / np.linalg.eigvalsh(a.T @ a).max()      # the largest well-behaved step
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    adam = adam_by_hand(a, y, theta, steps, lr=lr)[-1]
    first = adam_by_hand(a, y, theta, 1, lr=lr)[0] - theta
    first_raw = adam_by_hand(a, y, theta, 1, lr=lr, bias_correction=False)[0] - theta
    return {"optimum_loss": loss(a, y, best), "printed_loss": gradient_descent(lr),
            "printed_loss_stable_lr": gradient_descent(stable_lr), "stable_lr": stable_lr,
            "initial_loss": loss(a, y, theta),
            "adam_loss": loss(a, y, adam), "lr": lr,
            "first_step": np.abs(first).tolist(), "first_step_uncorrected": np.abs(
                first_raw).tolist()}


def printed_form():
    e = printed_form_errors()
    fmt = lambda v: "[" + ", ".join(f"{x:.3g}" for x in v) + "]"  # noqa: E731
    return (f"100 steps from loss {e['initial_loss']:.4g}: the printed 'Adam' (= GD) at α = "
            f"{e['lr']} ends at {e['printed_loss']:.3g}, at its largest stable α = "
            f"{e['stable_lr']:.2g} at {e['printed_loss_stable_lr']:.4g}; Adam at α = {e['lr']} at "
            f"{e['adam_loss']:.4g} (optimum {e['optimum_loss']:.4g}); Adam's first step "
            f"|Δθ| = {fmt(e['first_step'])}, without bias correction "
            f"{fmt(e['first_step_uncorrected'])}")


ITEM = WorkedItem(
    key="adam",
    title="Adam with bias correction, and SGD with momentum",
    source="seed 002 §4.1 (Adam printed as gradient descent); seed 004 §5.2 (momentum SGD)",
    printed=PRINTED, error=ERROR, derivation=DERIVATION, example=EXAMPLE,
    check=check, printed_form=printed_form)
