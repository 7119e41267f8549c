"""Softmax and cross-entropy (printed forms: docs/seeds.md#errata-001): sigmoid for ten
classes versus softmax, cross-entropy from logits by the log-sum-exp trick, its gradient
softmax(z) − y, and the softmax Jacobian diag(p) − p pᵀ, each by hand against autograd.

Shapes: logits z (N, C), class ids t (N,) or class probabilities y (N, C); the loss is the
batch mean, as ``F.cross_entropy``'s default ``reduction='mean'``.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .worked_item import WorkedItem, as_array, assert_matches, leaf, rng, sigmoid

PRINTED = r"""seed 001 §4.3 (steps 6–8 of the CNN walk-through, 10 classes):
    6. $$ z = x \cdot w + b $$
    7. $$ f(x) = \sigma(z) $$   ("对输出向量进行 sigmoid 激活，得到每个类别的概率分布")
    8. $$ L = - \sum_{i=1}^{N} y_i \log (\hat{y}_i) $$
seed 002 §4.1:  $$ \text{CrossEntropy}(y, \hat{y}) = -\sum_{i} y_i \log(\hat{y}_i) $$"""

ERROR = """\
* σ applied to each of ten logits gives ten numbers in (0, 1) that need not sum to 1: not a
  probability distribution.  With a one-hot y, −Σ y_i log σ(z_i) sees only the true class;
  its gradient with respect to every other logit is 0, so nothing pushes wrong classes down
  and the loss goes to 0 by making *all* logits large.  A C-way classifier uses softmax
  (the seed's own Keras code does: Dense(10, activation='softmax')).
* −Σ y log ŷ evaluated as written, on a softmax computed as e^z/Σe^z, overflows: e^1000 is
  inf in float64 and the loss becomes nan.  It must be computed from the logits by
  log-softmax with the maximum subtracted (the log-sum-exp trick)."""

DERIVATION = """\
1. Softmax: p_i = e^{z_i} / Σ_j e^{z_j}; p_i > 0 and Σ p_i = 1.  It is unchanged by adding a
   constant to every z_i, so subtract m = max_j z_j: no exponent is positive, none overflows.
2. Log-softmax (log-sum-exp trick):
       log p_i = z_i − logsumexp(z),   logsumexp(z) = m + log Σ_j e^{z_j − m}
   (the sum is ≥ 1, so the log never sees 0).
3. Cross-entropy from logits, target distribution y (one-hot for a class id t):
       ℓ = −Σ_i y_i log p_i = logsumexp(z) Σ_i y_i − Σ_i y_i z_i = logsumexp(z) − y · z
4. Gradient: ∂ logsumexp/∂z_k = e^{z_k}/Σ e^{z_j} = p_k, so with Σ y = 1
       ∂ℓ/∂z = p − y                      (a batch mean divides by N)
5. Softmax Jacobian: ∂p_i/∂z_k = p_i (δ_ik − p_k), i.e.  J = diag(p) − p pᵀ, symmetric; its
   VJP is J dp = p ⊙ (dp − p · dp).  Chaining step 2's ∂ℓ/∂p = −y/p through it gives
   J(−y/p) = −y + p Σ y = p − y again.
6. Sigmoid per class, the printed form: ℓ = −Σ y_i log σ(z_i) = −log σ(z_t), so
   ∂ℓ/∂z_t = σ(z_t) − 1 and ∂ℓ/∂z_k = 0 for k ≠ t."""

EXAMPLE = """\
from minigrad.textbook import softmax_cross_entropy as item
print(item.check())                      # loss, ∂ℓ/∂z = p − y, Jacobian: hand vs autograd
print(item.printed_form())               # sigmoid "distribution", zero gradients, overflow"""


def log_softmax(z):
    """Steps 1–2: z − (m + log Σ e^{z − m}) along the last axis."""
    m = z.max(axis=-1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))


def softmax(z):
    return np.exp(log_softmax(z))


def naive_softmax(z):
    """e^z / Σ e^z as printed: overflows for large logits."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def one_hot(t, classes):
    return (np.arange(classes)[None, :] == t[:, None]).astype(np.float64)


def cross_entropy(z, y):
    """Step 3, batch mean: mean_n (−Σ_i y_ni log p_ni)."""
    return float(-(y * log_softmax(z)).sum(axis=-1).mean())


def cross_entropy_gradient(z, y):
    """Step 4: (softmax(z) − y) / N."""
    return (softmax(z) - y) / z.shape[0]


def softmax_jacobian(z):
    """Step 5 for one row z: diag(p) − p pᵀ."""
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


def autograd_jacobian(z):
    """Row i of ∂softmax(z)/∂z is the VJP of the i-th one-hot vector."""
    t = leaf(z)
    p = mg.softmax(t, dim=-1)
    rows = []
    for i in range(z.shape[0]):
        e = np.zeros(z.shape[0])
        e[i] = 1.0
        (g,) = mg.autograd.grad(p, t, grad_outputs=mg.tensor(e), retain_graph=True)
        rows.append(as_array(g))
    return np.stack(rows)


def autograd_loss_and_gradient(z, target):
    """``F.cross_entropy`` (class ids or class probabilities) and its ∂ℓ/∂z."""
    t = leaf(z)
    loss = F.cross_entropy(t, mg.tensor(target))
    loss.backward()
    return float(loss.item()), as_array(t.grad)


def check(seed=0, n=5, classes=10):
    g = rng(seed)
    z = g.normal(size=(n, classes)) * 3
    ids = g.integers(0, classes, size=n)
    probs = softmax(g.normal(size=(n, classes)))           # soft targets, rows sum to 1
    big = np.array([[1000.0, 0.0, -1000.0, 999.0]])          # overflows the naive form
    diffs = {}
    for name, logits, target, y in (("class ids", z, ids, one_hot(ids, classes)),
                                    ("class probabilities", z, probs, probs),
                                    ("logits ±1000", big, np.array([3]), one_hot(
                                        np.array([3]), 4))):
        loss, grad = autograd_loss_and_gradient(logits, target)
        diffs[f"ℓ, {name}"] = assert_matches("loss", cross_entropy(logits, y), loss)
        diffs[f"∂ℓ/∂z = p − y, {name}"] = assert_matches(
            "dl/dz", cross_entropy_gradient(logits, y), grad)
    for i in range(2):
        diffs[f"Jacobian diag(p) − ppᵀ, row {i}"] = assert_matches(
            "Jacobian", softmax_jacobian(z[i]), autograd_jacobian(z[i]))
    t = leaf(z[0])
    (mg.log_softmax(t, dim=-1) * mg.tensor(-one_hot(ids[:1], classes)[0])).sum().backward()
    diffs["through the Jacobian: J(−y/p) = p − y"] = assert_matches(
        "chain", softmax_jacobian(z[0]) @ (-one_hot(ids[:1], classes)[0] / softmax(z[0])),
        t.grad)
    return diffs


def sigmoid_ce_gradient(z, t):
    """Step 6: ∂/∂z of −log σ(z_t), the printed loss with a one-hot y (one row)."""
    g = np.zeros_like(z)
    g[t] = sigmoid(z[t]) - 1.0
    return g


def printed_form_errors(seed=0, classes=10):
    g = rng(seed)
    z, t = g.normal(size=classes) * 3, 2
    zt = leaf(z)
    (-(mg.log(mg.sigmoid(zt))[t])).backward()
    auto = as_array(zt.grad)
    assert_matches("sigmoid CE gradient", sigmoid_ce_gradient(z, t), auto)
    wrong = [k for k in range(classes) if k != t]
    everything_high = np.full(classes, 20.0)                  # every class "certain"
    return {
        "sigmoid_sum": float(sigmoid(z).sum()),
        "softmax_sum": float(softmax(z).sum()),
        "sigmoid_grad_wrong_classes": float(np.max(np.abs(auto[wrong]))),
        "softmax_grad_wrong_classes": float(np.max(np.abs(softmax(z)[wrong]))),
        "sigmoid_loss_all_high": float(-np.log(sigmoid(everything_high[t]))),
        "softmax_loss_all_high": float(-log_softmax(everything_high)[t]),
        "naive_softmax_big": naive_softmax(np.array([1000.0, 0.0])).tolist(),
        "stable_loss_big": float(-log_softmax(np.array([1000.0, 0.0]))[1]),
    }


def printed_form():
    e = printed_form_errors()
    return (f"ten sigmoids sum to {e['sigmoid_sum']:.3f} (softmax: {e['softmax_sum']:.3f}); "
            f"printed loss's gradient on the 9 wrong logits: {e['sigmoid_grad_wrong_classes']:g} "
            f"(softmax CE: up to {e['softmax_grad_wrong_classes']:.3f}); all logits 20 → printed "
            f"loss {e['sigmoid_loss_all_high']:.1e}, softmax CE {e['softmax_loss_all_high']:.3f}; "
            f"logits (1000, 0): naive softmax = {e['naive_softmax_big']}, so ℓ for class 1 is "
            f"−log 0; from logits ℓ = {e['stable_loss_big']:g}")


ITEM = WorkedItem(
    key="softmax_cross_entropy",
    title="Softmax, cross-entropy from logits, and the softmax Jacobian",
    source="seed 001 §4.3 steps 6–8; seed 002 §4.1",
    printed=PRINTED, error=ERROR, derivation=DERIVATION, example=EXAMPLE,
    check=check, printed_form=printed_form)
