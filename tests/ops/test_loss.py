"""The BinaryCrossEntropy Function (ops/loss.py): forward against a float64 numpy
reference (logs clamped at −100), PyTorch's gradient formula including the 1e-12 floor
at x ∈ {0, 1}, and numerical first and second derivatives."""
import numpy as np
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.ops.loss import BinaryCrossEntropy


def bce_reference(x, y):
    with np.errstate(divide="ignore"):
        return -(y * np.maximum(np.log(x), -100.0) + (1 - y) * np.maximum(np.log1p(-x), -100.0))


@given(st.lists(st.integers(1, 4), min_size=0, max_size=3), st.integers(0, 2 ** 16))
def test_forward_matches_numpy(shape, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1, shape), rng.uniform(0, 1, shape)
    out = BinaryCrossEntropy.apply(mg.tensor(x), mg.tensor(y))
    np.testing.assert_allclose(out.numpy(), bce_reference(x, y), rtol=1e-12)


def test_finite_at_zero_and_one_with_pytorchs_gradient():
    x = mg.tensor([0.0, 1.0, 0.25], requires_grad=True)
    y = mg.tensor([1.0, 0.0, 1.0], requires_grad=True)
    loss = BinaryCrossEntropy.apply(x, y)
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, -np.log(0.25)])
    loss.sum().backward()
    xd, yd = x.detach().numpy(), y.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), (xd - yd) / np.maximum(xd * (1 - xd), 1e-12))
    with np.errstate(divide="ignore"):
        log_x, log_1mx = np.maximum(np.log(xd), -100.0), np.maximum(np.log1p(-xd), -100.0)
    np.testing.assert_allclose(y.grad.numpy(), log_1mx - log_x)


def test_first_and_second_derivatives():
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    y = mg.tensor(rng.uniform(0, 1, (3, 2)), requires_grad=True)
    assert gradcheck(BinaryCrossEntropy.apply, (x, y))
    assert gradgradcheck(BinaryCrossEntropy.apply, (x, y))
