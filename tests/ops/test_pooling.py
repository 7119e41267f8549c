"""The pooling Functions (ops/pooling.py): forward against numpy loops, gradients to the
arg-max / spread over the window, the scatter/gather and average-pool adjoint pairs,
first and second derivatives, and the adaptive pooling matrices."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.ops.pooling import (AvgPool2d, AvgPool2dBackward, AvgPoolWindow, MaxPool2d,
                                  MaxPoolWindow, PlaneGather, PlaneScatter,
                                  adaptive_average_pool2d, adaptive_pool_matrix)


def max_pool_loops(x, k, s, p, d):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=-np.inf)
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    y = np.empty((n, c, oh, ow))
    for a in range(oh):
        for b in range(ow):
            window = xp[:, :, a * s[0]:a * s[0] + d[0] * (k[0] - 1) + 1:d[0],
                        b * s[1]:b * s[1] + d[1] * (k[1] - 1) + 1:d[1]]
            y[:, :, a, b] = window.max(axis=(2, 3))
    return y


@st.composite
def max_window(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    h = d[0] * (k[0] - 1) + 1 + draw(st.integers(0, 3))
    w = d[1] * (k[1] - 1) + 1 + draw(st.integers(0, 3))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w), MaxPoolWindow(k, s, p, d, False)


def distinct(shape, seed):
    """Values far apart so central differences never cross a tie."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.1 + 0.05


@given(max_window(), st.integers(0, 2 ** 16))
def test_max_pool_forward_and_gradient_to_argmax(device, case, seed):
    shape, window = case
    x = mg.tensor(distinct(shape, seed), requires_grad=True, device=device)
    y, idx = MaxPool2d.apply(x, window)
    expected = max_pool_loops(x.detach().cpu().numpy(), window.kernel_size, window.stride,
                              window.padding, window.dilation)
    np.testing.assert_allclose(y.detach().cpu().numpy(), expected)
    assert idx.dtype == mg.int64 and not idx.requires_grad
    picked = np.take_along_axis(x.detach().cpu().numpy().reshape(shape[0], shape[1], -1),
                                idx.cpu().numpy().reshape(shape[0], shape[1], -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(y.shape), y.detach().cpu().numpy())
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(mg.tensor(dy, device=device))
    dx = np.zeros(shape[:2] + (shape[2] * shape[3],))
    for n_ in range(shape[0]):
        for c in range(shape[1]):
            np.add.at(dx[n_, c], idx.cpu().numpy()[n_, c].ravel(), dy[n_, c].ravel())
    np.testing.assert_allclose(x.grad.cpu().numpy(), dx.reshape(shape), rtol=1e-12)


@settings(max_examples=10)
@given(max_window(), st.integers(0, 2 ** 16))
def test_max_pool_gradcheck(device, case, seed):
    shape, window = case
    x = mg.tensor(distinct((1,) + shape[1:], seed), requires_grad=True, device=device)
    assert gradcheck(lambda t: MaxPool2d.apply(t, window)[0], (x,), eps=1e-4)


def test_max_pool_gradgradcheck_and_scatter_gather_pair(device):
    window = MaxPoolWindow((2, 2), (1, 1), (1, 0), (1, 1), True)
    x = mg.tensor(distinct((1, 2, 3, 3), 0), requires_grad=True, device=device)
    assert gradgradcheck(lambda t: MaxPool2d.apply(t, window)[0], (x,), eps=1e-4)
    _, idx = MaxPool2d.apply(x.detach(), window)
    rng = np.random.default_rng(0)
    v = mg.tensor(rng.standard_normal(idx.shape), requires_grad=True, device=device)
    g = mg.tensor(rng.standard_normal(x.shape), requires_grad=True, device=device)
    assert gradcheck(lambda a: PlaneScatter.apply(a, idx, tuple(x.shape)), (v,))
    assert gradcheck(lambda a: PlaneGather.apply(a, idx), (g,))
    # adjoint: ⟨scatter(v), g⟩ = ⟨v, gather(g)⟩
    lhs = (PlaneScatter.apply(v, idx, tuple(x.shape)) * g).sum().item()
    rhs = (v * PlaneGather.apply(g, idx)).sum().item()
    assert lhs == pytest.approx(rhs, rel=1e-12)


@st.composite
def avg_window(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    h, w = k[0] + draw(st.integers(0, 3)), k[1] + draw(st.integers(0, 3))
    divisor = draw(st.sampled_from([None, 1, 5]))
    return (1, 2, h, w), AvgPoolWindow(k, s, p, draw(st.booleans()), draw(st.booleans()), divisor)


@settings(max_examples=15)
@given(avg_window(), st.integers(0, 2 ** 16))
def test_avg_pool_gradcheck_and_adjoint(device, case, seed):
    shape, window = case
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal(shape), requires_grad=True, device=device)
    assert gradcheck(lambda t: AvgPool2d.apply(t, window), (x,))
    y = AvgPool2d.apply(x.detach(), window)
    dy = rng.standard_normal(y.shape)
    dx = AvgPool2dBackward.apply(mg.tensor(dy, device=device), shape, window).cpu().numpy()
    np.testing.assert_allclose((dx * x.detach().cpu().numpy()).sum(), (dy * y.cpu().numpy()).sum(),
                               rtol=1e-10)


def test_avg_pool_gradgradcheck(device):
    window = AvgPoolWindow((2, 3), (2, 1), (1, 1), True, False, None)
    x = mg.tensor(np.random.default_rng(1).standard_normal((1, 1, 4, 4)), requires_grad=True,
                  device=device)
    assert gradgradcheck(lambda t: AvgPool2d.apply(t, window), (x,))
    dy = mg.tensor(np.random.default_rng(2).standard_normal((1, 1, 3, 4)), requires_grad=True,
                   device=device)
    assert gradcheck(lambda g: AvgPool2dBackward.apply(g, (1, 1, 4, 4), window), (dy,))


@pytest.mark.parametrize("size,out", [(5, 3), (7, 7), (4, 1), (3, 5), (10, 4)])
def test_adaptive_pool_matrix_is_pytorch_windows(size, out):
    matrix = adaptive_pool_matrix(size, out, np, np.float64)
    for a in range(out):
        start, end = (a * size) // out, -(-((a + 1) * size) // out)
        expected = np.zeros(size)
        expected[start:end] = 1.0 / (end - start)
        np.testing.assert_allclose(matrix[a], expected)


def test_adaptive_average_pool_gradients(device):
    x = mg.tensor(np.random.default_rng(3).standard_normal((1, 2, 5, 4)), requires_grad=True,
                  device=device)
    assert gradcheck(lambda t: adaptive_average_pool2d(t, (3, 2)), (x,))
    assert gradgradcheck(lambda t: adaptive_average_pool2d(t, (1, 1)), (x,))
