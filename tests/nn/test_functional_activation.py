"""nn.functional activations: PyTorch parity of values and gradients on hypothesis-drawn
inputs (including the kinks at 0), float64 first and second derivatives, in-place forms,
and the stable extremes (sigmoid/softplus/logsigmoid at ±1000)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import nonempty_shapes, tensors
from tests.nn.parity import leaf, run_both

# name → (minigrad call, torch call name, kwargs)
ACTIVATIONS = {
    "relu": {}, "relu6": {}, "hardtanh": {"min_val": -0.5, "max_val": 2.0},
    "leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": 1.5}, "sigmoid": {}, "tanh": {},
    "silu": {}, "gelu": {}, "gelu_tanh": {"approximate": "tanh"},
    "softplus": {"beta": 2.0, "threshold": 5.0}, "logsigmoid": {},
    "softmax": {"dim": -1}, "log_softmax": {"dim": 0}, "softmin": {"dim": -1},
}
SMOOTH = ["sigmoid", "tanh", "silu", "gelu", "gelu_tanh", "softplus", "logsigmoid", "softmax",
          "log_softmax", "softmin", "elu"]


def _fn(module, name):
    return getattr(module, "gelu" if name == "gelu_tanh" else name)


@given(st.sampled_from(sorted(ACTIVATIONS)),
       tensors(nonempty_shapes(min_dims=1, max_dims=3), low=-6.0, high=6.0),
       st.integers(0, 2 ** 16))
def test_matches_torch(device, name, x, seed):
    x = on_device(x, device)
    torch = pytest.importorskip("torch")
    kwargs = ACTIVATIONS[name]
    run_both(torch, lambda t: _fn(F, name)(t, **kwargs),
             lambda t: _fn(torch.nn.functional, name)(t, **kwargs), [x], seed,
             rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_subgradients_at_zero_match_torch(name, device):
    torch = pytest.importorskip("torch")
    kwargs = ACTIVATIONS[name]
    x = leaf([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 6.0], device=device)
    run_both(torch, lambda t: _fn(F, name)(t, **kwargs),
             lambda t: _fn(torch.nn.functional, name)(t, **kwargs), [x])


@settings(max_examples=10)
@given(st.sampled_from(SMOOTH), st.integers(0, 2 ** 16))
def test_gradcheck_and_gradgradcheck(device, name, seed):
    kwargs = ACTIVATIONS[name]
    x = leaf(np.random.default_rng(seed).uniform(-3, 3, (2, 3)), device=device)
    fn = lambda t: _fn(F, name)(t, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu", "hardtanh"])
def test_inplace_matches_out_of_place(name, device):
    kwargs = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    base = leaf(rng.standard_normal((3, 4)), device=device)
    expected_x = leaf(base.detach().cpu().numpy(), device=device)
    expected = _fn(F, name)(expected_x * 1.0, **kwargs)
    expected.sum().backward()
    work = base * 1.0                        # a non-leaf that may be overwritten
    out = _fn(F, name)(work, inplace=True, **kwargs)
    assert out is work
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().cpu().numpy())
    out.sum().backward()
    np.testing.assert_allclose(base.grad.cpu().numpy(), expected_x.grad.cpu().numpy())


def test_extremes_are_finite_and_match_torch(device):
    torch = pytest.importorskip("torch")
    x = leaf([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0], device=device)
    for name in ("sigmoid", "softplus", "logsigmoid", "silu", "elu", "gelu", "tanh"):
        x.grad = None
        out = run_both(torch, lambda t: getattr(F, name)(t), lambda t: getattr(torch.nn.functional,
                                                                                name)(t), [x])
        assert np.isfinite(out.detach().cpu().numpy()).all() and np.isfinite(x.grad.cpu().numpy()).all()


def test_float32_stays_float32(device):
    x = mg.randn(3, 4, requires_grad=True, device=device)
    for name in sorted(ACTIVATIONS):
        y = _fn(F, name)(x, **ACTIVATIONS[name])
        assert y.dtype == mg.float32, name


def test_errors(device):
    with pytest.raises(TypeError):
        F.relu([1.0, 2.0])
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(mg.randn(3, device=device), approximate="fast")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(mg.randn(3, device=device), 2.0, 1.0)
