"""Seed 001 convolution and pooling: hand gradients equal autograd; the printed forms
(A0 δ1, the garbled pool, (255 − p)/255) differ."""
import numpy as np

from minigrad.textbook import convolution as item


def test_check_passes():
    diffs = item.check()
    assert max(diffs.values()) < 1e-12
    assert {"dW (cross-correlation)", "dX (full convolution)", "db", "max pool dx",
            "avg pool dx"} <= set(diffs)


def test_check_other_seeds():
    for seed in (1, 2):
        assert max(item.check(seed).values()) < 1e-12


def test_convolution_is_cross_correlation_with_the_flipped_kernel():
    g = np.random.default_rng(0)
    x, k = g.normal(size=(7, 6)), g.normal(size=(3, 2))
    np.testing.assert_allclose(item.convolve2d(x, k), item.cross_correlate2d(x, k[::-1, ::-1]),
                               atol=1e-13)
    assert not np.allclose(item.convolve2d(x, k), item.cross_correlate2d(x, k))
    # the definition: (x ∗ k)[p] = Σ_u x[u] k[p − u], by brute force at one position
    full = item.convolve2d_full(x, k)
    p = (4, 3)
    brute = sum(x[u, v] * k[p[0] - u, p[1] - v] for u in range(7) for v in range(6)
                if 0 <= p[0] - u < 3 and 0 <= p[1] - v < 2)
    assert abs(full[p] - brute) < 1e-13


def test_walkthrough_shapes():
    shapes = [s for _, s in item.walkthrough_shapes()]
    assert shapes == [(1, 1, 28, 28), (1, 32, 26, 26), (1, 32, 13, 13), (1, 64, 11, 11),
                      (1, 64, 5, 5), (1, 1600)]


def test_printed_forms_differ():
    e = item.printed_form_errors()
    assert e["flip_matters"] > 1e-3 and e["flip_ones_kernel"] < 1e-12
    assert e["A0_delta_shape"] is None                      # 6×6 @ 4×4 does not multiply
    assert abs(e["printed_pool"] - e["avg_pool"]) < 1e-15   # the garbled form is the mean
    assert e["max_pool"] > e["printed_pool"]


def test_normalisation_inverts():
    n = item.normalisation_example()
    assert n["printed (255 − p)/255"]["0, 128, 255 →"] == [1.0, 0.498, 0.0]
    assert n["p/255"]["0, 128, 255 →"] == [0.0, 0.502, 1.0]
    assert n["(p/255 − 0.5)/0.5 (004)"]["0, 128, 255 →"][::2] == [-1.0, 1.0]
    assert n["printed (255 − p)/255"]["image mean"] > 0.9 > 0.1 > n["p/255"]["image mean"]
