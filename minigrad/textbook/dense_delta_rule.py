"""The δ rule of a two-layer sigmoid network (printed forms:
docs/seeds.md#errata-000 and #errata-001), worked by hand in numpy next to minigrad's autograd.

The network is the seed's, in its column convention (one sample per column of X):

    Z1 = W1 X + b1,  L1 = σ(Z1),  Z2 = W2 L1 + b2,  L2 = σ(Z2),  J = ½ ‖L2 − Y‖²

with X (d, N), W1 (h, d), b1 (h, 1), W2 (c, h), b2 (c, 1), Y (c, N).  ``check()`` computes
δ2, δ1 and all four parameter gradients by hand and asserts they equal autograd's;
``printed_form()`` evaluates each printed variant on the same numbers.
"""
import numpy as np

import minigrad as mg

from .worked_item import WorkedItem, as_array, assert_matches, leaf, rng, sigmoid

PRINTED = r"""seed 000 §4.2.1 (forward):
    $$L_1 = \sigma(W_1 X + b_1)$$,  $$L_2 = \sigma(W_2 L_1 + b_2)$$
seed 000 §4.2.2 (backward):
    1. $$\delta_2 = (L_2 - Y) \odot \sigma'(L_2)$$
    2. $$\delta_1 = (W_2^T \delta_2) \odot \sigma'(L_1)$$
    3. $$W_2 := W_2 - \alpha \frac{\partial J}{\partial W_2}$$, ... (∂J/∂W, ∂J/∂b never given)
seed 000 §3.2.4:
    $$\delta_{l-1} = \frac{\partial z_{l-1}}{\partial z_{l}} \delta_{l}^{out}$$
    ("z_l 是输出层的激活值": z_l is called the output layer's activation)
seed 001 formula 1.3:
    $$\delta^{(l)} = \frac{\partial J}{\partial Z^{(l)}} \odot \sigma'(Z^{(l)})$$
    $$\frac{\partial J}{\partial W^{(l)}} = A^{(l-1)} \delta^{(l+1)}$$
    $$\frac{\partial J}{\partial b^{(l)}} = \delta^{(l)}$$"""

ERROR = """\
* 000 §4.2.2 writes σ′(L2), σ′(L1): the derivative is taken at the pre-activation, σ′(Z2).
  The formula is right only if σ′(L) is read as "σ′ written through the activation",
  σ′(Z) = σ(Z)(1 − σ(Z)) = L(1 − L); evaluating σ′ literally at L2 gives σ(L2)(1 − σ(L2)),
  a different number.
* 000 §4.2.2 stops at δ: the gradients the update needs, ∂J/∂W2 = δ2 L1ᵀ, ∂J/∂b2 = Σ δ2
  (and ∂J/∂W1 = δ1 Xᵀ, ∂J/∂b1 = Σ δ1), are never written.
* 000 §3.2.4 inverts the Jacobian: ∂z_{l−1}/∂z_l does not exist (z_{l−1} is not a function
  of z_l; with h > c many z1 give one z2).  Backprop multiplies by the *transpose* of the
  forward Jacobian, (∂z_l/∂z_{l−1})ᵀ.  z_l is also the pre-activation, not the activation.
* 001 formula 1.3 multiplies ∂J/∂Z by σ′(Z): ∂J/∂Z already contains σ′ (chain rule), so σ′
  is counted twice.  It must be ∂J/∂A ⊙ σ′(Z).
* 001 formula 1.3's ∂J/∂W(l) = A(l−1) δ(l+1) has the wrong layer (δ of the layer above)
  and no transpose: A(l−1) is (n_{l−1}, N) and δ(l+1) is (n_{l+1}, N), which do not even
  multiply.  ∂J/∂b(l) = δ(l) is (n_l, N) where b is (n_l, 1): the batch must be summed."""

DERIVATION = """\
1. Output error.  J = ½ Σ (L2 − Y)², so ∂J/∂L2 = L2 − Y.  L2 = σ(Z2) elementwise, so
   ∂L2/∂Z2 is diagonal with entries σ′(Z2) = L2(1 − L2):
       δ2 ≡ ∂J/∂Z2 = (L2 − Y) ⊙ L2 ⊙ (1 − L2)                          (c, N)
2. Through the linear map.  Z2 = W2 L1 + b2, so for one column ∂Z2/∂L1 = W2 (c × h) and the
   vector-Jacobian product is its transpose:
       ∂J/∂L1 = W2ᵀ δ2                                                 (h, N)
3. Hidden error.  L1 = σ(Z1):
       δ1 ≡ ∂J/∂Z1 = (W2ᵀ δ2) ⊙ L1 ⊙ (1 − L1)                           (h, N)
   In Jacobian form, for one sample: δ1 = (∂z2/∂z1)ᵀ δ2 with ∂z2/∂z1 = W2 diag(σ′(z1)).
4. Weights.  Z2[i, n] = Σ_j W2[i, j] L1[j, n] + b2[i], so ∂J/∂W2[i, j] = Σ_n δ2[i, n] L1[j, n]:
       ∂J/∂W2 = δ2 L1ᵀ   (c, h),        ∂J/∂b2 = Σ_n δ2[:, n]   (c, 1)
       ∂J/∂W1 = δ1 Xᵀ    (h, d),        ∂J/∂b1 = Σ_n δ1[:, n]   (h, 1)
   The general layer: δ(l) = ∂J/∂A(l) ⊙ σ′(Z(l)), ∂J/∂A(l−1) = W(l)ᵀ δ(l),
   ∂J/∂W(l) = δ(l) A(l−1)ᵀ, ∂J/∂b(l) = Σ_batch δ(l).
5. Update: W := W − α ∂J/∂W for each of W1, b1, W2, b2 (a mean loss divides every
   gradient by N)."""

EXAMPLE = """\
from minigrad.textbook import dense_delta_rule as item
p = item.make_problem(seed=0)
hand = item.hand_gradients(p)            # δ2, δ1, dW1, db1, dW2, db2 in numpy
print(item.check())                      # max |hand − autograd| per quantity
print(item.printed_form())"""


def make_problem(seed=0, n_in=4, n_hidden=5, n_out=3, batch=6):
    """Random float64 X, Y and parameters in the seed's column convention."""
    g = rng(seed)
    return {
        "X": g.normal(size=(n_in, batch)),
        "Y": g.uniform(size=(n_out, batch)),
        "W1": g.normal(size=(n_hidden, n_in)),
        "b1": g.normal(size=(n_hidden, 1)),
        "W2": g.normal(size=(n_out, n_hidden)),
        "b2": g.normal(size=(n_out, 1)),
    }


def forward(p):
    """Z1, L1, Z2, L2 in numpy."""
    z1 = p["W1"] @ p["X"] + p["b1"]
    l1 = sigmoid(z1)
    z2 = p["W2"] @ l1 + p["b2"]
    return z1, l1, z2, sigmoid(z2)


def loss(p):
    return 0.5 * float(np.sum((forward(p)[3] - p["Y"]) ** 2))


def hand_gradients(p):
    """The δ rule, derived above: δ2, δ1 and ∂J/∂(W1, b1, W2, b2)."""
    _, l1, _, l2 = forward(p)
    delta2 = (l2 - p["Y"]) * l2 * (1 - l2)
    delta1 = (p["W2"].T @ delta2) * l1 * (1 - l1)
    return {
        "delta2": delta2,
        "delta1": delta1,
        "W2": delta2 @ l1.T,
        "b2": delta2.sum(axis=1, keepdims=True),
        "W1": delta1 @ p["X"].T,
        "b1": delta1.sum(axis=1, keepdims=True),
    }


def autograd_gradients(p):
    """The same quantities from minigrad: δ's are the retained gradients of Z2 and Z1."""
    params = {k: leaf(p[k]) for k in ("W1", "b1", "W2", "b2")}
    x, y = mg.tensor(p["X"]), mg.tensor(p["Y"])
    z1 = params["W1"] @ x + params["b1"]
    z1.retain_grad()
    l1 = mg.sigmoid(z1)
    z2 = params["W2"] @ l1 + params["b2"]
    z2.retain_grad()
    l2 = mg.sigmoid(z2)
    l2.retain_grad()
    j = 0.5 * ((l2 - y) ** 2).sum()
    j.backward()
    out = {k: t.grad for k, t in params.items()}
    out.update(delta2=z2.grad, delta1=z1.grad, dJ_dL2=l2.grad)
    return {k: as_array(v) for k, v in out.items()}


def check(seed=0):
    p = make_problem(seed)
    hand, auto = hand_gradients(p), autograd_gradients(p)
    return {k: assert_matches(k, hand[k], auto[k])
            for k in ("delta2", "delta1", "W2", "b2", "W1", "b1")}


def printed_form_errors(seed=0):
    """Each printed variant evaluated on the same problem, against the correct value."""
    p = make_problem(seed)
    z1, l1, z2, l2 = forward(p)
    auto = autograd_gradients(p)
    errors = {}

    # 000 §4.2.2 read literally: σ′ evaluated at the activation L2.
    literal = (l2 - p["Y"]) * sigmoid(l2) * (1 - sigmoid(l2))
    errors["sigma_prime_at_L2"] = float(np.max(np.abs(literal - auto["delta2"])))

    # 000 §3.2.4: the inverted Jacobian, δ1 = (∂z1/∂z2) δ2, with ∂z1/∂z2 read as the
    # pseudo-inverse of ∂z2/∂z1 (the inverse does not exist: it is c × h).
    inverted = np.empty_like(z1)
    for n in range(z1.shape[1]):
        jac = p["W2"] * (l1[:, n] * (1 - l1[:, n]))[None, :]      # ∂z2/∂z1 = W2 diag(σ′)
        inverted[:, n] = np.linalg.pinv(jac) @ auto["delta2"][:, n]
    errors["inverted_jacobian"] = float(np.max(np.abs(inverted - auto["delta1"])))

    # 001 formula 1.3: δ = ∂J/∂Z ⊙ σ′(Z) — σ′ counted twice.
    twice = auto["delta2"] * l2 * (1 - l2)
    errors["double_sigma_prime"] = float(np.max(np.abs(twice - auto["delta2"])))

    # 001 formula 1.3: ∂J/∂W(1) = A(0) δ(2), i.e. X @ δ2 — not conformable.
    try:
        product = p["X"] @ auto["delta2"]
        errors["printed_dW1_shape"] = product.shape
    except ValueError:
        errors["printed_dW1_shape"] = None                      # does not multiply at all
    errors["dW1_shape"] = p["W1"].shape
    errors["printed_db_shape"] = auto["delta1"].shape          # δ(l), not summed
    errors["db_shape"] = p["b1"].shape
    return errors


def printed_form():
    e = printed_form_errors()
    fits = ("does not multiply" if e["printed_dW1_shape"] is None
            else f"gives shape {e['printed_dW1_shape']}")
    return (f"σ′(L2) read literally is off by {e['sigma_prime_at_L2']:.3g}; the inverted "
            f"Jacobian gives δ1 off by {e['inverted_jacobian']:.3g}; σ′ counted twice is off by "
            f"{e['double_sigma_prime']:.3g}; A(0) δ(2) {fits} (∂J/∂W1 is {e['dW1_shape']}); "
            f"∂J/∂b = δ is {e['printed_db_shape']}, b is {e['db_shape']}")


ITEM = WorkedItem(
    key="dense_delta_rule",
    title="The δ rule of a two-layer sigmoid network",
    source="seed 000 §3.2.4, §4.2.1–4.2.2; seed 001 formula 1.3",
    printed=PRINTED, error=ERROR, derivation=DERIVATION, example=EXAMPLE,
    check=check, printed_form=printed_form)
