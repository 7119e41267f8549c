"""Convolution and pooling (the printed forms: docs/seeds.md#errata-001), by hand in
numpy next to ``minigrad.nn.functional.conv2d / max_pool2d / avg_pool2d`` and autograd.

Shapes: x (N, C, H, W), w (O, C, kh, kw), b (O,), y and δ = ∂J/∂y (N, O, H−kh+1, W−kw+1);
stride 1 and no padding, as in the seed's walk-through.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .worked_item import WorkedItem, assert_matches, leaf, rng

PRINTED = r"""seed 001 §4.2 / formula 2.1 (卷积操作):
    $$ (f \star g)(x) = \int_{\mathbb{R}^n} f(y) g(x-y) dy $$
seed 001 §4.3 walk-through: 28×28, 3×3 kernel, stride 1 → 26×26; ReLU; 2×2 max pool → 13×13;
    3×3 conv → 11×11; ReLU; 2×2 max pool → 5×5; flatten; z = x·w + b; σ(z); −Σ y log ŷ
seed 001 §4.3 / formula 2.2 (池化, "2×2 的最大池化"):
    $$ p_1(x) = \frac{1}{n} \sum_{i=1}^{n} \max(x_i) $$
    $$ p_2(x) = \frac{1}{n} \sum_{i=1}^{n} x_i $$          (001 formula 2.2, "平均池化")
seed 001 formula 4.1 (数据预处理):   $$ x = \frac{255 - pixel}{255} $$
seed 001 formulas 4.2, 4.4, 4.5:   $$ Z_1 = W_f \cdot x + b_1 $$,
    $$ p_1(x) = \frac{1}{4} \sum_{i=1}^{4} \max(A_1[i]) $$,
    $$ \delta_1 = \frac{\partial J}{\partial Z_1} \odot \sigma'(Z_1) $$,
    $$ \frac{\partial J}{\partial W_f} = A_0 \delta_1 $$   ("A_0 是输入层的数据")"""

ERROR = """\
* The integral is convolution, which flips the kernel (g(x − y)); what the seed's own
  Keras Conv2D, PyTorch's conv2d and minigrad's compute is cross-correlation, no flip.  The
  two are related by x ∗ k = x ⋆ rot180(k); the seed never says which it means (its example
  kernel, all ones, is symmetric, so there the two coincide).
* p₁ = (1/n) Σ max(x_i) is garbled: max of one number x_i is x_i, so it is the average p₂.
  Max pooling is the maximum over each window; its gradient goes to the window's arg-max.
* (255 − pixel)/255 inverts the image (black 0 → 1, white 255 → 0); the seed's own code
  divides by 255.  The usual forms are pixel/255 and, standardised (004), (x − 0.5)/0.5.
* Z₁ = W_f · x is a product where a sliding window is meant.
* δ₁ = ∂J/∂Z₁ ⊙ σ′(Z₁) counts σ′ twice (see the dense δ rule): ∂J/∂Z₁ already is δ₁.
* ∂J/∂W_f = A₀ δ₁ is the dense-layer rule; for a convolution each kernel tap sees a different
  shifted window of A₀, so the gradient is a cross-correlation of A₀ with δ₁, summed over the
  batch (a plain product only after im2col).  A₀ (H × W) times δ₁ (OH × OW) does not even
  multiply.  The seed also never gives ∂J/∂A₀, which is a full convolution."""

DERIVATION = """\
1. Forward (cross-correlation, what conv2d computes):
       y[n, o, a, b] = b[o] + Σ_{c,i,j} w[o, c, i, j] x[n, c, a + i, b + j]
   Convolution flips the kernel: (x ∗ k)[a, b] = Σ_{u,v} x[u, v] k[a − u, b − v], so
   x ⋆ k = x ∗ rot180(k) (on the same output positions).
2. Shapes: OH = ⌊(H + 2p − k)/s⌋ + 1, so 28 → 26 (conv 3) → 13 (pool 2) → 11 → 5 (⌊11/2⌋).
3. Weight gradient.  ∂y[n, o, a, b]/∂w[o, c, i, j] = x[n, c, a + i, b + j], so
       ∂J/∂w[o, c, i, j] = Σ_{n,a,b} δ[n, o, a, b] x[n, c, a + i, b + j]
   = Σ_n (x[n, c] ⋆ δ[n, o])[i, j]: the layer input cross-correlated with δ, summed over the
   batch.  After im2col (cols[(i,j), (a,b)] = x[a + i, b + j]) it is the product δ colsᵀ.
4. Bias: ∂J/∂b[o] = Σ_{n,a,b} δ[n, o, a, b].
5. Input gradient.  x[n, c, u, v] feeds y[n, o, u − i, v − j] through w[o, c, i, j]:
       ∂J/∂x[n, c, u, v] = Σ_{o,i,j} δ[n, o, u − i, v − j] w[o, c, i, j]
   = Σ_o (δ[n, o] ∗ w[o, c])_full[u, v]: the full convolution of δ with w, i.e. the full
   cross-correlation of δ (zero-padded by k − 1) with rot180(w).
6. Max pooling y = max over a window: ∂y/∂x = 1 at the arg-max, 0 elsewhere, so dx gets dy at
   each window's arg-max.  Average pooling y = (1/n) Σ x_i: dx = dy/n on every pixel of it."""

EXAMPLE = """\
from minigrad.textbook import convolution as item
print(item.walkthrough_shapes())         # 28 → 26 → 13 → 11 → 5, as minigrad computes them
print(item.check())                      # dW, dX, db, pooling dx: hand vs autograd
print(item.normalisation_example())      # (255 − p)/255 vs p/255 vs (p/255 − 0.5)/0.5"""


def convolve2d_full(x, k):
    """(x ∗ k)[p] = Σ_u x[u] k[p − u] over every p where the two overlap (the definition)."""
    (h, w), (kh, kw) = x.shape, k.shape
    out = np.zeros((h + kh - 1, w + kw - 1))
    for i in range(kh):
        for j in range(kw):
            out[i:i + h, j:j + w] += k[i, j] * x          # p − u = (i, j)
    return out


def convolve2d(x, k):
    """Valid convolution: the positions where k lies entirely inside x."""
    (h, w), (kh, kw) = x.shape, k.shape
    return convolve2d_full(x, k)[kh - 1:h, kw - 1:w]


def cross_correlate2d(x, k):
    """Valid cross-correlation (x ⋆ k)[a, b] = Σ_{i,j} k[i, j] x[a + i, b + j]."""
    (h, w), (kh, kw) = x.shape, k.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((oh, ow))
    for i in range(kh):
        for j in range(kw):
            out += k[i, j] * x[i:i + oh, j:j + ow]
    return out


def im2col(x, kh, kw):
    """cols[(i, j), (a, b)] = x[a + i, b + j]: each kernel tap's shifted window, as a row."""
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    return np.stack([x[i:i + oh, j:j + ow].ravel() for i in range(kh) for j in range(kw)])


def conv2d_forward(x, w, b):
    n, o = x.shape[0], w.shape[0]
    return np.stack([np.stack([sum(cross_correlate2d(x[i, c], w[f, c])
                                   for c in range(x.shape[1])) + b[f]
                               for f in range(o)]) for i in range(n)])


def conv2d_backward(x, w, delta):
    """Steps 3–5: (dX, dW, db)."""
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    d_w = np.stack([np.stack([sum(cross_correlate2d(x[i, ch], delta[i, f]) for i in range(n))
                              for ch in range(c)]) for f in range(o)])
    d_x = np.stack([np.stack([sum(convolve2d_full(delta[i, f], w[f, ch]) for f in range(o))
                              for ch in range(c)]) for i in range(n)])
    return d_x, d_w, delta.sum(axis=(0, 2, 3))


def weight_grad_im2col(x, w, delta):
    """Step 3 as a product: dW[o, c] = Σ_n δ[n, o] · im2col(x[n, c])ᵀ."""
    kh, kw = w.shape[2:]
    return np.stack([np.stack([sum((im2col(x[i, ch], kh, kw) @ delta[i, f].ravel())
                                   .reshape(kh, kw) for i in range(x.shape[0]))
                               for ch in range(x.shape[1])]) for f in range(w.shape[0])])


def max_pool_backward(x, d_y, k=2):
    """dx: dy at each k×k window's arg-max (non-overlapping windows)."""
    n, c, h, w = x.shape
    oh, ow = h // k, w // k
    windows = x[:, :, :oh * k, :ow * k].reshape(n, c, oh, k, ow, k)
    is_max = windows == windows.max(axis=(3, 5), keepdims=True)
    d_x = np.zeros_like(x)
    d_x[:, :, :oh * k, :ow * k] = (is_max * d_y[:, :, :, None, :, None]).reshape(
        n, c, oh * k, ow * k)
    return d_x


def avg_pool_backward(x, d_y, k=2):
    """dx: dy/k² spread over each window."""
    d_x = np.zeros_like(x)
    oh, ow = d_y.shape[2:]
    d_x[:, :, :oh * k, :ow * k] = np.repeat(np.repeat(d_y, k, axis=2), k, axis=3) / k ** 2
    return d_x


def check(seed=0):
    g = rng(seed)
    x, w, b = g.normal(size=(2, 2, 6, 7)), g.normal(size=(3, 2, 3, 3)), g.normal(size=3)
    delta = g.normal(size=(2, 3, 4, 5))
    tx, tw, tb = leaf(x), leaf(w), leaf(b)
    y = F.conv2d(tx, tw, tb)
    y.backward(mg.tensor(delta))
    d_x, d_w, d_b = conv2d_backward(x, w, delta)
    diffs = {"y = x ⋆ w + b": assert_matches("y", conv2d_forward(x, w, b), y),
             "dW (cross-correlation)": assert_matches("dW", d_w, tw.grad),
             "dW (im2col product)": assert_matches("dW", weight_grad_im2col(x, w, delta),
                                                   tw.grad),
             "dX (full convolution)": assert_matches("dX", d_x, tx.grad),
             "db": assert_matches("db", d_b, tb.grad)}
    # The relation: cross-correlation with w is convolution with rot180(w).
    diffs["x ⋆ k = x ∗ rot180(k)"] = assert_matches(
        "relation", convolve2d(x[0, 0], w[0, 0, ::-1, ::-1]), cross_correlate2d(x[0, 0], w[0, 0]))
    p = g.normal(size=(2, 3, 7, 6))          # odd height: the last row is dropped by the pool
    d_y = g.normal(size=(2, 3, 3, 3))
    for name, pool, backward in (("max pool dx", F.max_pool2d, max_pool_backward),
                                 ("avg pool dx", F.avg_pool2d, avg_pool_backward)):
        tp = leaf(p)
        pool(tp, 2).backward(mg.tensor(d_y))
        diffs[name] = assert_matches(name, backward(p, d_y), tp.grad)
    return diffs


def walkthrough_shapes(seed=0):
    """Seed 001 §4.3 (channels 32 and 64 from its Keras code) run through minigrad."""
    g = rng(seed)
    x = mg.tensor(g.uniform(size=(1, 1, 28, 28)))
    w1, w2 = mg.tensor(g.normal(size=(32, 1, 3, 3))), mg.tensor(g.normal(size=(64, 32, 3, 3)))
    stages = [("input", x)]
    stages.append(("conv 3×3 → ReLU", F.relu(F.conv2d(stages[-1][1], w1))))
    stages.append(("max pool 2×2", F.max_pool2d(stages[-1][1], 2)))
    stages.append(("conv 3×3 → ReLU", F.relu(F.conv2d(stages[-1][1], w2))))
    stages.append(("max pool 2×2", F.max_pool2d(stages[-1][1], 2)))
    stages.append(("flatten", stages[-1][1].flatten(1)))
    return [(name, tuple(t.shape)) for name, t in stages]


def normalisation_example():
    """A dark background with one bright stroke, normalised three ways."""
    pixels = np.array([0.0, 128.0, 255.0])
    image = np.zeros((28, 28))
    image[6:22, 13:15] = 255.0                               # a "1"
    forms = {"printed (255 − p)/255": lambda p: (255 - p) / 255,
             "p/255": lambda p: p / 255,
             "(p/255 − 0.5)/0.5 (004)": lambda p: (p / 255 - 0.5) / 0.5}
    return {name: {"0, 128, 255 →": np.round(f(pixels), 4).tolist(),
                   "image mean": round(float(f(image).mean()), 4)} for name, f in forms.items()}


def printed_form_errors(seed=0):
    g = rng(seed)
    x, w, delta = g.normal(size=(6, 6)), g.normal(size=(3, 3)), g.normal(size=(4, 4))
    out = {"flip_matters": float(np.max(np.abs(convolve2d(x, w) - cross_correlate2d(x, w)))),
           "flip_ones_kernel": float(np.max(np.abs(convolve2d(x, np.ones((3, 3)))
                                                   - cross_correlate2d(x, np.ones((3, 3))))))}
    try:
        out["A0_delta_shape"] = (x @ delta).shape
    except ValueError:
        out["A0_delta_shape"] = None
    window = g.normal(size=4)
    out["printed_pool"] = float(np.mean([np.max(v) for v in window]))   # (1/n) Σ max(x_i)
    out["max_pool"], out["avg_pool"] = float(window.max()), float(window.mean())
    out["normalisation"] = normalisation_example()
    return out


def printed_form():
    e = printed_form_errors()
    norm = e["normalisation"]["printed (255 − p)/255"]
    fits = "does not multiply" if e["A0_delta_shape"] is None else str(e["A0_delta_shape"])
    return (f"convolution vs cross-correlation differ by {e['flip_matters']:.3g} "
            f"({'not at all' if e['flip_ones_kernel'] < 1e-12 else 'also'} for the seed's "
            f"symmetric all-ones kernel); A0 δ1 "
            f"(6×6 · 4×4) {fits}, ∂J/∂W is 3×3; the printed pool of a window gives "
            f"{e['printed_pool']:.4f} = its mean, its max is {e['max_pool']:.4f}; "
            f"(255 − p)/255 maps 0, 128, 255 to {norm['0, 128, 255 →']}")


ITEM = WorkedItem(
    key="convolution",
    title="Convolution, cross-correlation, their gradients, and pooling",
    source="seed 001 §4.2–4.3, formulas 2.1–2.2, 4.1–4.5",
    printed=PRINTED, error=ERROR, derivation=DERIVATION, example=EXAMPLE,
    check=check, printed_form=printed_form)
