"""BatchNorm1d/2d and LayerNorm against torch.nn: state_dict keys and shapes (running
stats and num_batches_tracked), reprs, default values, several training steps then
evaluation with equal outputs, gradients and buffers (momentum 0.1 and None, the
cumulative average), track_running_stats=False, affine=False, and input-dim checks."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import (assert_close, assert_same_state_layout, compare_modules, leaf,
                             load_from_torch, run_both)


def _steps(torch, ours, theirs, shape, steps=3, seed=0, *, device):
    """Train-mode forward/backward for a few batches, then eval; compare everything."""
    rng = np.random.default_rng(seed)
    ours.double()
    theirs.double()
    load_from_torch(ours, theirs)
    ours.to(device)
    for step in range(steps):
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
        x = leaf(rng.standard_normal(shape) * 2 + 0.5, device=device)
        run_both(torch, ours, theirs, [x], seed + step)
        for (name, ours_t), theirs_t in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert_close(ours_t, theirs_t, rtol=1e-12, atol=1e-14)
        torch_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert_close(p.grad, torch_params[name].grad)
    ours.eval()
    theirs.eval()
    run_both(torch, ours, theirs, [leaf(rng.standard_normal(shape), device=device)], seed)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (2, 3, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"bias": False, "eps": 1e-3}])
def test_batch_norm_matches_torch_over_steps(cls, shape, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, cls)(3, **kwargs), getattr(torch.nn, cls)(3, **kwargs)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    if theirs.affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.uniform_(-1, 1)
    _steps(torch, ours, theirs, shape, device=device)


def test_batch_norm_state_defaults(device):
    bn = nn.BatchNorm2d(4).to(device)
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"].dtype == mg.int64 and state["num_batches_tracked"].ndim == 0
    np.testing.assert_array_equal(bn.weight.detach().cpu().numpy(), 1.0)
    np.testing.assert_array_equal(state["running_var"].cpu().numpy(), 1.0)
    bn(mg.randn(2, 4, 3, 3, device=device))
    bn(mg.randn(2, 4, 3, 3, device=device))
    assert bn.num_batches_tracked.item() == 2
    bn.eval()
    bn(mg.randn(2, 4, 3, 3, device=device))
    assert bn.num_batches_tracked.item() == 2


def test_momentum_none_is_the_cumulative_average(device):
    bn = nn.BatchNorm1d(1, momentum=None).to(device).double()
    means = []
    for value in (1.0, 3.0, 8.0):
        x = mg.tensor([[value - 1.0], [value + 1.0]], dtype=mg.float64, device=device)
        bn(x)
        means.append(value)
        assert bn.running_mean.item() == pytest.approx(np.mean(means))


def test_batch_norm_gradcheck_through_layer(device):
    bn = nn.BatchNorm1d(2).to(device).double()
    x = leaf(np.random.default_rng(0).standard_normal((4, 2)), device=device)
    assert gradcheck(lambda x: bn(x), (x,))


@pytest.mark.parametrize("cls,shape,message", [
    ("BatchNorm1d", (4, 3, 2, 2), "expected 2D or 3D input (got 4D input)"),
    ("BatchNorm2d", (4, 3), "expected 4D input (got 2D input)"),
])
def test_input_dim_checks(cls, shape, message, device):
    with pytest.raises(ValueError) as info:
        getattr(nn, cls)(3)(mg.randn(*shape, device=device))
    assert message in str(info.value)


@pytest.mark.parametrize("args,kwargs", [((4,), {}), (((3, 4),), {}), (([4],), {"bias": False}),
                                         ((4,), {"elementwise_affine": False}),
                                         ((4,), {"eps": 1e-3})])
def test_layer_norm_matches_torch(args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LayerNorm(*args, **kwargs).to(device), torch.nn.LayerNorm(*args, **kwargs)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-1, 1)
    compare_modules(torch, ours,
                    theirs, leaf(np.random.default_rng(1).standard_normal((2, 3, 4)), device=device))


@pytest.mark.parametrize("kwargs", [{}, {"eps": 1e-3}, {"elementwise_affine": False}])
def test_rms_norm_module_matches_torch(device, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.RMSNorm((3, 4), **kwargs), torch.nn.RMSNorm((3, 4), **kwargs)
    assert repr(ours) == repr(theirs)
    assert_same_state_layout(ours, theirs)
    if ours.weight is not None:
        assert (ours.weight.detach().cpu().numpy() == 1).all()
        with torch.no_grad():
            theirs.weight.copy_(torch.randn(3, 4))
    x = leaf(np.random.default_rng(5).standard_normal((2, 3, 4)), device=device)
    compare_modules(torch, ours, theirs, x)
