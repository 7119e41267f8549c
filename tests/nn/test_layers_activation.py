"""Activation layers against torch.nn: reprs, no state, equal outputs and gradients
(float64), in-place variants."""
import numpy as np
import pytest

import minigrad.nn as nn
from tests.nn.parity import leaf, run_both

LAYERS = [("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("GELU", (), {}),
          ("GELU", (), {"approximate": "tanh"}), ("Sigmoid", (), {}), ("Tanh", (), {}),
          ("Softmax", (1,), {}), ("LogSoftmax", (-1,), {}), ("SiLU", (), {}),
          ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {"inplace": True}), ("ELU", (0.5,), {}),
          ("Softplus", (2.0, 5.0), {})]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_matches_torch(name, args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert not list(ours.state_dict())
    x = leaf(np.random.default_rng(0).uniform(-4, 4, (3, 5)), device=device)
    if kwargs.get("inplace"):
        run_both(torch, lambda t: ours(t * 1.0), lambda t: theirs(t * 1.0), [x])
    else:
        run_both(torch, ours, theirs, [x])
