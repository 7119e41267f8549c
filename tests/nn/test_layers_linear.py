"""Linear, Identity, Flatten, Unflatten against torch.nn: state_dict keys and shapes,
PyTorch weights loaded as numpy arrays giving equal outputs and gradients in float64,
the default initialisation distribution, reprs, gradcheck through the layer."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import assert_same_state_layout, compare_modules, leaf, run_both


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias, device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(3, 4, bias=bias).to(device), torch.nn.Linear(3, 4, bias=bias)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(0).standard_normal((2, 5, 3)), device=device)
    compare_modules(torch, ours, theirs, x)


def test_linear_default_init_is_uniform_on_inverse_sqrt_fan_in():
    mg.manual_seed(0)
    layer = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    for values in (layer.weight.detach().numpy(), layer.bias.detach().numpy()):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.95 * bound
    w = layer.weight.detach().numpy()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound and abs(w.mean()) < 0.02 * bound
    assert layer.weight.dtype == mg.float32 and layer.weight.requires_grad
    assert nn.Linear(2, 3, dtype=mg.float64).weight.dtype == mg.float64


def test_linear_gradcheck_and_parameters(device):
    layer = nn.Linear(3, 2).to(device).double()
    x = leaf(np.random.default_rng(1).standard_normal((2, 3)), device=device)
    assert gradcheck(lambda x, w, b: nn.functional.linear(x, w, b), (x, layer.weight, layer.bias))
    assert gradgradcheck(lambda x: layer(x) ** 2, (x,))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert tuple(layer.weight.shape) == (2, 3)


def test_shape_adapters_match_torch(device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(2).standard_normal((2, 3, 4, 5)), device=device)
    pairs = [(nn.Identity(54, unused=True).to(device), torch.nn.Identity(54, unused=True)),
             (nn.Flatten().to(device), torch.nn.Flatten()), (nn.Flatten(0, 2).to(device), torch.nn.Flatten(0, 2)),
             (nn.Unflatten(1, (3, 1)).to(device), torch.nn.Unflatten(1, (3, 1)))]
    for ours, theirs in pairs:
        x.grad = None
        assert repr(ours) == repr(theirs)
        assert not list(ours.state_dict())
        run_both(torch, ours, theirs, [x])
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, 3).to(device)
