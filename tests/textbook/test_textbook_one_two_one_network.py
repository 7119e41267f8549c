"""docs/seeds.md#errata-002: the 1-2-1 network's hand backprop equals autograd at every step; the
seed's sign-flipped step goes uphill and its update ignores the label."""
import numpy as np

from minigrad.textbook import one_two_one_network as item


def test_every_training_step_matches_autograd_and_training_works():
    history = item.train_by_hand(epochs=20, lr=0.5)
    assert len(history["max_diff"]) == 20 * 16
    assert max(history["max_diff"]) < 1e-13
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert history["accuracy"] == 1.0
    # the two hidden units learned opposite signs: the vector w1 the seed left out
    assert history["w1"][0] * history["w1"][1] < 0


def test_gradients_at_random_points():
    g = np.random.default_rng(7)
    for _ in range(20):
        w1, w2, x, y = g.normal(size=2), g.normal(size=2), g.normal(), float(g.integers(2))
        for hand, auto in zip(item.hand_gradients(w1, w2, x, y),
                              item.autograd_gradients(w1, w2, x, y)):
            np.testing.assert_allclose(hand, auto, rtol=1e-10, atol=1e-14)


def test_seed_sign_points_uphill():
    e = item.printed_form_errors()
    assert e["loss_after_flipped"] > e["loss_before"] > e["loss_after_correct"]
    # the directional derivative along the seed's step is +|∇ℓ|²
    w1, w2 = item.initial_weights(0)
    xs, ys = item.make_data(0)
    for x, y in zip(xs, ys):
        g1, g2 = item.hand_gradients(w1, w2, x, y)
        s1, s2 = item.sign_flipped_step(w1, w2, x, y, 1.0)
        assert np.dot(g1, s1 - w1) + np.dot(g2, s2 - w2) >= 0


def test_seed_update_ignores_the_label_and_diverges():
    e = item.printed_form_errors()
    assert e["label_blind"]
    assert e["seed_loop_loss"] > 10 * e["initial_loss"]


def test_scalar_w1_collapses_the_hidden_layer():
    e = item.printed_form_errors()
    assert e["scalar_w1_undecided"] > 0           # ŷ = ½ exactly on one side of 0
    assert e["scalar_w1_accuracy"] < 1.0
