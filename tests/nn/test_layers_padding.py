"""Padding layers (Constant/Zero/Reflection/Replication/CircularPad1d/2d/3d) against
torch.nn: reprs, no state, values and gradients in float64, input-rank checks."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from tests.nn.parity import leaf, run_both

LAYERS = [("ConstantPad1d", (2, 3.5)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0)),
          ("ConstantPad3d", (1, 0.5)), ("ZeroPad1d", ((1, 2),)), ("ZeroPad2d", (2,)),
          ("ZeroPad2d", ((-1, 1, 0, 2),)), ("ZeroPad3d", ((1, 0, 0, 1, 1, 1),)),
          ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 0, 1),)),
          ("ReflectionPad3d", (1,)), ("ReplicationPad1d", ((3, 1),)),
          ("ReplicationPad2d", (2,)), ("ReplicationPad3d", ((1, 2, 0, 1, 2, 0),)),
          ("CircularPad1d", ((2, -1),)), ("CircularPad2d", (1,)),
          ("CircularPad3d", ((1, 1, 0, 2, 1, 0),))]


@pytest.mark.parametrize("name,args", LAYERS)
def test_layers_match_torch(name, args, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs) and ours.padding == theirs.padding
    assert not list(ours.state_dict())
    dims = int(name[-2])
    shape = (2, 3) + (4,) * dims
    x = leaf(np.random.default_rng(0).standard_normal(shape), device=device)
    run_both(torch, ours, theirs, [x])
    if not name.startswith("Circular"):     # unbatched input too
        run_both(torch, ours, theirs, [leaf(np.random.default_rng(1).standard_normal(shape[1:]),
                                            device=device)])


def test_circular_pad_checks_the_rank():
    with pytest.raises(ValueError, match="expected 3D or 4D input \\(got 2D input\\)"):
        nn.CircularPad2d(1)(mg.randn(3, 3))
