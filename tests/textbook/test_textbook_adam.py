"""Seed 002 Adam / 004 momentum SGD: hand loops equal minigrad.optim step by step; the printed
"Adam" is gradient descent and behaves like it."""
import numpy as np
import pytest

from minigrad.textbook import adam as item


def test_check_passes():
    diffs = item.check()
    assert max(diffs.values()) < 1e-12


def test_bias_correction_expectation():
    rows = item.bias_correction_demo()
    for t, mean_m, expected, mean_m_hat in rows:
        assert abs(mean_m - expected) < 5e-3          # E[m_t] = (1 − β₁ᵗ) E[g]
        assert abs(mean_m_hat - 1.5) < 5e-3 * 1.5 / (1 - 0.9 ** t)


def test_constant_gradient_bias_correction_is_exact():
    # with g_t ≡ g, m_t = (1 − β₁ᵗ) g exactly, so m̂_t = g
    a = np.eye(2)
    theta = np.array([3.0, -2.0])
    traj = item.adam_by_hand(a, np.zeros(2), theta, 1, lr=0.01)
    np.testing.assert_allclose(np.abs(traj[0] - theta), [0.01, 0.01], rtol=1e-6)


def test_printed_adam_is_gradient_descent():
    e = item.printed_form_errors()
    assert not np.isfinite(e["printed_loss"])               # same α: GD diverges
    assert e["printed_loss_stable_lr"] > e["adam_loss"] + 0.1
    assert abs(e["adam_loss"] - e["optimum_loss"]) < 1e-2
    np.testing.assert_allclose(e["first_step"], [0.1, 0.1], rtol=1e-6)
    np.testing.assert_allclose(e["first_step_uncorrected"], [0.1 * 0.1 / 0.001 ** 0.5] * 2,
                               rtol=1e-5)


def test_hand_adam_matches_torch():
    torch = pytest.importorskip("torch")
    a, y, theta = item.make_problem(1)
    p = torch.tensor(theta, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1)
    for hand in item.adam_by_hand(a, y, theta, 20):
        opt.zero_grad()
        r = torch.tensor(a) @ p - torch.tensor(y)
        (0.5 * (r * r).sum()).backward()
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), hand, rtol=1e-10, atol=1e-12)
