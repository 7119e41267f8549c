"""Pooling kernels against PyTorch (values, indices, gradients, ceil_mode, count_include_pad,
divisor_override) and against float64 central differences."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minigrad_kernels as kernels

# These tests describe the reference implementations (see conftest.reference_kernels).
pytestmark = pytest.mark.usefixtures("reference_kernels")

SETTINGS = settings(deadline=None, max_examples=25)


def every_window_sees_the_input(size, kernel, stride, padding, dilation, ceil_mode):
    """False for the degenerate case (dilated windows landing only in padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    taps = np.arange(out)[:, None] * stride + np.arange(kernel)[None, :] * dilation - padding
    return bool(((taps >= 0) & (taps < size)).any(axis=1).all())


@st.composite
def pool_cases(draw, dilated=True, max_size=7):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    ceil_mode = draw(st.booleans())
    size = []
    for a in range(2):
        reach = dilation[a] * (kernel[a] - 1) + 1
        size.append(draw(st.integers(max(1, reach - 2 * padding[a]), reach + max_size)))
        assume(every_window_sees_the_input(size[a], kernel[a], stride[a], padding[a],
                                           dilation[a], ceil_mode))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    # Distinct, well separated values: no ties, and a small nudge never moves the argmax.
    x = rng.permutation(n * c * size[0] * size[1]).reshape(n, c, *size) * 0.1 - 3.0
    return dict(x=x.astype(np.float64), kernel_size=kernel, stride=stride, padding=padding,
                dilation=dilation, ceil_mode=ceil_mode)


def max_args(case):
    return case["kernel_size"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"]


@st.composite
def avg_cases(draw):
    case = draw(pool_cases(dilated=False))
    case["count_include_pad"] = draw(st.booleans())
    case["divisor_override"] = draw(st.sampled_from([None, None, 1, 3, 7]))
    return case


def avg_args(case):
    return (case["kernel_size"], case["stride"], case["padding"], case["ceil_mode"],
            case["count_include_pad"], case["divisor_override"])


@SETTINGS
@given(pool_cases())
def test_max_pool_values_indices_and_gradient_match_torch(case):
    torch = pytest.importorskip("torch")
    x = case["x"]
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, *max_args(case), return_indices=True)
    dy = np.random.default_rng(1).standard_normal(yt.shape)
    yt.backward(torch.from_numpy(dy))

    y, indices = kernels.max_pool2d_forward(x, *max_args(case))
    assert y.shape == tuple(yt.shape) and indices.dtype == np.int64
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(indices, it.numpy())
    np.testing.assert_allclose(kernels.max_pool2d_backward(dy, indices, x.shape), xt.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


@SETTINGS
@given(avg_cases())
def test_avg_pool_values_and_gradient_match_torch(case):
    torch = pytest.importorskip("torch")
    x = case["x"]
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(xt, *avg_args(case))
    dy = np.random.default_rng(1).standard_normal(yt.shape)
    yt.backward(torch.from_numpy(dy))

    y = kernels.avg_pool2d_forward(x, *avg_args(case))
    dx = kernels.avg_pool2d_backward(dy, x.shape, *avg_args(case))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(case=pool_cases(max_size=3))
def test_max_pool_backward_matches_central_differences(case, numeric_vjp):
    x = case["x"]
    y, indices = kernels.max_pool2d_forward(x, *max_args(case))
    dy = np.random.default_rng(2).standard_normal(y.shape)
    numeric = numeric_vjp(lambda x_: kernels.max_pool2d_forward(x_, *max_args(case))[0], x, dy)
    np.testing.assert_allclose(kernels.max_pool2d_backward(dy, indices, x.shape), numeric,
                               rtol=1e-6, atol=1e-7)


@SETTINGS
@given(case=avg_cases())
def test_avg_pool_backward_matches_central_differences(case, numeric_vjp):
    x = case["x"][:1, :1]
    y = kernels.avg_pool2d_forward(x, *avg_args(case))
    dy = np.random.default_rng(2).standard_normal(y.shape)
    numeric = numeric_vjp(lambda x_: kernels.avg_pool2d_forward(x_, *avg_args(case)), x, dy)
    np.testing.assert_allclose(kernels.avg_pool2d_backward(dy, x.shape, *avg_args(case)), numeric,
                               rtol=1e-6, atol=1e-7)


def test_max_pool_indices_are_flat_plane_indices():
    x = np.array([[[[1., 5., 2.], [7., 0., 3.], [4., 8., 6.]]]])
    y, indices = kernels.max_pool2d_forward(x, (2, 2), (1, 1), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(y[0, 0], [[7, 5], [8, 8]])
    np.testing.assert_array_equal(indices[0, 0], [[3, 1], [7, 7]])
    dx = kernels.max_pool2d_backward(np.ones_like(y), indices, x.shape)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1, 0], [1, 0, 0], [0, 2, 0]])  # 8 picked twice


def test_max_pool_nan_and_all_negative_infinity_windows_follow_torch():
    torch = pytest.importorskip("torch")
    inf, nan = np.inf, np.nan
    for x in [np.array([[[[-inf, -inf], [-inf, 1.0]]]]),
              np.array([[[[nan, 2.0, 1.0], [nan, 1.0, -inf], [0.0, nan, -inf]]]])]:
        yt, it = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, 1, 1, return_indices=True)
        y, indices = kernels.max_pool2d_forward(x, (2, 2), (1, 1), (1, 1), (1, 1), False)
        np.testing.assert_array_equal(y, yt.numpy())
        np.testing.assert_array_equal(indices, it.numpy())


def test_ceil_mode_drops_a_window_starting_in_the_right_padding():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    y, _ = kernels.max_pool2d_forward(x, (2, 2), (2, 2), (1, 1), (1, 1), True)
    assert y.shape == (1, 1, 3, 3)                          # not 4: that window would start at 6
    y = kernels.avg_pool2d_forward(x, (3, 3), (2, 2), (0, 0), True, True)
    assert y.shape == (1, 1, 2, 2)


def test_float32_in_float32_out():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7)).astype(np.float32)
    y, indices = kernels.max_pool2d_forward(x, (3, 3), (2, 2), (1, 1), (1, 1), True)
    assert y.dtype == np.float32
    assert kernels.max_pool2d_backward(y, indices, x.shape).dtype == np.float32
    a = kernels.avg_pool2d_forward(x, (3, 2), (2, 2), (1, 1), True, False)
    assert a.dtype == np.float32
    assert kernels.avg_pool2d_backward(a, x.shape, (3, 2), (2, 2), (1, 1), True, False).dtype == np.float32


def test_bad_configurations_are_rejected():
    x = np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="at most half"):
        kernels.max_pool2d_forward(x, (2, 2), (1, 1), (2, 2), (1, 1), False)
    with pytest.raises(ValueError, match="at most half"):
        kernels.avg_pool2d_forward(x, (2, 2), (1, 1), (2, 0), False, True)
    with pytest.raises(ValueError, match="only padding"):          # PyTorch returns garbage here
        kernels.max_pool2d_forward(x, (2, 2), (1, 1), (1, 1), (3, 3), False)
