"""Conv2d against torch.nn.Conv2d: parameter names and shapes (with groups), PyTorch
weights loaded as numpy arrays giving equal outputs and weight/bias/input gradients over
hypothesis-drawn configurations (every padding mode, 'same'), default initialisation,
reprs and constructor errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
from tests.nn.parity import assert_same_state_layout, compare_modules, leaf


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=20)
@given(st.sampled_from([1, 2]), st.sampled_from([1, 2, (2, 3)]), st.sampled_from([1, (2, 1)]),
       st.sampled_from([0, 1, (1, 2), "same", "valid"]), st.sampled_from([1, 2]), st.booleans(),
       st.sampled_from(["zeros", "reflect", "replicate", "circular"]), st.integers(0, 2 ** 16))
def test_matches_torch(device, groups, kernel_size, stride, padding, dilation, bias, padding_mode, seed):
    torch = pytest.importorskip("torch")
    if padding == "same" and stride != 1:
        stride = 1
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias,
              padding_mode=padding_mode)
    ours, theirs = (nn.Conv2d(2, 4, kernel_size, **kw).to(device),
                    torch.nn.Conv2d(2, 4, kernel_size, **kw))
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(seed).standard_normal((2, 2, 6, 7)), device=device)
    compare_modules(torch, ours, theirs, x, seed=seed)


def test_default_init_uses_fan_in_of_one_group():
    mg.manual_seed(0)
    layer = nn.Conv2d(8, 64, (3, 2), groups=4)
    assert tuple(layer.weight.shape) == (64, 2, 3, 2)
    bound = 1 / math.sqrt(2 * 3 * 2)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_seed_001_network_shapes(device):
    net = nn.Sequential(nn.Conv2d(1, 32, 3).to(device), nn.ReLU().to(device), nn.MaxPool2d(2).to(device), nn.Conv2d(32, 64, 3).to(device),
                        nn.ReLU().to(device), nn.MaxPool2d(2).to(device), nn.Flatten().to(device), nn.Linear(64 * 5 * 5, 64).to(device),
                        nn.ReLU().to(device), nn.Linear(64, 10).to(device)).to(device)
    assert tuple(net(mg.randn(2, 1, 28, 28, device=device)).shape) == (2, 10)


@pytest.mark.parametrize("kwargs,message", [
    (dict(groups=0), "groups must be a positive integer"),
    (dict(groups=3), "in_channels must be divisible by groups"),
    (dict(groups=2, out=5), "out_channels must be divisible by groups"),
    (dict(padding="foo"), "Invalid padding string 'foo', should be one of"),
    (dict(padding="same", stride=2), "padding='same' is not supported for strided convolutions"),
    (dict(padding_mode="foo"), "padding_mode must be one of"),
])
def test_constructor_errors(kwargs, message):
    out = kwargs.pop("out", 6)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        nn.Conv2d(4, out, 3, **kwargs)


def test_wrong_input_channels_names_shapes(device):
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[8, 3, 3, 3\], expected "
                                           r"input\[2, 4, 5, 5\] to have 3 channels, but got 4"):
        nn.Conv2d(3, 8, 3).to(device)(mg.randn(2, 4, 5, 5, device=device))


@pytest.mark.parametrize("name", ["kernel_size", "stride", "padding", "dilation"])
def test_sizes_of_three_values_are_refused_not_truncated(name):
    kwargs = {"kernel_size": 3, name: (1, 2, 3)}
    with pytest.raises(RuntimeError, match=f"expected {name} to be a single integer value or a "
                                           r"list of 2 values .* but got " + name + r"=\[1, 2, 3\]"):
        nn.Conv2d(2, 4, **kwargs)
