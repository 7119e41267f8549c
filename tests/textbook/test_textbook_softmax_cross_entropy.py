"""Softmax/cross-entropy (docs/seeds.md#errata-001): hand loss, gradient p − y and Jacobian equal
autograd; ten sigmoids are not a distribution and give no gradient to wrong classes."""
import numpy as np
import pytest

from minigrad.textbook import softmax_cross_entropy as item


def test_check_passes():
    diffs = item.check()
    assert max(diffs.values()) < 1e-12
    assert any("Jacobian" in k for k in diffs)


def test_jacobian_properties():
    z = np.random.default_rng(1).normal(size=6)
    j = item.softmax_jacobian(z)
    np.testing.assert_allclose(j, j.T)
    np.testing.assert_allclose(j.sum(axis=0), 0, atol=1e-15)   # softmax is shift-invariant
    np.testing.assert_allclose(j, item.autograd_jacobian(z), atol=1e-15)


def test_printed_sigmoid_form_differs():
    e = item.printed_form_errors()
    assert abs(e["sigmoid_sum"] - 1) > 0.1 and abs(e["softmax_sum"] - 1) < 1e-12
    assert e["sigmoid_grad_wrong_classes"] == 0.0 < e["softmax_grad_wrong_classes"]
    assert e["sigmoid_loss_all_high"] < 1e-8 < np.log(10) - 1e-6 < e["softmax_loss_all_high"]
    assert np.isnan(e["naive_softmax_big"][0]) and e["stable_loss_big"] == 1000.0


def test_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(2)
    z, t = g.normal(size=(4, 10)) * 5, g.integers(0, 10, size=4)
    tz = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(tz, torch.tensor(t)).backward()
    np.testing.assert_allclose(item.cross_entropy_gradient(z, item.one_hot(t, 10)),
                               tz.grad.numpy(), rtol=1e-10, atol=1e-14)
