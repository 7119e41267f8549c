"""Conv3d, ConvTranspose3d, AvgPool3d against torch.nn: parameter names and shapes, reprs,
PyTorch weights loaded as numpy arrays giving equal outputs and weight/bias/input gradients
(every padding mode for Conv3d, ``output_size`` for ConvTranspose3d)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
from tests.nn.parity import assert_same_state_layout, compare_modules, leaf, run_both


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=10, deadline=None)
@given(st.sampled_from([1, 2]), st.sampled_from([1, (2, 1, 3)]), st.sampled_from([1, (1, 2, 1)]),
       st.sampled_from([0, (1, 0, 1), "same", "valid"]), st.booleans(),
       st.sampled_from(["zeros", "reflect", "replicate", "circular"]), st.integers(0, 2 ** 16))
def test_conv3d_matches_torch(device, groups, kernel_size, stride, padding, bias, padding_mode,
                              seed):
    torch = pytest.importorskip("torch")
    if padding == "same":
        stride = 1
    kw = dict(stride=stride, padding=padding, groups=groups, bias=bias, padding_mode=padding_mode)
    ours, theirs = nn.Conv3d(2, 4, kernel_size, **kw), torch.nn.Conv3d(2, 4, kernel_size, **kw)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(seed).standard_normal((2, 2, 4, 5, 4)), device=device)
    compare_modules(torch, ours, theirs, x, seed=seed)


def test_conv_transpose3d_matches_torch_with_output_size(device):
    torch = pytest.importorskip("torch")
    kw = dict(stride=(2, 1, 2), padding=1, groups=2, dilation=(1, 2, 1))
    ours, theirs = nn.ConvTranspose3d(4, 2, 3, **kw), torch.nn.ConvTranspose3d(4, 2, 3, **kw)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(3).standard_normal((1, 4, 3, 3, 4)), device=device)
    compare_modules(torch, ours, theirs, x)
    x = leaf(np.random.default_rng(5).standard_normal((1, 4, 3, 3, 4)), device=device)
    out = run_both(torch, lambda x: ours(x, output_size=(6, 5, 8)),
                   lambda x: theirs(x, output_size=(6, 5, 8)), [x])
    assert tuple(out.shape) == (1, 2, 6, 5, 8)


def test_avg_pool3d_module_matches_torch(device):
    torch = pytest.importorskip("torch")
    kw = dict(stride=(1, 2, 2), padding=1, ceil_mode=True, count_include_pad=False)
    ours, theirs = nn.AvgPool3d(3, **kw), torch.nn.AvgPool3d(3, **kw)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(4).standard_normal((2, 3, 4, 5, 6)), device=device)
    run_both(torch, ours, theirs, [x])


def test_max_pool3d_and_adaptive_avg_pool3d_modules_match_torch(device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(7).standard_normal((2, 3, 5, 6, 7)), device=device)
    ours, theirs = nn.MaxPool3d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool3d(3, 2, 1, ceil_mode=True)
    assert repr(ours) == repr(theirs)
    run_both(torch, ours, theirs, [x])
    values, indices = nn.MaxPool3d(2, return_indices=True)(x)
    expected = torch.nn.MaxPool3d(2, return_indices=True)(torch.from_numpy(x.detach().cpu().numpy()))
    np.testing.assert_array_equal(indices.cpu().numpy(), expected[1].numpy())
    x = leaf(np.random.default_rng(8).standard_normal((2, 3, 5, 6, 7)), device=device)
    ours, theirs = nn.AdaptiveAvgPool3d((2, None, 3)), torch.nn.AdaptiveAvgPool3d((2, None, 3))
    assert repr(ours) == repr(theirs)
    run_both(torch, ours, theirs, [x])


def test_lp_pool3d_and_max_unpool3d_modules_match_torch(device):
    torch = pytest.importorskip("torch")
    data = np.abs(np.random.default_rng(11).standard_normal((2, 3, 4, 6, 6))) + 0.1
    ours, theirs = nn.LPPool3d(2, 2), torch.nn.LPPool3d(2, 2)
    assert repr(ours) == repr(theirs)
    run_both(torch, ours, theirs, [leaf(data, device=device)])
    values, indices = torch.nn.MaxPool3d(2, return_indices=True)(torch.from_numpy(data))
    ours, theirs = nn.MaxUnpool3d(2), torch.nn.MaxUnpool3d(2)
    assert repr(ours) == repr(theirs)
    index = mg.tensor(indices.numpy(), device=device)
    run_both(torch, lambda v: ours(v, index), lambda v: theirs(v, indices),
             [leaf(values.numpy(), device=device)])


def test_adaptive_max_pool3d_module_matches_torch(device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.AdaptiveMaxPool3d((2, None, 3)), torch.nn.AdaptiveMaxPool3d((2, None, 3))
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(13).standard_normal((2, 3, 5, 6, 7)), device=device)
    run_both(torch, ours, theirs, [x])
