"""MaxPool2d, AvgPool2d, AdaptiveAvgPool2d against torch.nn: reprs, no state, equal
outputs and input gradients (and indices with return_indices)."""
import numpy as np
import pytest

import minigrad.nn as nn
from tests.nn.parity import leaf, run_both


def _distinct(shape, seed=0):
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.01


@pytest.mark.parametrize("name,args,kwargs", [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3, 2, 1), {"dilation": 1, "ceil_mode": True}),
    ("MaxPool2d", ((2, 3),), {"stride": (1, 2), "dilation": (2, 1)}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False, "divisor_override": 2}),
    ("AdaptiveAvgPool2d", ((2, 3),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((None, 4),), {}),
])
def test_matches_torch(name, args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert not list(ours.state_dict()) and not list(ours.parameters())
    for shape in ((2, 3, 7, 6), (3, 5, 5)):
        run_both(torch, ours, theirs, [leaf(_distinct(shape), device=device)])


def test_return_indices(device):
    torch = pytest.importorskip("torch")
    x = _distinct((1, 2, 5, 5))
    values, indices = nn.MaxPool2d(2, return_indices=True).to(device)(leaf(x, device=device))
    t_values, t_indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.from_numpy(x))
    np.testing.assert_array_equal(indices.cpu().numpy(), t_indices.numpy())
    np.testing.assert_allclose(values.detach().cpu().numpy(), t_values.numpy())
