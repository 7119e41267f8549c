"""The 1-2-1 network of docs/seeds.md#errata-002 (ReLU hidden layer, sigmoid output, binary
cross-entropy), trained by hand-written backprop equal to minigrad's autograd at every step.

The seed's network has no biases; neither has this one, so its pseudo-code can be compared
line by line.  For one sample (x, y) with x a scalar and y ∈ {0, 1}:

    z1 = x w1   (w1 ∈ ℝ², one weight per hidden unit)     a = ReLU(z1)
    z2 = a · w2 (w2 ∈ ℝ²)                                ŷ = σ(z2)
    ℓ  = −[y log ŷ + (1 − y) log(1 − ŷ)]

The data set is y = 1[x > 0], which the network can fit (w1 = (1, −1), w2 = (k, −k) gives
z2 = k x) only because its two hidden units have different weights.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .worked_item import WorkedItem, as_array, assert_matches, leaf, rng, sigmoid

PRINTED = """seed 002 §4.2 (pseudo-code, verbatim):
    for epoch in range(num_epochs):
        for (x_i, y_i) in training_data:
            # 前向传播
            z = x_i * w1
            a = ReLU(z)
            z = a * w2
            y_hat = Sigmoid(z)
            # 计算损失函数
            loss = CrossEntropy(y_i, y_hat)
            # 反向传播
            dloss_dz = (y_i - y_hat)
            da_dz = 1 if a > 0 else 0
            dz_da = w2
            dz_dw2 = a
            da_dx = x_i
            dx_dw1 = z
            dz_dw1 = x_i * da_dz * dz_da
            # 更新模型参数
            w2 = w2 - learning_rate * dz_dw2
            w1 = w1 - learning_rate * dz_dw1"""

ERROR = """\
* Sign.  For σ + binary cross-entropy ∂ℓ/∂z2 = ŷ − y; the seed writes y − ŷ.  Used in
  w ← w − lr·grad it is gradient *ascent*: every step makes the loss larger.
* dloss_dz is computed and never used: w2 -= lr·a and w1 -= lr·x·1[a>0]·w2 contain no error
  term at all, so the updates are the same whatever the label y (and for y = ŷ, where the
  gradient is zero, the weights still move).
* w1 is a scalar.  With two hidden units z1 = x·w1 needs w1 ∈ ℝ²; with one shared scalar
  both units compute the same a, the hidden layer collapses to one unit and y = 1[x > 0]
  cannot be fitted (for x < 0 every unit is 0 and ŷ = σ(0) = ½).
* The names chain nothing: z is overwritten (hidden and output pre-activation are both
  "z"), dx_dw1 = z and da_dx = x_i are never used, and da_dz must be the ReLU derivative at
  z1 (1[z1 > 0], per unit), not of a scalar a."""

DERIVATION = """\
1. Output.  ℓ = −y log σ(z2) − (1 − y) log(1 − σ(z2)).  With σ′ = σ(1 − σ):
       ∂ℓ/∂z2 = −y (1 − ŷ) + (1 − y) ŷ = ŷ − y
   (the σ′ of the sigmoid cancels the 1/ŷ of the log — why sigmoid and BCE are paired).
2. Output weights.  z2 = Σ_j a_j w2_j:   ∂ℓ/∂w2 = (ŷ − y) a            (a vector in ℝ²)
3. Back into the hidden layer:          ∂ℓ/∂a  = (ŷ − y) w2
4. Through ReLU (derivative 1[z1 > 0], 0 at the kink as PyTorch):
       ∂ℓ/∂z1 = (ŷ − y) w2 ⊙ 1[z1 > 0]
5. Hidden weights.  z1 = x w1:          ∂ℓ/∂w1 = (ŷ − y) x (w2 ⊙ 1[z1 > 0])
6. Update (per sample, as the seed's loop):  w ← w − lr ∂ℓ/∂w for w1 and w2.
Every step of ``train_by_hand`` computes 1–5 in numpy and asserts them equal to what
minigrad's autograd returns for the same w1, w2, x, y."""

EXAMPLE = """\
from minigrad.textbook import one_two_one_network as item
history = item.train_by_hand(epochs=20, lr=0.5)
print(history["loss"][0], "->", history["loss"][-1], "accuracy", history["accuracy"])
print(max(history["max_diff"]))          # hand vs autograd, worst step
print(item.printed_form())"""


def make_data(seed=0, n=16):
    """x uniform on [−2, 2] (away from 0), y = 1[x > 0]."""
    g = rng(seed)
    x = g.uniform(0.1, 2.0, size=n) * g.choice([-1.0, 1.0], size=n)
    return x, (x > 0).astype(np.float64)


def initial_weights(seed=0):
    g = rng(seed + 1)
    return g.normal(size=2), g.normal(size=2)


def bce_from_logit(y, z2):
    """−[y log σ(z2) + (1 − y) log(1 − σ(z2))] = max(z2, 0) − y z2 + log(1 + e^−|z2|),
    finite however far the seed's loop drives z2."""
    return float(max(z2, 0.0) - y * z2 + np.log1p(np.exp(-abs(z2))))


def forward(w1, w2, x):
    z1 = x * w1
    a = np.maximum(z1, 0.0)
    z2 = float(a @ w2)
    return z1, a, z2, float(sigmoid(z2))


def hand_gradients(w1, w2, x, y):
    """Steps 1–5 of the derivation: (∂ℓ/∂w1, ∂ℓ/∂w2)."""
    z1, a, _, y_hat = forward(w1, w2, x)
    dz2 = y_hat - y
    dw2 = dz2 * a
    dz1 = dz2 * w2 * (z1 > 0)
    return dz1 * x, dw2


def autograd_gradients(w1, w2, x, y):
    """The same network in minigrad, loss by ``F.binary_cross_entropy``."""
    t1, t2 = leaf(w1), leaf(w2)
    a = mg.relu(mg.tensor(np.float64(x)) * t1)
    y_hat = mg.sigmoid((a * t2).sum())
    loss = F.binary_cross_entropy(y_hat, mg.tensor(np.float64(y)))
    loss.backward()
    return as_array(t1.grad), as_array(t2.grad)


def mean_loss(w1, w2, xs, ys):
    return float(np.mean([bce_from_logit(y, forward(w1, w2, x)[2]) for x, y in zip(xs, ys)]))


def accuracy(w1, w2, xs, ys):
    return float(np.mean([(forward(w1, w2, x)[3] > 0.5) == (y == 1) for x, y in zip(xs, ys)]))


def train_by_hand(epochs=20, lr=0.5, seed=0):
    """The seed's per-sample loop, corrected; asserts hand == autograd at every step."""
    xs, ys = make_data(seed)
    w1, w2 = initial_weights(seed)
    history = {"loss": [mean_loss(w1, w2, xs, ys)], "max_diff": []}
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            g1, g2 = hand_gradients(w1, w2, x, y)
            a1, a2 = autograd_gradients(w1, w2, x, y)
            history["max_diff"].append(max(assert_matches("dl/dw1", g1, a1),
                                           assert_matches("dl/dw2", g2, a2)))
            w1, w2 = w1 - lr * g1, w2 - lr * g2
        history["loss"].append(mean_loss(w1, w2, xs, ys))
    history["w1"], history["w2"] = w1, w2
    history["accuracy"] = accuracy(w1, w2, xs, ys)
    return history


def check(seed=0):
    history = train_by_hand(epochs=5, seed=seed)
    return {"dl/dw1, dl/dw2 over 80 SGD steps": max(history["max_diff"])}


def seed_step(w1, w2, x, y, lr, scalar_w1=False):
    """One update of the seed's pseudo-code, literally (w1 a vector unless ``scalar_w1``)."""
    if scalar_w1:
        w1 = np.full(2, w1[0])
    z = x * w1
    a = np.maximum(z, 0.0)
    da_dz = (a > 0).astype(np.float64)
    dz_dw1 = x * da_dz * w2
    return w1 - lr * dz_dw1, w2 - lr * a


def sign_flipped_step(w1, w2, x, y, lr):
    """The correct chain rule, but with the seed's dloss_dz = y − ŷ."""
    g1, g2 = hand_gradients(w1, w2, x, y)       # both carry the factor (ŷ − y)
    return w1 + lr * g1, w2 + lr * g2


def printed_form_errors(seed=0, lr=0.05):
    xs, ys = make_data(seed)
    w1, w2 = initial_weights(seed)
    # The first sample that reaches the output (some hidden unit active): its gradient ≠ 0.
    i = next(i for i, x in enumerate(xs) if np.any(x * w1 > 0))
    x, y = xs[i], ys[i]
    before = bce_from_logit(y, forward(w1, w2, x)[2])
    flipped = bce_from_logit(y, forward(*sign_flipped_step(w1, w2, x, y, lr), x)[2])
    g1, g2 = hand_gradients(w1, w2, x, y)
    correct = bce_from_logit(y, forward(w1 - lr * g1, w2 - lr * g2, x)[2])
    # The seed's update does not look at y: the same step for either label.
    step_y0, step_y1 = seed_step(w1, w2, x, 0.0, lr), seed_step(w1, w2, x, 1.0, lr)
    label_blind = all(np.array_equal(a, b) for a, b in zip(step_y0, step_y1))
    # Train with the seed's literal loop, and with the correct one on a scalar w1.
    s1, s2 = w1.copy(), w2.copy()
    for _ in range(20):
        for xi, yi in zip(xs, ys):
            s1, s2 = seed_step(s1, s2, xi, yi, 0.5)
    seed_loss = mean_loss(s1, s2, xs, ys)
    tied = train_scalar_w1(xs, ys, w1[0], w2)
    return {"initial_loss": mean_loss(w1, w2, xs, ys), "loss_before": before,
            "loss_after_flipped": flipped, "loss_after_correct": correct,
            "label_blind": label_blind, "seed_loop_loss": seed_loss,
            "scalar_w1_accuracy": tied["accuracy"], "scalar_w1_loss": tied["loss"],
            "scalar_w1_undecided": tied["undecided"], "n": tied["n"]}


def train_scalar_w1(xs, ys, w1, w2, epochs=20, lr=0.5):
    """The correct gradients, but with the seed's scalar w1 shared by both hidden units."""
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            g1, g2 = hand_gradients(np.full(2, w1), w2, x, y)
            w1, w2 = w1 - lr * g1.sum(), w2 - lr * g2       # a shared weight sums its grads
    w = np.full(2, w1)
    undecided = sum(forward(w, w2, x)[2] == 0.0 for x in xs)      # ŷ = σ(0) = ½ exactly
    return {"accuracy": accuracy(w, w2, xs, ys), "loss": mean_loss(w, w2, xs, ys),
            "undecided": int(undecided), "n": len(xs)}


def printed_form():
    e = printed_form_errors()
    return (f"one step with the seed's sign: loss {e['loss_before']:.4f} → "
            f"{e['loss_after_flipped']:.4f} (correct sign → {e['loss_after_correct']:.4f}); "
            f"its update ignores y: {e['label_blind']}; its loop ends at loss "
            f"{e['seed_loop_loss']:.3g} (start {e['initial_loss']:.3f}); with a scalar w1, "
            f"trained correctly, ŷ = ½ on {e['scalar_w1_undecided']}/{e['n']} samples "
            f"(accuracy {e['scalar_w1_accuracy']:.2f})")


ITEM = WorkedItem(
    key="one_two_one_network",
    title="A 1-2-1 network trained by hand-written backprop",
    source="seed 002 §4.2",
    printed=PRINTED, error=ERROR, derivation=DERIVATION, example=EXAMPLE,
    check=check, printed_form=printed_form)
