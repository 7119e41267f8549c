"""softmax and log_softmax: PyTorch forward/gradient parity on hypothesis-drawn shapes
(zero-size and non-contiguous included) for every dim, numerical first and second
derivatives in float64, and the numerically hard cases (huge logits, −∞ rows)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import shapes, nonempty_shapes, tensors, non_contiguous

FUNCTIONS = ["softmax", "log_softmax"]


@st.composite
def case(draw, shape_strategy=None, dtype=np.float64):
    x = draw(tensors(shape_strategy if shape_strategy is not None else shapes(max_dims=3), dtype=dtype,
                     low=-30.0, high=30.0))
    rank = max(x.ndim, 1)
    return x, draw(st.integers(-rank, rank - 1))


def as_torch(torch, t):
    return torch.from_numpy(np.array(t.detach().cpu().numpy())).requires_grad_(t.requires_grad)


@given(case(), st.sampled_from(FUNCTIONS), st.integers(0, 2 ** 16))
def test_matches_torch_forward_and_backward(device, c, name, seed):
    torch = pytest.importorskip("torch")
    x, dim = c
    x = on_device(x, device)
    tx = as_torch(torch, x)
    y, ty = getattr(mg, name)(x, dim), getattr(torch, name)(tx, dim)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    g = np.random.default_rng(seed).standard_normal(x.shape)
    y.backward(mg.tensor(g, device=device))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


@given(case(dtype=np.float32), st.sampled_from(FUNCTIONS))
def test_float32_stays_float32_and_matches_torch(device, c, name):
    torch = pytest.importorskip("torch")
    x, dim = c
    x = on_device(x, device)
    tx = as_torch(torch, x)
    y, ty = getattr(x, name)(dim), getattr(tx, name)(dim)
    assert y.dtype == mg.float32
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


@given(case(shape_strategy=nonempty_shapes(min_dims=1, max_dims=4)))
def test_softmax_rows_are_distributions(device, c):
    x, dim = c
    x = on_device(x, device)
    y = mg.softmax(x, dim).detach().cpu().numpy()
    assert (y >= 0).all()
    np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(mg.log_softmax(x, dim).detach().cpu().numpy()), y, rtol=1e-10,
                               atol=1e-300)


@st.composite
def small_case(draw):
    shape = draw(nonempty_shapes(min_dims=0, max_dims=3, max_side=3))
    array = draw(hnp.arrays(np.float64, shape, elements=st.floats(-4, 4, allow_nan=False)))
    if draw(st.booleans()):
        array = non_contiguous(array)
    rank = max(len(shape), 1)
    return mg.from_numpy(array).requires_grad_(), draw(st.integers(-rank, rank - 1))


@settings(max_examples=20)
@given(small_case(), st.sampled_from(FUNCTIONS))
def test_gradcheck(device, c, name):
    x, dim = c
    x = on_device(x, device)
    assert gradcheck(lambda t: getattr(mg, name)(t, dim), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


@settings(max_examples=10)
@given(small_case(), st.sampled_from(FUNCTIONS))
def test_gradgradcheck(device, c, name):
    x, dim = c
    x = on_device(x, device)
    assert gradgradcheck(lambda t: getattr(mg, name)(t, dim), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_golden_log_softmax_of_wide_logits_equals_torch(device):
    torch = pytest.importorskip("torch")
    logits = [-781.17, -1043.73, 890.25, -1235.0]
    got = mg.log_softmax(mg.tensor(logits, device=device), 0)
    expected = torch.log_softmax(torch.tensor(logits), 0)
    assert got.dtype == mg.float32
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    np.testing.assert_allclose(got.cpu().numpy(), np.array(logits, np.float64) - 890.25, rtol=1e-6)


def test_large_logits_are_finite(device):
    x = mg.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp
        y = mg.softmax(x, 1)
        z = mg.log_softmax(x, 1)
    assert np.isfinite(y.detach().cpu().numpy()).all() and np.isfinite(z.detach().cpu().numpy()).all()
    np.testing.assert_allclose(y.detach().cpu().numpy(), [[1, 0, 0], [1 / 3] * 3], rtol=1e-6)
    (y * mg.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], device=device)).sum().backward()
    assert np.isfinite(x.grad.cpu().numpy()).all()


def test_fully_masked_row_is_nan_like_torch(device):
    torch = pytest.importorskip("torch")
    rows = [[-np.inf, -np.inf], [0.0, -np.inf]]
    for name in FUNCTIONS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NaN quietly, as PyTorch
            got = getattr(mg, name)(mg.tensor(rows, device=device), 1).cpu().numpy()
        expected = getattr(torch, name)(torch.tensor(rows), 1).numpy()
        np.testing.assert_array_equal(got, expected)


def test_dtype_argument_and_integer_inputs(device):
    ints = mg.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError, match="softmax"):
        mg.softmax(ints, 0)
    with pytest.raises(RuntimeError, match="log_softmax"):
        ints.log_softmax(0)
    y = mg.softmax(ints, 0, dtype=mg.float64)
    assert y.dtype == mg.float64
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    z = x.log_softmax(0, dtype=mg.float64)
    assert z.dtype == mg.float64
    z.sum().backward()
    assert x.grad.dtype == mg.float32


def test_dim_handling(device):
    x = mg.randn(2, 3, 4, device=device)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.softmax(x, 3)
    with pytest.raises(TypeError):
        mg.softmax(x, (0, 1))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        implicit = mg.softmax(x)  # PyTorch's legacy rule: dim 0 for 3-d input
    np.testing.assert_allclose(implicit.cpu().numpy(), mg.softmax(x, 0).cpu().numpy())
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(mg.log_softmax(x[0]).cpu().numpy(),
                                   mg.log_softmax(x[0], 1).cpu().numpy())
    np.testing.assert_allclose(x.softmax(-1).cpu().numpy(), mg.softmax(x, 2).cpu().numpy())


def test_zero_dim_and_zero_size_inputs(device):
    s = mg.tensor(3.0, requires_grad=True, device=device)
    assert mg.softmax(s, 0).item() == 1.0 and mg.log_softmax(s, -1).item() == 0.0
    mg.softmax(s, 0).backward()
    assert s.grad.item() == 0.0
    e = mg.zeros(0, 3, requires_grad=True, device=device)
    for name in FUNCTIONS:
        y = getattr(mg, name)(e, 0)
        assert y.shape == (0, 3)
        y.sum().backward()
        assert e.grad.shape == (0, 3)
