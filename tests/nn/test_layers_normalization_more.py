"""GroupNorm, InstanceNorm1d/2d/3d (F.instance_norm), LocalResponseNorm
(F.local_response_norm) and BatchNorm3d against PyTorch: values, input and parameter
gradients in float64, running statistics over several steps, eval mode, unbatched input,
reprs and state_dict layouts, gradcheck, errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import (leaf, run_both, compare_modules, assert_same_state_layout,
                             load_from_torch)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.lists(st.integers(2, 4), min_size=1,
                                                      max_size=3), st.booleans(),
       st.integers(0, 2 ** 16))
def test_instance_norm_matches_torch(device, n, c, spatial, affine, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((n, c) + tuple(spatial)), device=device)
    params = [leaf(rng.standard_normal(c), device=device) for _ in range(2)] if affine else []
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    ours_rm, ours_rv = mg.tensor(rm, device=device), mg.tensor(rv, device=device)
    theirs_rm, theirs_rv = torch.tensor(rm), torch.tensor(rv)

    def ours(x, *wb):
        return F.instance_norm(x, ours_rm, ours_rv, *wb, momentum=0.3)

    def theirs(x, *wb):
        return torch.nn.functional.instance_norm(x, theirs_rm, theirs_rv, *wb, momentum=0.3)

    run_both(torch, ours, theirs, [x] + params, seed)
    np.testing.assert_allclose(ours_rm.cpu().numpy(), theirs_rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_rv.cpu().numpy(), theirs_rv.numpy(), rtol=1e-12)
    for t in [x] + params:
        t.grad = None
    run_both(torch, lambda x, *wb: F.instance_norm(x, ours_rm, ours_rv, *wb,
                                                   use_input_stats=False),
             lambda x, *wb: torch.nn.functional.instance_norm(x, theirs_rm, theirs_rv, *wb,
                                                              use_input_stats=False),
             [x] + params, seed)


@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((2, 6, 3, 4), 2), ((1, 4, 2, 2, 3), 5),
                                        ((3, 1, 4), 1)])
def test_local_response_norm_matches_torch(shape, size, device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(1).standard_normal(shape), device=device)
    run_both(torch, lambda t: F.local_response_norm(t, size, alpha=0.3, beta=0.6, k=1.5),
             lambda t: torch.nn.functional.local_response_norm(t, size, alpha=0.3, beta=0.6,
                                                               k=1.5), [x])
    assert gradgradcheck(lambda t: F.local_response_norm(t, size, alpha=0.3), (x,))


def test_gradchecks(device):
    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal((2, 3, 4)), device=device)
    w, b = leaf(rng.standard_normal(3), device=device), leaf(rng.standard_normal(3),
                                                              device=device)
    assert gradgradcheck(lambda t, u, v: F.instance_norm(t, weight=u, bias=v), (x, w, b))
    assert gradcheck(lambda t: F.group_norm(t, 3), (x,))


def test_errors_match_torch():
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(mg.randn(2, 3, 1))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        F.local_response_norm(mg.randn(2, 3), 2)
    with pytest.raises(ValueError, match="num_channels \\(4\\) must be divisible by num_groups "
                                         "\\(3\\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="expected input's size at dim=1 to match num_features"):
        nn.InstanceNorm2d(3, affine=True)(mg.randn(2, 4, 4, 4))
    with pytest.raises(ValueError, match="expected 3D or 4D input \\(got 2D input\\)"):
        nn.InstanceNorm2d(3)(mg.randn(2, 4))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm2d(3)(mg.randn(2, 4, 4))
    with pytest.raises(ValueError, match="expected 5D input"):
        nn.BatchNorm3d(3)(mg.randn(2, 3, 4, 4))


LAYERS = [("GroupNorm", (2, 4), {}, (2, 4, 3, 3)), ("GroupNorm", (1, 4), {"affine": False},
                                                    (2, 4, 5)),
          ("GroupNorm", (4, 4), {"eps": 1e-3}, (3, 4)),
          ("InstanceNorm1d", (4,), {}, (2, 4, 5)),
          ("InstanceNorm1d", (4,), {"affine": True, "track_running_stats": True}, (2, 4, 5)),
          ("InstanceNorm2d", (4,), {"affine": True}, (2, 4, 3, 3)),
          ("InstanceNorm2d", (4,), {"track_running_stats": True, "momentum": None},
           (4, 3, 3)),
          ("InstanceNorm3d", (4,), {"affine": True, "track_running_stats": True},
           (2, 4, 2, 2, 3)),
          ("LocalResponseNorm", (3,), {"alpha": 0.5}, (2, 4, 3, 3)),
          ("BatchNorm3d", (4,), {}, (2, 4, 2, 2, 3))]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_layers_match_torch(name, args, kwargs, shape, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert_same_state_layout(ours, theirs)
    rng = np.random.default_rng(3)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
    for step in range(3):      # training steps move the running statistics the same way
        x = leaf(rng.standard_normal(shape), device=device)
        compare_modules(torch, ours, theirs, x, seed=step)
        for p in list(ours.parameters()) + list(theirs.parameters()):
            p.grad = None
    for (key, value), expected in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(value.cpu().numpy(), expected.numpy(), rtol=1e-12,
                                   err_msg=key)
    ours.eval()
    theirs.eval()
    x = leaf(rng.standard_normal(shape), device=device)
    run_both(torch, ours, theirs, [x])
