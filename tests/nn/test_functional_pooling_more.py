"""1-D pooling (max_pool1d with indices, avg_pool1d, adaptive_avg_pool1d), adaptive max
pooling (1-D and 2-D, with indices) and their layers against PyTorch: values, indices and
gradients in float64 over hypothesis-drawn geometry, ties, unbatched input, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import leaf, run_both


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2), st.booleans(),
       st.booleans(), st.integers(1, 9), st.booleans(), st.integers(0, 2 ** 16))
def test_pool1d_matches_torch(device, k, s, p, d, ceil_mode, count_include_pad, length,
                              unbatched, seed):
    torch = pytest.importorskip("torch")
    p = min(p, k // 2)
    length = max(length, d * (k - 1) + 1)
    shape = (3, length) if unbatched else (2, 3, length)
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    tF = torch.nn.functional
    out = run_both(torch, lambda t: F.max_pool1d(t, k, s, p, d, ceil_mode),
                   lambda t: tF.max_pool1d(t, k, s, p, d, ceil_mode), [x], seed)
    _, ours = F.max_pool1d(x, k, s, p, d, ceil_mode, return_indices=True)
    _, theirs = tF.max_pool1d(torch.from_numpy(x.detach().cpu().numpy()), k, s, p, d, ceil_mode,
                              return_indices=True)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
    assert out.shape == tuple(theirs.shape)
    x.grad = None
    run_both(torch, lambda t: F.avg_pool1d(t, k, s, p, ceil_mode, count_include_pad),
             lambda t: tF.avg_pool1d(t, k, s, p, ceil_mode, count_include_pad), [x], seed)
    x.grad = None
    run_both(torch, lambda t: F.adaptive_avg_pool1d(t, k + s),
             lambda t: tF.adaptive_avg_pool1d(t, k + s), [x], seed)


def test_gradcheck(device):
    x = leaf(np.random.default_rng(1).standard_normal((2, 2, 7)), device=device)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1), (x,))
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, count_include_pad=False), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 4), (x,))


def test_errors_match_torch():
    with pytest.raises(RuntimeError, match="Expected 2 to 3 dimensions, but got 4-dimensional"):
        F.avg_pool1d(mg.randn(2, 3, 4, 5), 2)
    with pytest.raises(RuntimeError, match="kernel_size must be an int, list of ints or tuple of "
                                           "ints of size 1 but got size 2"):
        F.max_pool1d(mg.randn(2, 3, 4), (2, 2))


@pytest.mark.parametrize("name,args", [("MaxPool1d", (3,)), ("MaxPool1d", (3, 2, 1)),
                                       ("AvgPool1d", (2,)), ("AvgPool1d", (3, 1, 1)),
                                       ("AdaptiveAvgPool1d", (3,))])
def test_layers_match_torch(name, args, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(2).standard_normal((2, 3, 8)), device=device)
    run_both(torch, ours, theirs, [x])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.one_of(st.none(), st.integers(1, 8)),
       st.integers(1, 8), st.booleans(), st.booleans(), st.integers(0, 2 ** 16))
def test_adaptive_max_pool2d_matches_torch(device, h, w, oh, ow, unbatched, ties, seed):
    torch = pytest.importorskip("torch")
    shape = (3, h, w) if unbatched else (2, 3, h, w)
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    x = leaf(values, device=device)
    size = (oh, ow)
    run_both(torch, lambda t: F.adaptive_max_pool2d(t, size),
             lambda t: torch.nn.functional.adaptive_max_pool2d(t, size), [x], seed)
    _, ours = F.adaptive_max_pool2d(x, size, return_indices=True)
    _, theirs = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(values), size,
                                                        return_indices=True)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


def test_adaptive_max_pool1d_and_layers(device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(4).standard_normal((2, 3, 7)), device=device)
    run_both(torch, lambda t: F.adaptive_max_pool1d(t, 3),
             lambda t: torch.nn.functional.adaptive_max_pool1d(t, 3), [x])
    for name, args, shape in [("AdaptiveMaxPool1d", (4,), (2, 3, 9)),
                              ("AdaptiveMaxPool2d", ((2, 3),), (2, 3, 5, 7)),
                              ("AdaptiveMaxPool2d", (3, True), (3, 5, 7))]:
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
        y = leaf(np.random.default_rng(5).standard_normal(shape), device=device)
        if len(args) == 2:
            v, i = ours(y)
            tv, ti = theirs(torch.from_numpy(y.detach().cpu().numpy()))
            np.testing.assert_array_equal(i.cpu().numpy(), ti.numpy())
            np.testing.assert_array_equal(v.detach().cpu().numpy(), tv.numpy())
        else:
            run_both(torch, ours, theirs, [y])
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), (leaf(np.random.default_rng(6)
                     .standard_normal((1, 2, 5, 4)), device=device),))
    with pytest.raises(RuntimeError, match="Expected 3D or 4D tensor, but got: \\[3, 4\\]"):
        F.adaptive_max_pool2d(mg.randn(3, 4), 2)
    with pytest.raises(RuntimeError, match="dimension 2 being empty"):
        F.adaptive_max_pool2d(mg.randn(1, 3, 0, 4), 2)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
@pytest.mark.parametrize("spatial", [1, 2])
def test_lp_pool_matches_torch(norm_type, spatial, device):
    torch = pytest.importorskip("torch")
    shape = (2, 3, 7) if spatial == 1 else (2, 3, 6, 5)
    x = leaf(np.random.default_rng(7).uniform(0.1, 2, shape), device=device)
    kernel, stride = (3, 2) if spatial == 1 else ((2, 3), 1)
    name = f"lp_pool{spatial}d"
    run_both(torch, lambda t: getattr(F, name)(t, norm_type, kernel, stride),
             lambda t: getattr(torch.nn.functional, name)(t, norm_type, kernel, stride), [x])
    layer = f"LPPool{spatial}d"
    ours, theirs = getattr(nn, layer)(norm_type, kernel), getattr(torch.nn, layer)(norm_type,
                                                                                  kernel)
    assert repr(ours) == repr(theirs)
    x.grad = None
    run_both(torch, ours, theirs, [x])
