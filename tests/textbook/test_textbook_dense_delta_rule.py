"""The δ rule (docs/seeds.md#errata-000): hand δ's and gradients equal autograd; the printed variants do not."""
import numpy as np
from hypothesis import given, strategies as st

from minigrad.textbook import dense_delta_rule as item


def test_check_passes_float64_tight():
    diffs = item.check()
    assert set(diffs) == {"delta2", "delta1", "W2", "b2", "W1", "b1"}
    assert max(diffs.values()) < 1e-13


@given(seed=st.integers(0, 2**16), n_in=st.integers(1, 5), n_hidden=st.integers(1, 6),
       n_out=st.integers(1, 4), batch=st.integers(1, 5))
def test_hand_equals_autograd_any_shape(seed, n_in, n_hidden, n_out, batch):
    p = item.make_problem(seed, n_in, n_hidden, n_out, batch)
    hand, auto = item.hand_gradients(p), item.autograd_gradients(p)
    for k in ("delta2", "delta1", "W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(hand[k], auto[k], rtol=1e-10, atol=1e-12)
        if k[0] in "Wb":
            assert hand[k].shape == p[k].shape


def test_gradient_descent_with_the_hand_gradients_lowers_the_loss():
    p = item.make_problem(3)
    g = item.hand_gradients(p)
    stepped = dict(p, **{k: p[k] - 0.1 * g[k] for k in ("W1", "b1", "W2", "b2")})
    assert item.loss(stepped) < item.loss(p)


def test_printed_variants_differ():
    e = item.printed_form_errors()
    assert e["sigma_prime_at_L2"] > 1e-3          # σ′ taken at the activation
    assert e["inverted_jacobian"] > 1e-2          # (∂z1/∂z2) δ2 instead of (∂z2/∂z1)ᵀ δ2
    assert e["double_sigma_prime"] > 1e-3         # ∂J/∂Z ⊙ σ′(Z)
    assert e["printed_dW1_shape"] != e["dW1_shape"]
    assert e["printed_db_shape"] != e["db_shape"]
    assert "does not multiply" in item.printed_form()
