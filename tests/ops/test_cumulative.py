"""Cumulative ops: cumsum, cumprod (zeros in the input), cummax/cummin, logcumsumexp —
forward and gradients against PyTorch in float64 over hypothesis shapes and negative dims,
gradcheck/gradgradcheck, dtype rules, stability, and errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import grad, gradcheck, gradgradcheck
from tests.oracle import assert_same_surface, compare_with_torch
from tests.strategies import shapes, float_arrays

CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


@st.composite
def arrays_and_dim(draw, elements=None):
    shape = draw(shapes(max_dims=3))
    array = draw(elements(shape) if elements else float_arrays(shape))
    rank = max(len(shape), 1)
    return array, draw(st.integers(-rank, rank - 1))


def with_zeros(shape):
    """Small integers as floats: plenty of zeros and ties."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-2, 2).map(float))


@given(arrays_and_dim())
def test_cumsum_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    a, dim = case
    compare_with_torch(lambda x: mg.cumsum(x, dim), lambda x: torch.cumsum(x, dim), [a], device)
    compare_with_torch(lambda x: x.cumsum(dim=dim), lambda x: x.cumsum(dim=dim), [a], device)


@given(arrays_and_dim(with_zeros))
def test_cumprod_matches_torch_with_zeros(device, case):
    torch = pytest.importorskip("torch")
    a, dim = case
    compare_with_torch(lambda x: mg.cumprod(x, dim), lambda x: torch.cumprod(x, dim), [a], device)


@given(arrays_and_dim(with_zeros))
def test_cummax_cummin_match_torch_including_ties(device, case):
    torch = pytest.importorskip("torch")
    a, dim = case
    for op in ("cummax", "cummin"):
        out = compare_with_torch(lambda x: getattr(mg, op)(x, dim),
                                 lambda x: getattr(torch, op)(x, dim), [a], device)
        assert type(getattr(mg, op)(mg.tensor(a), dim)).__name__ == op
        assert out[1].dtype == mg.int64


@given(arrays_and_dim(lambda s: float_arrays(s, low=-30.0, high=30.0)))
def test_logcumsumexp_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    a, dim = case
    compare_with_torch(lambda x: mg.logcumsumexp(x, dim), lambda x: torch.logcumsumexp(x, dim),
                       [a], device, rtol=1e-9, atol=1e-10)


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.uniform(0.5, 2.0, (3, 4)), device=device, requires_grad=True)
    for fn in (lambda t: mg.cumsum(t, 1) ** 2, lambda t: mg.cumprod(t, -1),
               lambda t: mg.logcumsumexp(t, 0), lambda t: mg.cummax(t, 1).values ** 2):
        assert gradcheck(fn, (x,), **CHECK)
        assert gradgradcheck(fn, (x,), **CHECK)
    zero = mg.tensor([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]],
                     dtype=mg.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: mg.cumprod(t, 1), (zero,), **CHECK)
    assert gradgradcheck(lambda t: mg.cumprod(t, 1), (zero,), **CHECK)


@pytest.mark.parametrize("values", [[1.0, 2.0, 3.0, 0.0, 4.0, 0.5, 2.0],
                                    [1.0, 2.0, 3.0, 0.0, 4.0, 0.0, 2.0], [0.0, 0.0, 2.0, 3.0],
                                    [1.0, 0.0, 0.0, 2.0]])
def test_cumprod_second_derivative_with_zeros_matches_torch(device, values):
    torch = pytest.importorskip("torch")
    a = np.array(values)
    dy = np.arange(a.size) + 1.0
    x = mg.tensor(a, device=device, requires_grad=True)
    (g,) = grad(mg.cumprod(x, 0), x, mg.tensor(dy, device=device), create_graph=True)
    (gg,) = grad(g.sum(), x)
    tx = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.cumprod(tx, 0), tx, torch.tensor(dy), create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(g.detach().cpu().numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gg.cpu().numpy(), tgg.numpy(), rtol=1e-12)


def test_logcumsumexp_is_stable(device):
    x = mg.tensor([-1000.0, 0.0, 1000.0, 1000.0], dtype=mg.float64, device=device, requires_grad=True)
    y = mg.logcumsumexp(x, 0)
    np.testing.assert_allclose(y.detach().cpu().numpy(), [-1000.0, 0.0, 1000.0, 1000.0 + np.log(2)])
    y.backward(mg.tensor([1.0, -2.0, 1.0, 3.0], dtype=mg.float64, device=device))
    g = x.grad.cpu().numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g, [1.0, -2.0, 2.5, 1.5])


def test_dtypes(device):
    torch = pytest.importorskip("torch")
    for a in (np.array([True, True, False]), np.array([1, 2, 3], dtype=np.int32)):
        for op in ("cumsum", "cumprod"):
            compare_with_torch(lambda x: getattr(mg, op)(x, 0), lambda x: getattr(torch, op)(x, 0),
                               [a], device)
    x32 = mg.ones(3, dtype=mg.float32, device=device)
    assert mg.cumsum(x32, 0).dtype == mg.float32 and mg.cumprod(x32, 0).dtype == mg.float32
    assert mg.cumsum(mg.tensor([1, 2], device=device), 0, dtype=mg.float64).dtype == mg.float64
    assert mg.cummax(mg.tensor([1, 3, 2], device=device), 0).values.tolist() == [1, 3, 3]
    s = mg.tensor(2.0, device=device)
    assert mg.cumsum(s, 0).shape == () and mg.cummax(s, -1).indices.item() == 0


def test_errors(device):
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        mg.logcumsumexp(mg.tensor([1, 2], device=device), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.cumsum(mg.ones(2, 3, device=device), 2)
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.cumprod([1.0], 0)


def test_functions_and_methods_exist_where_torch_has_them():
    assert_same_surface(["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
