"""Scaled dot-product attention: the printed forms (docs/seeds.md#errata-003), the correct one,
the seed's 3-token example, and the backward pass by hand against minigrad's autograd and
``minigrad.nn.functional.scaled_dot_product_attention``.

    S = Q Kᵀ / √d,   W = softmax_keys(S),   O = W V
    Q (Lq, d), K (Lk, d), V (Lk, dv);  S, W (Lq, Lk);  O (Lq, dv)
"""
import math

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .worked_item import WorkedItem, as_array, assert_matches, leaf, rng

PRINTED = r"""seed 001 (formula 3.2, Transformer):
    $$\text{Attention}(Q, K, V) = \frac{QK^T}{\sqrt{d_k}} + V$$
seed 003 §4.1:
    $$Attention(Q, K, V) = \frac{scale}{\sqrt{d_k}} \cdot softmax\left(\frac{QK^T}{d_k}\right) V$$
    ("scale 是一个常数，用于防止梯度消失"; §4.2: "scale 通常取值为 \sqrt{d_k}")
seed 003 §4.2:  S = QK^T,  W = softmax(S) = \frac{e^S}{\sum_{i=1}^n e^S_i},  O = W V,
    then "缩放": Attention(Q, K, V) = \frac{scale}{\sqrt{d_k}} \cdot O
seed 003 §4.3 (Q = [1, 0, 1]; K_1..K_3, V_1..V_3 never given):
    S = QK^T = [1·K_1, 0·K_2, 1·K_3] = [K_1, 0, K_3]
    W = softmax(S) = \frac{e^K_1}{e^K_1 + e^0 + e^K_3}
    O = W V = \frac{e^K_1}{e^K_1 + e^0 + e^K_3} \cdot [V_1; V_2; V_3]
    Attention(Q, K, V) = \frac{\sqrt{d_k}}{\sqrt{d_k}} \cdot O"""

ERROR = """\
* 001 adds V to the scores: no softmax, no weighting, and (Lq, Lk) + (Lk, dv) only
  "works" when numpy-style broadcasting happens to line the shapes up.
* 003 §4.1 divides the scores by d_k and puts the scale outside: with scale = √d_k the
  prefactor is 1 and the form is softmax(QKᵀ/d_k) V — the softmax temperature is d_k, not
  √d_k.  A factor after the softmax cannot keep the softmax from saturating (the stated
  purpose of the scale); the 1/√d_k must act on the scores, before the softmax.
* 003 §4.2 writes the softmax as e^S / Σ_i e^S_i without saying over what: it is over the
  keys, row by row, W_ij = e^{S_ij} / Σ_k e^{S_ik}; and its S = QKᵀ omits the 1/√d_k.
* 003 §4.3 multiplies the components of Q into whole key vectors (1·K_1, 0·K_2, 1·K_3):
  S_j is the dot product Q·K_j = Σ_m q_m K_jm.  It writes one weight (the first) as if it
  were W, and O as that scalar times the stacked V, where O = Σ_j W_j V_j.  K and V are
  never given numbers, so the example cannot be finished as printed: here K = I₃ (its
  S = [K_1, 0, K_3] is Q·K_j exactly when K_j = k_j e_j; we take k_j = 1) and
  V = [[1, 0], [0, 1], [1, 1]] (d_k = 3, d_v = 2; V_2 is not the mean of V_1 and V_3, so
  O shows the weights)."""

DERIVATION = """\
Forward:  S = Q Kᵀ/√d,  W_i = softmax(S_i) (each row i over the keys),  O = W V.
The 1/√d keeps the variance of S_ij = Σ_m q_m k_m /√d at 1 when q, k have unit-variance
entries, so the softmax does not saturate as d grows.
Backward, for dO = ∂J/∂O:
1. O = W V is a matrix product:   dV = Wᵀ dO   (Lk, dv),   dW = dO Vᵀ   (Lq, Lk)
2. Softmax, row i: ∂W_i/∂S_i = diag(w) − w wᵀ (w = W_i), symmetric, so
       dS_i = (diag(w) − w wᵀ) dW_i = w ⊙ (dW_i − (dW_i · w))
   i.e. dS = W ⊙ (dW − rowsum(dW ⊙ W))
3. S = Q Kᵀ/√d:                   dQ = dS K /√d   (Lq, d),   dK = dSᵀ Q /√d   (Lk, d)
Worked example (003 §4.3 completed; d = 3, Q = [1, 0, 1], K = I₃, V as above):
       S = Q Kᵀ/√3 = [1, 0, 1]/√3 = [0.5774, 0, 0.5774]
       W = softmax(S) = [e^0.5774, 1, e^0.5774] / (2e^0.5774 + 1)
       O = Σ_j W_j V_j = [W_1 + W_3, W_2 + W_3]"""

EXAMPLE = """\
from minigrad.textbook import attention as item
ex = item.worked_example()
print(ex["S"], ex["W"], ex["O"])         # the 3-token example, correct form
print(ex["O_seed_003"])                  # softmax(QKᵀ/d_k) V, the 003 §4.1 form
print(item.check())                      # dQ, dK, dV by hand vs autograd and F.sdpa"""

# The 003 §4.3 example, completed with documented values (see ERROR).
EXAMPLE_Q = np.array([[1.0, 0.0, 1.0]])
EXAMPLE_K = np.eye(3)
EXAMPLE_V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def softmax_rows(s):
    """Softmax over the last axis, max-shifted."""
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_forward(q, k, v):
    """S, W, O of the correct form, in numpy."""
    s = q @ k.T / math.sqrt(q.shape[-1])
    w = softmax_rows(s)
    return s, w, w @ v


def attention_backward(q, k, v, d_out):
    """Steps 1–3 of the derivation: (dQ, dK, dV)."""
    _, w, _ = attention_forward(q, k, v)
    scale = 1.0 / math.sqrt(q.shape[-1])
    d_v = w.T @ d_out
    d_w = d_out @ v.T
    d_s = w * (d_w - np.sum(d_w * w, axis=-1, keepdims=True))
    return d_s @ k * scale, d_s.T @ q * scale, d_v


def printed_001(q, k, v):
    """QKᵀ/√d_k + V as numpy would broadcast it; None when the shapes do not line up."""
    try:
        return q @ k.T / math.sqrt(q.shape[-1]) + v
    except ValueError:
        return None


def printed_003(q, k, v, scale=None):
    """(scale/√d_k) · softmax(QKᵀ/d_k) V with the seed's scale = √d_k."""
    d = q.shape[-1]
    scale = math.sqrt(d) if scale is None else scale
    return scale / math.sqrt(d) * softmax_rows(q @ k.T / d) @ v


def printed_003_example(q, k, v):
    """003 §4.3 followed literally: S_j = q_j·K_j (a vector each), one weight, O = w·[V]."""
    s = [q[0, j] * k[j] for j in range(3)]                # [K_1, 0, K_3]
    # Its W needs S to be three numbers; with K = I₃ read K_j as the scalar k_jj.
    s = np.array([s[j][j] for j in range(3)])
    w1 = np.exp(s[0]) / np.exp(s).sum()
    return s, w1, w1 * v


def worked_example():
    """003 §4.3 completed (K = I₃, V documented above): correct vs printed forms."""
    q, k, v = EXAMPLE_Q, EXAMPLE_K, EXAMPLE_V
    s, w, o = attention_forward(q, k, v)
    s_seed, w_seed, o_seed_example = printed_003_example(q, k, v)
    return {"S": s, "W": w, "O": o,
            "O_minigrad": as_array(F.scaled_dot_product_attention(
                mg.tensor(q), mg.tensor(k), mg.tensor(v))),
            "O_seed_001": printed_001(q, k, v),
            "O_seed_003": printed_003(q, k, v),
            "S_seed_example": s_seed, "W_seed_example": w_seed,
            "O_seed_example": o_seed_example}


def autograd_gradients(q, k, v, d_out, use_sdpa=False):
    """(dQ, dK, dV, O) from minigrad, composed ops or ``F.scaled_dot_product_attention``."""
    tq, tk, tv = leaf(q), leaf(k), leaf(v)
    if use_sdpa:
        out = F.scaled_dot_product_attention(tq, tk, tv)
    else:
        out = mg.softmax(tq @ tk.T / math.sqrt(q.shape[-1]), dim=-1) @ tv
    out.backward(mg.tensor(d_out))
    return as_array(tq.grad), as_array(tk.grad), as_array(tv.grad), as_array(out)


def check(seed=0, lq=4, lk=5, d=3, dv=2):
    g = rng(seed)
    cases = {"random": (g.normal(size=(lq, d)), g.normal(size=(lk, d)),
                        g.normal(size=(lk, dv)), g.normal(size=(lq, dv))),
             "003 §4.3": (EXAMPLE_Q, EXAMPLE_K, EXAMPLE_V, np.ones((1, 2)))}
    diffs = {}
    for case, (q, k, v, d_out) in cases.items():
        hand = attention_backward(q, k, v, d_out)
        o = attention_forward(q, k, v)[2]
        for source, use_sdpa in (("autograd", False), ("F.sdpa", True)):
            auto = autograd_gradients(q, k, v, d_out, use_sdpa)
            for name, h, a in zip(("dQ", "dK", "dV", "O"), hand + (o,), auto):
                diffs[f"{case} {name} vs {source}"] = assert_matches(name, h, a)
    return diffs


def printed_form_errors():
    ex = worked_example()
    out = {"o_correct": ex["O"], "o_seed_003": ex["O_seed_003"]}
    out["seed_003_error"] = float(np.max(np.abs(ex["O_seed_003"] - ex["O"])))
    out["seed_001_adds"] = ex["O_seed_001"] is not None            # (1, 3) + (3, 2): no
    g = rng(0)                          # where it does add, e.g. Lq = Lk = dv, it is not O
    q, k, v = g.normal(size=(3, 4)), g.normal(size=(3, 4)), g.normal(size=(3, 3))
    out["seed_001_error"] = float(np.max(np.abs(printed_001(q, k, v)
                                                - attention_forward(q, k, v)[2])))
    out["seed_example_shape"] = ex["O_seed_example"].shape
    # The scale outside the softmax does not prevent saturation: for d = 64 and unit-variance
    # q, k, the weights of QKᵀ/d_k and of QKᵀ (the seed's S) against QKᵀ/√d_k.
    g = rng(1)
    q, k = g.normal(size=(8, 64)), g.normal(size=(16, 64))
    out["max_weight_unscaled"] = float(softmax_rows(q @ k.T).max(axis=-1).mean())
    out["max_weight_sqrt_d"] = float(softmax_rows(q @ k.T / 8.0).max(axis=-1).mean())
    out["max_weight_d"] = float(softmax_rows(q @ k.T / 64.0).max(axis=-1).mean())
    return out


def printed_form():
    e = printed_form_errors()
    fmt = lambda a: np.array2string(np.ravel(a), precision=4, separator=", ")  # noqa: E731
    return (f"example O = {fmt(e['o_correct'])}; 003's softmax(QKᵀ/d_k)V gives "
            f"{fmt(e['o_seed_003'])}; 001's QKᵀ/√d_k + V "
            f"{'adds' if e['seed_001_adds'] else 'does not add'} here (elsewhere off by "
            f"{e['seed_001_error']:.3g}); 003 §4.3's O has shape {e['seed_example_shape']}; "
            f"mean top weight at d = 64: QKᵀ {e['max_weight_unscaled']:.2f}, /√d "
            f"{e['max_weight_sqrt_d']:.2f}, /d {e['max_weight_d']:.2f}")


ITEM = WorkedItem(
    key="attention",
    title="Scaled dot-product attention and its backward pass",
    source="seed 001 formula 3.2; seed 003 §4.1–4.3",
    printed=PRINTED, error=ERROR, derivation=DERIVATION, example=EXAMPLE,
    check=check, printed_form=printed_form)
