"""F.conv2d: PyTorch parity (values, input/weight/bias gradients) over hypothesis-drawn
stride/padding/dilation/groups, 'same'/'valid' padding, unbatched input, float32, second
derivatives, and PyTorch's error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 2, 3]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = [dilation[a] * (k[a] - 1) + 1 for a in range(2)]
    h = max(1, span[0] - 2 * padding[0] + draw(st.integers(0, 3)))
    w = max(1, span[1] - 2 * padding[1] + draw(st.integers(0, 3)))
    shape = (draw(st.integers(0, 2)), c, h, w)
    return shape, (o, c // groups) + k, dict(stride=stride, padding=padding, dilation=dilation,
                                              groups=groups), draw(st.booleans())


@given(conv_case(), st.integers(0, 2 ** 16))
def test_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    x_shape, w_shape, kw, with_bias = case
    rng = np.random.default_rng(seed)
    x, w = (leaf(rng.standard_normal(x_shape), device=device),
            leaf(rng.standard_normal(w_shape), device=device))
    b = leaf(rng.standard_normal(w_shape[0]), device=device) if with_bias else None
    run_both(torch, lambda x, w, b: F.conv2d(x, w, b, **kw),
             lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), [x, w, b], seed)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=15)
@given(st.sampled_from(["same", "valid"]), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 2), st.integers(0, 2 ** 16))
def test_string_padding_matches_torch(device, padding, kh, kw, dilation, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((2, 2, 7, 8)), device=device)
    w, b = (leaf(rng.standard_normal((3, 2, kh, kw)), device=device),
            leaf(rng.standard_normal(3), device=device))
    out = run_both(torch, lambda x, w, b: F.conv2d(x, w, b, padding=padding, dilation=dilation),
                   lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=padding,
                                                              dilation=dilation),
                   [x, w, b], seed)
    if padding == "same":
        assert tuple(out.shape[2:]) == (7, 8)


def test_unbatched_input_and_float32(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = (leaf(rng.standard_normal((2, 5, 5)), device=device),
            leaf(rng.standard_normal((4, 2, 3, 3)), device=device))
    run_both(torch, lambda x, w: F.conv2d(x, w, stride=2, padding=1),
             lambda x, w: torch.nn.functional.conv2d(x, w, stride=2, padding=1), [x, w])
    x32 = mg.tensor(rng.standard_normal((1, 2, 6, 6)), dtype=mg.float32, requires_grad=True,
                    device=device)
    w32 = mg.tensor(rng.standard_normal((3, 2, 3, 3)), dtype=mg.float32, requires_grad=True,
                    device=device)
    y = F.conv2d(x32, w32)
    assert y.dtype == mg.float32
    y.sum().backward()
    assert x32.grad.dtype == mg.float32 and w32.grad.dtype == mg.float32
    expected = torch.nn.functional.conv2d(torch.from_numpy(x32.detach().cpu().numpy()),
                                          torch.from_numpy(w32.detach().cpu().numpy()))
    np.testing.assert_allclose(y.detach().cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_non_contiguous_input_and_weight(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = mg.from_numpy(np.swapaxes(rng.standard_normal((2, 3, 6, 5)), 2, 3)).to(device).requires_grad_()
    w = mg.from_numpy(np.swapaxes(rng.standard_normal((4, 3, 2, 3)), 0, 1)[:, :3].copy()
                      .transpose(1, 0, 2, 3)).to(device).requires_grad_()
    assert not x.is_contiguous() and not w.is_contiguous()
    run_both(torch, lambda x, w: F.conv2d(x, w, padding=1),
             lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), [x, w])


def test_gradcheck_and_gradgradcheck_with_bias_and_same_padding(device):
    rng = np.random.default_rng(1)
    x, w = (leaf(rng.standard_normal((1, 2, 3, 4)), device=device),
            leaf(rng.standard_normal((2, 1, 2, 2)), device=device))
    b = leaf(rng.standard_normal(2), device=device)
    fn = lambda x, w, b: F.conv2d(x, w, b, padding="same", groups=2)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_seed_001_walkthrough_shapes(device):
    """28×28 → conv 3×3 → 26×26 → pool 2 → 13×13 → conv 3×3 → 11×11 → pool 2 → 5×5."""
    x = mg.randn(1, 1, 28, 28, device=device)
    y = F.conv2d(x, mg.randn(32, 1, 3, 3, device=device))
    assert tuple(y.shape) == (1, 32, 26, 26)
    y = F.max_pool2d(F.relu(y), 2)
    assert tuple(y.shape) == (1, 32, 13, 13)
    y = F.max_pool2d(F.relu(F.conv2d(y, mg.randn(64, 32, 3, 3, device=device))), 2)
    assert tuple(y.shape) == (1, 64, 5, 5)


@pytest.mark.parametrize("x_shape,w_shape,kwargs,error,message", [
    ((2, 4, 5, 5), (8, 3, 3, 3), {}, RuntimeError,
     "Given groups=1, weight of size [8, 3, 3, 3], expected input[2, 4, 5, 5] to have 3 "
     "channels, but got 4 channels instead"),
    ((2, 4, 5, 5), (6, 2, 3, 3), {"groups": 4}, RuntimeError,
     "Given groups=4, expected weight to be divisible by 4 at dimension 0"),
    ((5, 5), (6, 4, 3, 3), {}, RuntimeError,
     "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 5]"),
    ((1, 4, 2, 2), (6, 4, 3, 3), {}, RuntimeError,
     "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3)"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"stride": 2, "padding": "same"}, RuntimeError,
     "padding='same' is not supported for strided convolutions"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"padding": "foo"}, RuntimeError, "Invalid padding string: 'foo'"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"padding": -1}, RuntimeError, "negative padding is not supported"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"stride": 0}, RuntimeError, "non-positive stride is not supported"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"groups": 0}, RuntimeError, "non-positive groups is not supported"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"stride": (1, 1, 1)}, RuntimeError,
     "expected stride to be a single integer value or a list of 2 values"),
    ((1, 4, 5, 5), (6, 4, 3), {}, RuntimeError, "weight of size [6, 4, 3]"),
])
def test_errors_name_the_shapes(x_shape, w_shape, kwargs, error, message, device):
    with pytest.raises(error) as info:
        F.conv2d(mg.randn(*x_shape, device=device), mg.randn(*w_shape, device=device), **kwargs)
    assert message in str(info.value)


def test_bias_and_dtype_errors(device):
    x, w = mg.randn(1, 4, 5, 5, device=device), mg.randn(6, 4, 3, 3, device=device)
    with pytest.raises(RuntimeError, match=r"expected bias to be 1-dimensional with 6 elements, "
                                           r"but got bias of size \[5\]"):
        F.conv2d(x, w, mg.randn(5, device=device))
    with pytest.raises(RuntimeError, match="float64"):
        F.conv2d(x.double(), w)
