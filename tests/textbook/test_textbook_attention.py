"""Seeds 001/003 attention: hand backward equals autograd and F.scaled_dot_product_attention;
the printed forms give other numbers (or do not compute at all)."""
import math

import numpy as np
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.textbook import attention as item


def test_check_passes():
    diffs = item.check()
    assert len(diffs) == 16 and max(diffs.values()) < 1e-13


@given(seed=st.integers(0, 2**16), lq=st.integers(1, 5), lk=st.integers(1, 5),
       d=st.integers(1, 6), dv=st.integers(1, 4))
def test_backward_any_shape(seed, lq, lk, d, dv):
    assert max(item.check(seed, lq, lk, d, dv).values()) < 1e-12


def test_worked_example_values():
    ex = item.worked_example()
    s = 1 / math.sqrt(3)
    np.testing.assert_allclose(ex["S"], [[s, 0, s]], rtol=1e-15)
    e = math.exp(s)
    w = np.array([e, 1.0, e]) / (2 * e + 1)
    np.testing.assert_allclose(ex["W"], [w], rtol=1e-14)
    np.testing.assert_allclose(ex["O"], [[w[0] + w[2], w[1] + w[2]]], rtol=1e-14)
    np.testing.assert_allclose(ex["O_minigrad"], ex["O"], rtol=1e-14)


def test_printed_forms_differ():
    e = item.printed_form_errors()
    assert e["seed_003_error"] > 1e-2              # softmax(QKᵀ/d_k) V
    assert not e["seed_001_adds"] and e["seed_001_error"] > 1e-1
    assert e["seed_example_shape"] != e["o_correct"].shape
    # 1/√d keeps the softmax away from one-hot; the seed's unscaled S saturates it
    assert e["max_weight_unscaled"] > 0.8 > e["max_weight_sqrt_d"]


def test_scale_outside_the_softmax_only_rescales_the_output():
    g = np.random.default_rng(3)
    q, k, v = g.normal(size=(3, 4)), g.normal(size=(5, 4)), g.normal(size=(5, 2))
    for scale in (1.0, 2.0):
        np.testing.assert_allclose(item.printed_003(q, k, v, scale),
                                   scale / 2 * item.printed_003(q, k, v, 2.0), rtol=1e-12)
    assert not np.allclose(item.printed_003(q, k, v), item.attention_forward(q, k, v)[2])


def test_hand_forward_equals_sdpa_batched_float64():
    g = np.random.default_rng(4)
    q, k, v = g.normal(size=(2, 3, 4)), g.normal(size=(2, 5, 4)), g.normal(size=(2, 5, 3))
    out = F.scaled_dot_product_attention(mg.tensor(q), mg.tensor(k), mg.tensor(v))
    for b in range(2):
        np.testing.assert_allclose(out.numpy()[b], item.attention_forward(q[b], k[b], v[b])[2],
                                   rtol=1e-12, atol=1e-14)
