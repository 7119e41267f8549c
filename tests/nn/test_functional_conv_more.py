"""conv1d, conv_transpose2d, conv_transpose1d and their layers: values and gradients
(input, weight, bias) against PyTorch in float64 over hypothesis-drawn geometry (stride,
padding, output_padding, dilation, groups), gradcheck/gradgradcheck, ``output_size``,
unbatched input, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import (leaf, run_both, compare_modules, assert_same_state_layout,
                             load_from_torch)


@st.composite
def transposed_geometry(draw, spatial):
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(spatial))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(stride, dilation))
    size = tuple(draw(st.integers(1, 4)) for _ in range(spatial))
    out = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
           zip(size, stride, padding, dilation, kernel, output_padding)]
    if min(out) <= 0:
        padding = (0,) * spatial
    return dict(groups=groups, cin=cin, cout=cout, kernel=kernel, stride=stride,
                dilation=dilation, padding=padding, output_padding=output_padding, size=size,
                batch=draw(st.integers(1, 2)), bias=draw(st.booleans()))


def _transposed_case(g, seed, device):
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((g["batch"], g["cin"]) + g["size"]), device=device)
    w = leaf(rng.standard_normal((g["cin"], g["cout"] // g["groups"]) + g["kernel"]),
             device=device)
    b = leaf(rng.standard_normal(g["cout"]), device=device) if g["bias"] else None
    kwargs = dict(stride=g["stride"], padding=g["padding"], output_padding=g["output_padding"],
                  groups=g["groups"], dilation=g["dilation"])
    return x, w, b, kwargs


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 2]).flatmap(lambda n: st.tuples(st.just(n), transposed_geometry(n))),
       st.integers(0, 2 ** 16))
def test_conv_transpose_matches_torch(device, spatial_geometry, seed):
    torch = pytest.importorskip("torch")
    spatial, g = spatial_geometry
    x, w, b, kwargs = _transposed_case(g, seed, device)
    name = f"conv_transpose{spatial}d"
    inputs = [x, w] + ([b] if b is not None else [])
    run_both(torch, lambda *t: getattr(F, name)(*t, **kwargs),
             lambda *t: getattr(torch.nn.functional, name)(*t, **kwargs), inputs, seed)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 2), st.sampled_from([0, 1, 2, "same", "valid"]), st.integers(1, 7),
       st.booleans(), st.integers(0, 2 ** 16))
def test_conv1d_matches_torch(device, groups, cper, k, stride, dilation, padding, length, bias,
                              seed):
    torch = pytest.importorskip("torch")
    if padding == "same":
        stride = 1
    if length + 2 * (padding if isinstance(padding, int) else 0) < dilation * (k - 1) + 1:
        length = dilation * (k - 1) + 1
    rng = np.random.default_rng(seed)
    cin, cout = groups * cper, groups * 2
    x = leaf(rng.standard_normal((2, cin, length)), device=device)
    w = leaf(rng.standard_normal((cout, cper, k)), device=device)
    inputs = [x, w] + ([leaf(rng.standard_normal(cout), device=device)] if bias else [])
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    run_both(torch, lambda *t: F.conv1d(*t, **kwargs),
             lambda *t: torch.nn.functional.conv1d(*t, **kwargs), inputs, seed)


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((1, 2, 3, 2)), device=device)
    w = leaf(rng.standard_normal((2, 2, 2, 2)), device=device)
    b = leaf(rng.standard_normal(4), device=device)
    fn = lambda a, c, d: F.conv_transpose2d(a, c, d, stride=2, padding=1,  # noqa: E731
                                            output_padding=1, groups=2)
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))
    x1 = leaf(rng.standard_normal((2, 2, 5)), device=device)
    w1 = leaf(rng.standard_normal((3, 2, 2)), device=device)
    assert gradgradcheck(lambda a, c: F.conv1d(a, c, stride=2, dilation=2), (x1, w1))
    w2 = leaf(rng.standard_normal((2, 3, 2)), device=device)
    assert gradgradcheck(lambda a, c: F.conv_transpose1d(a, c, stride=2, dilation=2,
                                                         output_padding=1), (x1, w2))


def test_unbatched_and_float32(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 2, 2, 2))
    out = F.conv_transpose2d(mg.tensor(x, dtype=mg.float32, device=device),
                             mg.tensor(w, dtype=mg.float32, device=device), stride=2)
    expected = torch.nn.functional.conv_transpose2d(torch.tensor(x, dtype=torch.float32),
                                                    torch.tensor(w, dtype=torch.float32),
                                                    stride=2)
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    run_both(torch, lambda a, b: F.conv1d(a, b, padding=1), lambda a, b:
             torch.nn.functional.conv1d(a, b, padding=1),
             [leaf(x[0], device=device), leaf(rng.standard_normal((2, 4, 3)), device=device)])


def test_errors_match_torch():
    r = mg.randn
    cases = [
        (lambda: F.conv1d(r(2, 3, 4, 5), r(4, 3, 3)),
         "Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to conv1d"),
        (lambda: F.conv1d(r(2, 5, 8), r(4, 3, 3)),
         "expected input\\[2, 5, 8\\] to have 3 channels, but got 5 channels instead"),
        (lambda: F.conv1d(r(2, 3, 8), r(4, 3, 3), stride=(1, 2)),
         "expected stride to be a single integer value or a list of 1 values"),
        (lambda: F.conv_transpose2d(r(2, 5, 8, 8), r(3, 4, 3, 3)),
         "Given transposed=1, weight of size \\[3, 4, 3, 3\\], expected input\\[2, 5, 8, 8\\] "
         "to have 3 channels, but got 5 channels instead"),
        (lambda: F.conv_transpose2d(r(2, 3, 8, 8), r(3, 4, 3, 3), output_padding=1),
         "output padding must be smaller than either stride or dilation, but got "
         "output_padding_height: 1 output_padding_width: 1 stride_height: 1 stride_width: 1 "
         "dilation_height: 1 dilation_width: 1"),
        (lambda: F.conv_transpose2d(r(2, 3, 8, 8), r(3, 4, 3, 3), padding=-1),
         "negative padding is not supported"),
        (lambda: F.conv_transpose2d(r(2, 3, 8, 8), r(3, 4, 3, 3), bias=r(3)),
         "expected bias to be 1-dimensional with 4 elements"),
        (lambda: F.conv_transpose2d(r(2, 4, 8, 8), r(4, 2, 3, 3), groups=3),
         "expected weight to be divisible by 3 at dimension 0"),
        (lambda: F.conv_transpose2d(r(2, 3, 8, 8), r(3, 4, 3, 3), stride=0),
         "non-positive stride is not supported"),
        (lambda: F.conv_transpose1d(r(2, 3, 8, 1), r(3, 4, 3)),
         "Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to conv_transpose1d"),
        (lambda: F.conv_transpose2d(r(1, 3, 1, 1), r(3, 4, 3, 3), padding=3),
         "Output size is too small"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=message):
            call()
    with pytest.raises(TypeError, match="argument 'padding' must be tuple of ints, not str"):
        F.conv_transpose2d(r(2, 3, 8, 8), r(3, 4, 3, 3), padding="same")


LAYERS = [
    ("Conv1d", (3, 4, 3), {}), ("Conv1d", (4, 6, 2), {"stride": 2, "groups": 2, "bias": False}),
    ("Conv1d", (3, 4, 3), {"padding": "same", "dilation": 2}),
    ("Conv1d", (3, 4, 3), {"padding": 2, "padding_mode": "circular"}),
    ("Conv1d", (3, 4, 3), {"padding": 1, "padding_mode": "reflect"}),
    ("ConvTranspose2d", (3, 4, 3), {}),
    ("ConvTranspose2d", (4, 6, (2, 3)), {"stride": 2, "padding": 1, "output_padding": 1,
                                         "groups": 2}),
    ("ConvTranspose2d", (3, 2, 3), {"dilation": 2, "bias": False}),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 3, "output_padding": 2}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_layers_match_torch(name, args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert_same_state_layout(ours, theirs)
    spatial = 2 if name.endswith("2d") else 1
    x = leaf(np.random.default_rng(3).standard_normal((2, args[0]) + (6,) * spatial),
             device=device)
    compare_modules(torch, ours, theirs, x)


def test_default_init_bounds_match_torch():
    """kaiming_uniform(a=√5) with fan_in = weight.shape[1]·Πkernel (out/groups for transposed)."""
    m = nn.ConvTranspose2d(8, 6, 3, groups=2)
    fan_in = 3 * 3 * 3
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(m.weight.detach().numpy()).max() <= bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert np.abs(m.weight.detach().numpy()).max() > bound / 2


def test_conv_transpose_output_size(device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.ConvTranspose2d(2, 3, 3, stride=2).double(), \
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    x = leaf(np.random.default_rng(4).standard_normal((1, 2, 4, 4)), device=device)
    load_from_torch(ours, theirs)
    ours.to(device)
    for size in ([9, 10], [1, 3, 10, 9]):
        out = ours(x, output_size=size)
        expected = theirs(torch.from_numpy(x.detach().cpu().numpy()), output_size=size)
        np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(),
                                   rtol=1e-12)
    with pytest.raises(ValueError, match="requested an output size of \\[12, 12\\], but valid "
                                         "sizes range from \\[9, 9\\] to \\[10, 10\\]"):
        ours(x, output_size=[12, 12])
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
