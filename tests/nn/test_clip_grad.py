"""nn.utils.clip_grad_norm_ / clip_grad_value_ against PyTorch."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def make_pair(seed, scale, dtype=np.float64, *, device):
    """The same parameters and gradients in minigrad and torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in SHAPES:
        value = rng.standard_normal(shape).astype(dtype)
        grad = (scale * rng.standard_normal(shape)).astype(dtype)
        p = nn.Parameter(mg.tensor(value, device=device))
        p.grad = mg.tensor(grad, device=device)
        q = torch.nn.Parameter(torch.tensor(value))
        q.grad = torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm_equals_torch(norm_type, max_norm, device):
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(0, 2.0, device=device)
    total = clip_grad_norm_(ours, max_norm, norm_type=float(norm_type))
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    assert isinstance(total, mg.Tensor) and total.ndim == 0 and total.dtype == mg.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-12,
                                   atol=1e-15)


@given(st.integers(0, 10_000), st.floats(1e-3, 1e3), st.floats(0.01, 10.0),
       st.sampled_from([1.0, 2.0, math.inf]))
def test_clip_grad_norm_float32_property(device, seed, scale, max_norm, norm_type):
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(seed, scale, np.float32, device=device)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.dtype == mg.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-5,
                                   atol=1e-7 * scale)
    clipped = get_total_norm([p.grad for p in ours], norm_type).item()
    assert clipped <= max_norm * (1 + 1e-5) or clipped <= total.item() * (1 + 1e-5)


def test_clip_grad_norm_details(device):
    p = nn.Parameter(mg.tensor([3.0, 4.0], device=device))
    p.grad = mg.tensor([3.0, 4.0], device=device)
    grad_object = p.grad
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)      # a single tensor
    assert p.grad is grad_object                                   # the same .grad tensor
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.8], rtol=1e-5)
    assert clip_grad_norm_([nn.Parameter(mg.ones(2, device=device))], 1.0).item() == 0.0   # no gradients
    q = nn.Parameter(mg.ones(2, device=device))
    q.grad = mg.tensor([math.inf, 1.0], device=device)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([q], 1.0, error_if_nonfinite=True)
    clip_grad_norm_([q], 1.0)                                       # allowed by default


def test_clipping_does_not_leak_into_shared_or_broadcast_gradients(device):
    """Gradients the engine delivers can share one array (a + b) or be a read-only
    broadcast (x.sum()): clipping one parameter must leave the others alone."""
    a, b = nn.Parameter(mg.ones(3, device=device)), nn.Parameter(mg.ones(3, device=device))
    (a + b).sum().backward()
    clip_grad_norm_([a], 0.5)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    assert np.linalg.norm(a.grad.cpu().numpy()) == pytest.approx(0.5, rel=1e-5)
    clip_grad_value_([b], 0.25)
    assert b.grad.tolist() == [0.25] * 3


def test_clip_grad_value_equals_torch(device):
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(1, 3.0, device=device)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.cpu().numpy(), q.grad.numpy())
        assert p.grad.dtype == mg.float64
