"""F.conv3d, F.conv_transpose3d, F.avg_pool3d: PyTorch parity (values and gradients) over
hypothesis-drawn geometry, unbatched input, float32, second derivatives, PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both

triple = lambda lo, hi: st.tuples(*[st.integers(lo, hi)] * 3)  # noqa: E731


@st.composite
def conv3d_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, stride, dilation, padding = (draw(triple(1, 3)), draw(triple(1, 2)), draw(triple(1, 2)),
                                    draw(triple(0, 2)))
    sizes = tuple(max(1, dilation[a] * (k[a] - 1) + 1 - 2 * padding[a] + draw(st.integers(0, 2)))
                  for a in range(3))
    return ((draw(st.integers(1, 2)), c) + sizes, (o, c // groups) + k,
            dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
            draw(st.booleans()))


@settings(max_examples=25, deadline=None)
@given(conv3d_case(), st.integers(0, 2 ** 16))
def test_conv3d_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    x_shape, w_shape, kw, with_bias = case
    rng = np.random.default_rng(seed)
    x, w = (leaf(rng.standard_normal(x_shape), device=device),
            leaf(rng.standard_normal(w_shape), device=device))
    b = leaf(rng.standard_normal(w_shape[0]), device=device) if with_bias else None
    run_both(torch, lambda x, w, b: F.conv3d(x, w, b, **kw),
             lambda x, w, b: torch.nn.functional.conv3d(x, w, b, **kw), [x, w, b], seed)


@st.composite
def conv_transpose3d_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    c, o = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, stride, dilation = draw(triple(1, 3)), draw(triple(1, 3)), draw(triple(1, 2))
    padding = tuple(draw(st.integers(0, (dilation[a] * (k[a] - 1)) // 2)) for a in range(3))
    output_padding = tuple(draw(st.integers(0, max(stride[a], dilation[a]) - 1))
                           for a in range(3))
    return ((draw(st.integers(1, 2)), c) + draw(triple(1, 3)), (c, o) + k,
            dict(stride=stride, padding=padding, output_padding=output_padding,
                 dilation=dilation, groups=groups), draw(st.booleans()))


@settings(max_examples=25, deadline=None)
@given(conv_transpose3d_case(), st.integers(0, 2 ** 16))
def test_conv_transpose3d_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    x_shape, w_shape, kw, with_bias = case
    rng = np.random.default_rng(seed)
    x, w = (leaf(rng.standard_normal(x_shape), device=device),
            leaf(rng.standard_normal(w_shape), device=device))
    b = leaf(rng.standard_normal(w_shape[1] * kw["groups"]), device=device) if with_bias else None
    run_both(torch, lambda x, w, b: F.conv_transpose3d(x, w, b, **kw),
             lambda x, w, b: torch.nn.functional.conv_transpose3d(x, w, b, **kw), [x, w, b], seed)


@st.composite
def avg_pool3d_case(draw):
    k = draw(triple(1, 3))
    stride = draw(st.one_of(st.none(), triple(1, 3)))
    padding = tuple(draw(st.integers(0, k[a] // 2)) for a in range(3))
    sizes = tuple(k[a] + draw(st.integers(0, 3)) for a in range(3))
    return ((draw(st.integers(1, 2)), 2) + sizes,
            dict(kernel_size=k, stride=stride, padding=padding, ceil_mode=draw(st.booleans()),
                 count_include_pad=draw(st.booleans()),
                 divisor_override=draw(st.sampled_from([None, None, 3]))))


@settings(max_examples=40, deadline=None)
@given(avg_pool3d_case(), st.integers(0, 2 ** 16))
def test_avg_pool3d_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    x_shape, kw = case
    x = leaf(np.random.default_rng(seed).standard_normal(x_shape), device=device)
    run_both(torch, lambda x: F.avg_pool3d(x, **kw),
             lambda x: torch.nn.functional.avg_pool3d(x, **kw), [x], seed)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv3d_same_padding_unbatched_and_float32(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = (leaf(rng.standard_normal((2, 4, 5, 6)), device=device),
            leaf(rng.standard_normal((3, 2, 2, 3, 4)), device=device))
    out = run_both(torch, lambda x, w: F.conv3d(x, w, padding="same", dilation=(1, 2, 1)),
                   lambda x, w: torch.nn.functional.conv3d(x, w, padding="same",
                                                           dilation=(1, 2, 1)), [x, w])
    assert tuple(out.shape) == (3, 4, 5, 6)
    x32 = mg.tensor(rng.standard_normal((1, 2, 4, 4, 4)), dtype=mg.float32, requires_grad=True,
                    device=device)
    w32 = mg.tensor(rng.standard_normal((2, 2, 3, 3, 3)), dtype=mg.float32, requires_grad=True,
                    device=device)
    for y in (F.conv3d(x32, w32), F.conv_transpose3d(x32, w32), F.avg_pool3d(x32, 2)):
        assert y.dtype == mg.float32
    F.conv_transpose3d(F.conv3d(x32, w32), w32).sum().backward()
    assert x32.grad.dtype == mg.float32 and w32.grad.dtype == mg.float32


def test_avg_pool3d_unbatched_and_tinygrad_case(device):
    """tinygrad's test_avg_pool3d: a 16³ volume, 8³ window, stride 5, padding 1, no pad count."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal((1, 1, 16, 16, 16)), device=device)
    run_both(torch, lambda x: F.avg_pool3d(x, (8, 8, 8), 5, 1, count_include_pad=False),
             lambda x: torch.nn.functional.avg_pool3d(x, (8, 8, 8), 5, 1,
                                                      count_include_pad=False), [x])
    x = leaf(rng.standard_normal((3, 4, 5, 6)), device=device)
    run_both(torch, lambda x: F.avg_pool3d(x, 2, ceil_mode=True),
             lambda x: torch.nn.functional.avg_pool3d(x, 2, ceil_mode=True), [x])


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((1, 2, 3, 3, 2)), device=device)
    w = leaf(rng.standard_normal((2, 1, 2, 2, 1)), device=device)
    b = leaf(rng.standard_normal(2), device=device)
    conv = lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1), groups=2)  # noqa: E731
    transposed = lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(2, 1, 1),  # noqa: E731
                                                    groups=2)
    pool = lambda x: F.avg_pool3d(x, 2, 1, 1, count_include_pad=False)  # noqa: E731
    for fn, args in ((conv, (x, w, b)), (transposed, (x, w, b)), (pool, (x,))):
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)


@pytest.mark.parametrize("op,x_shape,w_shape,kwargs,message", [
    ("conv3d", (2, 4, 5, 5, 5), (8, 3, 3, 3, 3), {},
     "Given groups=1, weight of size [8, 3, 3, 3, 3], expected input[2, 4, 5, 5, 5] to have 3 "
     "channels, but got 4 channels instead"),
    ("conv3d", (5, 5, 5), (8, 3, 3, 3, 3), {},
     "Expected 4D (unbatched) or 5D (batched) input to conv3d, but got input of size: [5, 5, 5]"),
    ("conv3d", (1, 3, 2, 5, 5), (8, 3, 3, 3, 3), {},
     "Calculated padded input size per channel: (2 x 5 x 5). Kernel size: (3 x 3 x 3). Kernel "
     "size can't be greater than actual input size"),
    ("conv_transpose3d", (1, 3, 5, 5, 5), (4, 3, 3, 3, 3), {},
     "Given transposed=1, weight of size [4, 3, 3, 3, 3], expected input[1, 3, 5, 5, 5] to have "
     "4 channels, but got 3 channels instead"),
    ("conv_transpose3d", (1, 3, 5, 5, 5), (3, 3, 3, 3, 3), {"output_padding": 2},
     "output padding must be smaller than either stride or dilation"),
    ("avg_pool3d", (1, 3, 5, 5, 5), None, {"kernel_size": 2, "padding": 2},
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and "
     "dilation=1"),
    ("avg_pool3d", (3, 5, 5), None, {"kernel_size": 2},
     "non-empty 4D or 5D (batch mode) tensor expected for input"),
    ("avg_pool3d", (1, 1, 2, 5, 5), None, {"kernel_size": 3, "padding": 1},
     "input image (T: 2 H: 5 W: 5) smaller than kernel size (kT: 3 kH: 3 kW: 3)"),
])
def test_errors_match_torch(device, op, x_shape, w_shape, kwargs, message):
    torch = pytest.importorskip("torch")
    args = lambda lib: [lib.zeros(*x_shape)] + ([lib.zeros(*w_shape)] if w_shape else [])  # noqa
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.nn.functional, op)(*args(torch), **kwargs)
    assert message in str(theirs.value)
    with pytest.raises(RuntimeError) as ours:
        getattr(F, op)(*[t.to(device) for t in args(mg)], **kwargs)
    assert message in str(ours.value)


@st.composite
def max_pool3d_case(draw):
    k, dilation = draw(triple(1, 3)), draw(triple(1, 2))
    stride = draw(st.one_of(st.none(), triple(1, 3)))
    padding = tuple(draw(st.integers(0, k[a] // 2)) for a in range(3))
    sizes = tuple(dilation[a] * (k[a] - 1) + 1 + draw(st.integers(0, 3)) for a in range(3))
    return ((draw(st.integers(1, 2)), 2) + sizes,
            dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation,
                 ceil_mode=draw(st.booleans())))


@settings(max_examples=40, deadline=None)
@given(max_pool3d_case(), st.booleans(), st.integers(0, 2 ** 16))
def test_max_pool3d_matches_torch_values_indices_gradients(device, case, ties, seed):
    """Values, int64 flat D·H·W indices and gradients; ``ties`` draws small integers so
    windows share their maximum and the first one in (depth, row, column) order must win."""
    torch = pytest.importorskip("torch")
    x_shape, kw = case
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 3, x_shape) if ties else rng.standard_normal(x_shape)
    x = leaf(data, device=device)
    values, indices = F.max_pool3d(x, return_indices=True, **kw)
    expected, expected_indices = torch.nn.functional.max_pool3d(
        torch.from_numpy(np.array(data, dtype=np.float64)), return_indices=True, **kw)
    assert indices.dtype == mg.int64
    np.testing.assert_array_equal(indices.cpu().numpy(), expected_indices.numpy())
    run_both(torch, lambda x: F.max_pool3d(x, **kw),
             lambda x: torch.nn.functional.max_pool3d(x, **kw), [x], seed)


@pytest.mark.parametrize("output_size", [2, (3, 1, None), (5, 4, 7), 1])
@pytest.mark.parametrize("shape", [(2, 3, 7, 6, 8), (3, 5, 4, 6)])
def test_adaptive_avg_pool3d_matches_torch(device, output_size, shape):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(6).standard_normal(shape), device=device)
    run_both(torch, lambda x: F.adaptive_avg_pool3d(x, output_size),
             lambda x: torch.nn.functional.adaptive_avg_pool3d(x, output_size), [x])
    assert F.adaptive_avg_pool3d(mg.randn(1, 2, 3, 4, 5, device=device), 2).dtype == mg.float32


def test_max_and_adaptive_pool3d_errors():
    torch = pytest.importorskip("torch")
    for lib, fn in ((torch, torch.nn.functional), (mg, F)):
        with pytest.raises(RuntimeError, match="non-empty 4D or 5D"):
            fn.max_pool3d(lib.zeros(2, 3, 4), 2)
        with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel "
                                               "size, but got pad=2, kernel_size=2"):
            fn.max_pool3d(lib.zeros(1, 2, 3, 4, 4), 2, padding=2)
        with pytest.raises(RuntimeError, match=r"Given input size: \(2x1x4x4\). Calculated "
                                               r"output size: \(2x0x2x2\)"):
            fn.max_pool3d(lib.zeros(1, 2, 1, 4, 4), 2)
        with pytest.raises(RuntimeError, match=r"Expected 4D or 5D tensor, but got \[2, 3, 4\]"):
            fn.adaptive_avg_pool3d(lib.zeros(2, 3, 4), 2)


@pytest.mark.parametrize("norm_type,kwargs", [
    (2.0, {"kernel_size": 2}), (1.5, {"kernel_size": (3, 2, 2), "stride": (1, 2, 2),
                                      "ceil_mode": True}),
    (float("inf"), {"kernel_size": 2}), (-float("inf"), {"kernel_size": (2, 1, 3)})])
def test_lp_pool3d_matches_torch(device, norm_type, kwargs):
    torch = pytest.importorskip("torch")
    data = np.abs(np.random.default_rng(9).standard_normal((2, 3, 5, 6, 7))) + 0.1
    x = leaf(data, device=device)
    run_both(torch, lambda x: F.lp_pool3d(x, norm_type, **kwargs),
             lambda x: torch.nn.functional.lp_pool3d(x, norm_type, **kwargs), [x])


@pytest.mark.parametrize("shape,output_size", [((2, 3, 4, 6, 6), None),
                                               ((2, 3, 5, 6, 7), (5, 6, 7)),
                                               ((3, 5, 6, 7), [5, 6, 7]),
                                               ((1, 3, 5, 6, 7), [1, 3, 5, 6, 7])])
def test_max_unpool3d_inverts_max_pool3d_like_torch(device, shape, output_size):
    torch = pytest.importorskip("torch")
    values, indices = torch.nn.functional.max_pool3d(
        torch.from_numpy(np.random.default_rng(10).standard_normal(shape)), 2,
        return_indices=True)
    v = leaf(values.numpy(), device=device)
    index = mg.tensor(indices.numpy(), device=device)
    out = run_both(torch, lambda v: F.max_unpool3d(v, index, 2, output_size=output_size),
                   lambda v: torch.nn.functional.max_unpool3d(v, indices, 2,
                                                             output_size=output_size), [v])
    assert tuple(out.shape[-3:]) == tuple(shape[-3:])
    with pytest.raises(RuntimeError, match="Input to max_unpooling3d should be a 4d or 5d"):
        F.max_unpool3d(mg.zeros(2, 3, 4, device=device), mg.zeros(2, 3, 4, dtype=mg.int64), 2)


@pytest.mark.parametrize("output_size", [2, (3, 1, None), (5, 4, 7), (7, 6, 8)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 6, 8), (3, 7, 6, 8)])
@pytest.mark.parametrize("ties", [False, True])
def test_adaptive_max_pool3d_matches_torch(device, output_size, shape, ties):
    """Values, flat D·H·W indices (first maximum on ties) and gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    data = rng.integers(0, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    x = leaf(data, device=device)
    _, indices = F.adaptive_max_pool3d(x, output_size, return_indices=True)
    _, expected = torch.nn.functional.adaptive_max_pool3d(torch.from_numpy(data), output_size,
                                                          return_indices=True)
    np.testing.assert_array_equal(indices.cpu().numpy(), expected.numpy())
    run_both(torch, lambda x: F.adaptive_max_pool3d(x, output_size),
             lambda x: torch.nn.functional.adaptive_max_pool3d(x, output_size), [x])
