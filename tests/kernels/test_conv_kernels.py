"""Convolution kernels (im2col/col2im, conv2d forward and both VJPs) against PyTorch,
a naive loop, and float64 central differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad_kernels as kernels

# These tests describe the reference implementations (see conftest.reference_kernels).
pytestmark = pytest.mark.usefixtures("reference_kernels")

SETTINGS = settings(deadline=None, max_examples=25)


@st.composite
def conv_cases(draw, max_size=7):
    """A convolution configuration whose output is at least 1×1, plus random data."""
    groups = draw(st.integers(1, 3))
    c_per_group, o_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = []
    for a in range(2):
        reach = dilation[a] * (kernel[a] - 1) + 1          # span of one window
        size.append(draw(st.integers(max(1, reach - 2 * padding[a]), reach + max_size)))
    n = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((n, groups * c_per_group, *size))
    if draw(st.booleans()):                                 # a non-contiguous view, same values
        x = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    w = rng.standard_normal((groups * o_per_group, c_per_group, *kernel))
    return dict(x=x, w=w, stride=stride, padding=padding, dilation=dilation, groups=groups)


def naive_conv2d(x, w, stride, padding, dilation, groups):
    """The definition, loop by loop (tiny sizes only)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, oh, ow))
    for b in range(n):
        for out in range(o):
            first = (out // (o // groups)) * cg
            for r in range(oh):
                for s in range(ow):
                    for ch in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                y[b, out, r, s] += w[out, ch, i, j] * xpad[
                                    b, first + ch, r * stride[0] + i * dilation[0], s * stride[1] + j * dilation[1]]
    return y


def conv_args(case):
    return case["stride"], case["padding"], case["dilation"], case["groups"]


@SETTINGS
@given(conv_cases(max_size=3))
def test_conv2d_forward_matches_naive_loop(case):
    y = kernels.conv2d_forward(case["x"], case["w"], *conv_args(case))
    np.testing.assert_allclose(y, naive_conv2d(case["x"], case["w"], *conv_args(case)), atol=1e-12)


@SETTINGS
@given(conv_cases())
def test_conv2d_forward_and_gradients_match_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w = case["x"], case["w"]
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    yt = F.conv2d(xt, wt, None, *conv_args(case))
    dy = np.random.default_rng(1).standard_normal(yt.shape)
    yt.backward(torch.from_numpy(dy))

    y = kernels.conv2d_forward(x, w, *conv_args(case))
    dx = kernels.conv2d_backward_input(dy, w, x.shape, *conv_args(case))
    dw = kernels.conv2d_backward_weight(dy, x, w.shape, *conv_args(case))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-10, atol=1e-10)


@SETTINGS
@given(case=conv_cases(max_size=3))
def test_conv2d_backward_kernels_match_central_differences(case, numeric_vjp):
    x, w = case["x"], case["w"]
    args = conv_args(case)
    y = kernels.conv2d_forward(x, w, *args)
    dy = np.random.default_rng(2).standard_normal(y.shape)
    dx = kernels.conv2d_backward_input(dy, w, x.shape, *args)
    dw = kernels.conv2d_backward_weight(dy, x, w.shape, *args)
    np.testing.assert_allclose(dx, numeric_vjp(lambda x_: kernels.conv2d_forward(x_, w, *args), x, dy),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, numeric_vjp(lambda w_: kernels.conv2d_forward(x, w_, *args), w, dy),
                               rtol=1e-6, atol=1e-7)


@SETTINGS
@given(conv_cases())
def test_im2col_and_col2im_match_torch_unfold_and_fold(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = case["x"]
    kernel = case["w"].shape[2:]
    geometry = (kernel, case["stride"], case["padding"], case["dilation"])
    cols = kernels.im2col(x, *geometry)
    expected = F.unfold(torch.from_numpy(x), kernel, case["dilation"], case["padding"], case["stride"])
    np.testing.assert_array_equal(cols, expected.numpy())
    folded = kernels.col2im(cols, x.shape, *geometry)
    expected = F.fold(expected, x.shape[2:], kernel, case["dilation"], case["padding"], case["stride"])
    np.testing.assert_allclose(folded, expected.numpy(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(conv_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    """⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, which is why col2im gives the input gradient."""
    x = case["x"]
    geometry = (case["w"].shape[2:], case["stride"], case["padding"], case["dilation"])
    cols = kernels.im2col(x, *geometry)
    c = np.random.default_rng(3).standard_normal(cols.shape)
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, kernels.col2im(c, x.shape, *geometry)), rtol=1e-10)


def test_float32_in_float32_out():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 5)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    args = ((2, 1), (1, 1), (1, 2), 2)
    y = kernels.conv2d_forward(x, w, *args)
    assert y.dtype == np.float32
    assert kernels.conv2d_backward_input(y, w, x.shape, *args).dtype == np.float32
    assert kernels.conv2d_backward_weight(y, x, w.shape, *args).dtype == np.float32
    np.testing.assert_allclose(y, naive_conv2d(x.astype(np.float64), w.astype(np.float64), *args),
                               rtol=1e-4, atol=1e-4)


def test_pixels_skipped_by_the_stride_get_zero_gradient():
    x = np.ones((1, 1, 5, 5))
    w = np.ones((1, 1, 2, 2))
    dx = kernels.conv2d_backward_input(np.ones((1, 1, 2, 2)), w, x.shape, (2, 2), (0, 0), (1, 1), 1)
    assert (dx[0, 0, 4, :] == 0).all() and (dx[0, 0, :, 4] == 0).all()
    assert (dx[0, 0, :4, :4] == 1).all()


def test_bad_configurations_are_rejected():
    x = np.ones((1, 4, 5, 5))
    with pytest.raises(ValueError, match="groups"):
        kernels.conv2d_forward(x, np.ones((3, 2, 3, 3)), (1, 1), (0, 0), (1, 1), 2)
    with pytest.raises(ValueError, match="input channels"):
        kernels.conv2d_forward(x, np.ones((4, 3, 3, 3)), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="does not fit"):
        kernels.conv2d_forward(x, np.ones((4, 4, 3, 3)), (1, 1), (0, 0), (3, 3), 1)
    with pytest.raises(ValueError, match="cols has shape"):
        kernels.col2im(np.ones((1, 9, 5)), (1, 1, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="dy has spatial shape"):
        kernels.conv2d_backward_input(np.ones((1, 4, 2, 2)), np.ones((4, 4, 3, 3)), x.shape,
                                      (1, 1), (0, 0), (1, 1), 1)
