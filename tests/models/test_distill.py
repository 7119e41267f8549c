"""models.distill.distillation_loss against torch's formula (value and gradient), and the
T² factor: without it the soft gradient shrinks like 1/T²."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad_models.distill import distillation_loss

try:
    import torch
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)
TF = torch.nn.functional


def torch_loss(z, t, y, T, alpha):
    soft = TF.kl_div(TF.log_softmax(z / T, dim=-1), TF.softmax(t / T, dim=-1),
                     reduction="batchmean") * T * T
    return alpha * soft + (1 - alpha) * TF.cross_entropy(z, y)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), T=st.floats(0.5, 20), alpha=st.floats(0, 1))
def test_loss_and_gradient_match_torch(seed, T, alpha):
    rng = np.random.default_rng(seed)
    z, t = rng.standard_normal((5, 7)) * 3, rng.standard_normal((5, 7)) * 3
    y = rng.integers(0, 7, 5)
    zm = mg.tensor(z, requires_grad=True)
    ours = distillation_loss(zm, mg.tensor(t), mg.tensor(y), T, alpha)
    ours.backward()
    zt = torch.tensor(z, requires_grad=True)
    theirs = torch_loss(zt, torch.tensor(t), torch.tensor(y), T, alpha)
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(zm.grad.numpy(), zt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_t_squared_keeps_the_soft_gradient_scale():
    rng = np.random.default_rng(0)
    z, t = rng.standard_normal((64, 10)), rng.standard_normal((64, 10))
    y = rng.integers(0, 10, 64)
    norms = {}
    for T in (2.0, 8.0, 32.0):
        zm = mg.tensor(z, requires_grad=True)
        distillation_loss(zm, mg.tensor(t), mg.tensor(y), T, alpha=1.0).backward()
        norms[T] = float(np.linalg.norm(zm.grad.numpy()))
    # with T²: nearly constant for large T; without it (÷T²) it falls 16× per 4× in T
    assert 0.8 < norms[32.0] / norms[8.0] < 1.25
    assert (norms[32.0] / 32 ** 2) / (norms[8.0] / 8 ** 2) < 0.08


def test_teacher_gets_no_gradient_and_bad_arguments_raise():
    z, t = mg.randn(3, 4, requires_grad=True), mg.randn(3, 4, requires_grad=True)
    y = mg.tensor([0, 1, 2])
    distillation_loss(z, t, y).backward()
    assert t.grad is None and z.grad is not None
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(z, t, y, temperature=0)
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(z, t, y, alpha=1.5)
