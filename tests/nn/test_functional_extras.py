"""F.bilinear/nn.Bilinear, F.alpha_dropout/feature_alpha_dropout and their layers, F.rrelu/
nn.RReLU, nn.Softmax2d, F.channel_shuffle/nn.ChannelShuffle: PyTorch parity where the
result is deterministic (float64 values and gradients), the defining statistics where it
is random, gradcheck, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.devices import to_numpy
from tests.nn.parity import leaf, run_both, compare_modules, assert_same_state_layout


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), max_size=2).map(tuple), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 4), st.booleans(), st.integers(0, 2 ** 16))
def test_bilinear_matches_torch(device, lead, i, j, o, bias, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x1 = leaf(rng.standard_normal(lead + (i,)), device=device)
    x2 = leaf(rng.standard_normal(lead + (j,)), device=device)
    w = leaf(rng.standard_normal((o, i, j)), device=device)
    inputs = [x1, x2, w] + ([leaf(rng.standard_normal(o), device=device)] if bias else [])
    run_both(torch, F.bilinear, torch.nn.functional.bilinear, inputs, seed)


def test_bilinear_gradcheck_layer_and_errors(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x1, x2 = (leaf(rng.standard_normal((2, n)), device=device) for n in (3, 4))
    w, b = leaf(rng.standard_normal((2, 3, 4)), device=device), leaf(rng.standard_normal(2),
                                                                      device=device)
    assert gradgradcheck(F.bilinear, (x1, x2, w, b))
    ours, theirs = nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    assert repr(ours) == repr(theirs)
    assert_same_state_layout(ours, theirs)
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / np.sqrt(3)
    compare_modules(torch, ours, theirs, x1.detach().requires_grad_(),
                    x2.detach().requires_grad_())
    with pytest.raises(RuntimeError, match="input2 size does not match weight size: got 4 but "
                                           "expected 3"):
        F.bilinear(mg.randn(2, 3), mg.randn(2, 4), mg.randn(5, 3, 3))
    with pytest.raises(RuntimeError, match="batch dimensions do not match at dim 0: got 2 and 3"):
        F.bilinear(mg.randn(2, 3), mg.randn(3, 4), mg.randn(5, 3, 4))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_selu_statistics(feature, device):
    mg.manual_seed(0)
    op = F.feature_alpha_dropout if feature else F.alpha_dropout
    shape = (200, 50, 20) if feature else (400, 500)
    x = F.selu(mg.randn(*shape, dtype=mg.float64, device=device))
    y = op(x, 0.2, training=True)
    assert abs(float(y.mean()) - float(x.mean())) < 0.01
    assert abs(float(y.var()) - float(x.var())) < 0.02
    alpha, p = 1.7580993408473766, 0.2
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    values = y.cpu().numpy()
    dropped = np.isclose(values, a * (alpha * p - alpha))
    assert 0.15 < dropped.mean() < 0.25
    if feature:     # each (n, c) channel goes as a whole
        assert (dropped.all(-1) | (~dropped).all(-1)).all()
    assert op(x, 0.2) is x                       # PyTorch's default is training=False


def test_alpha_dropout_gradient_and_edge_cases(device):
    mg.manual_seed(1)
    alpha, p = 1.7580993408473766, 0.5
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    x = leaf(np.random.default_rng(1).standard_normal((50, 40)), device=device)
    y = F.alpha_dropout(x, p, training=True)
    y.sum().backward()
    grad = x.grad.cpu().numpy()
    assert set(np.unique(np.round(grad, 12))) <= {0.0, round(a, 12)}
    kept = grad != 0
    np.testing.assert_allclose(y.detach().cpu().numpy()[kept],
                               a * x.detach().cpu().numpy()[kept] + alpha * a * p)
    assert not F.alpha_dropout(x, 1.0, training=True).detach().cpu().numpy().any()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.alpha_dropout(x, 1.5, training=True)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(mg.randn(5, device=device), 0.5, training=True)
    m = nn.AlphaDropout(0.5).eval()
    assert m(x) is x


def test_rrelu_matches_torch_in_eval_and_samples_slopes_in_training(device):
    torch = pytest.importorskip("torch")
    x = leaf(np.linspace(-3, 3, 61), device=device)
    run_both(torch, lambda t: F.rrelu(t, 0.1, 0.4), lambda t: torch.nn.functional.rrelu(t, 0.1, 0.4),
             [x])
    x.grad = None
    mg.manual_seed(2)
    y = F.rrelu(x, 0.1, 0.4, training=True)
    y.sum().backward()
    xs, ys, grad = to_numpy(x), to_numpy(y), to_numpy(x.grad)
    negative = xs < 0
    slopes = ys[negative] / xs[negative]
    assert ((slopes >= 0.1) & (slopes <= 0.4)).all() and len(np.unique(slopes)) > 10
    np.testing.assert_allclose(grad[negative], slopes)
    np.testing.assert_array_equal(grad[xs > 0], 1.0)
    work = x.detach() * 1.0
    assert F.rrelu(work, training=True, inplace=True) is work
    ours, theirs = nn.RReLU(0.2, 0.3), torch.nn.RReLU(0.2, 0.3)
    assert repr(ours) == repr(theirs)
    ours.eval()
    theirs.eval()
    x.grad = None
    run_both(torch, ours, theirs, [x])


def test_softmax2d_and_channel_shuffle_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for shape in ((2, 3, 4, 5), (3, 4, 5)):
        run_both(torch, nn.Softmax2d(), torch.nn.Softmax2d(),
                 [leaf(rng.standard_normal(shape), device=device)])
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(mg.randn(2, 3))
    x = leaf(rng.standard_normal((2, 6, 3, 2)), device=device)
    run_both(torch, lambda t: F.channel_shuffle(t, 3),
             lambda t: torch.nn.functional.channel_shuffle(t, 3), [x])
    assert repr(nn.ChannelShuffle(2)) == repr(torch.nn.ChannelShuffle(2))
    np.testing.assert_array_equal(
        nn.ChannelShuffle(2)(mg.arange(6.0).reshape(1, 6, 1)).numpy().ravel(),
        [0, 3, 1, 4, 2, 5])
    with pytest.raises(RuntimeError, match="Got 6 channels and 4 groups"):
        F.channel_shuffle(mg.randn(2, 6, 3), 4)
