"""Sorting: sort, argsort, msort, topk, kthvalue, unique — values, indices, named-tuple
results and gradients against PyTorch (float64, hypothesis shapes, negative dims),
gradcheck, ties/NaN order, and errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.oracle import assert_same_surface, compare_with_torch
from tests.strategies import shapes

CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


@st.composite
def distinct_arrays(draw, min_dims=0, max_dims=3, min_side=0):
    """float64 arrays without ties (PyTorch's order among equal values is unspecified), and
    a valid dim (negative half the time)."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    array = (rng.permutation(int(np.prod(shape))) + rng.uniform(0, 0.5)).reshape(shape) - 5.0
    rank = max(len(shape), 1)
    dim = draw(st.integers(-rank, rank - 1))
    return array, dim


@given(distinct_arrays(), st.booleans())
def test_sort_and_argsort_match_torch(device, case, descending):
    torch = pytest.importorskip("torch")
    a, dim = case
    out = compare_with_torch(lambda x: mg.sort(x, dim, descending),
                             lambda x: torch.sort(x, dim, descending), [a], device)
    compare_with_torch(lambda x: x.argsort(dim=dim, descending=descending),
                       lambda x: x.argsort(dim=dim, descending=descending), [a], device)
    result = mg.sort(mg.tensor(a, device=device), dim, descending)
    assert type(result).__name__ == "sort" and result.values is result[0]
    assert out[0].dtype == mg.float64 and out[1].dtype == mg.int64


@given(distinct_arrays(min_dims=1, min_side=1), st.data())
def test_topk_and_kthvalue_match_torch(device, case, data):
    torch = pytest.importorskip("torch")
    a, dim = case
    size = a.shape[dim]
    k = data.draw(st.integers(0, size))
    largest = data.draw(st.booleans())
    compare_with_torch(lambda x: mg.topk(x, k, dim, largest),
                       lambda x: torch.topk(x, k, dim, largest), [a], device)
    kth = data.draw(st.integers(1, size))
    keepdim = data.draw(st.booleans())
    compare_with_torch(lambda x: x.kthvalue(kth, dim, keepdim),
                       lambda x: x.kthvalue(kth, dim, keepdim), [a], device)


@given(distinct_arrays(min_dims=1))
def test_msort_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    compare_with_torch(mg.msort, torch.msort, [case[0]], device)


def test_ties_are_stable_and_nan_is_largest(device):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, np.nan, 2.0, np.nan, 1.0, 2.0], [0.0, 0.0, -1.0, 0.0, 3.0, -1.0]])
    for descending in (False, True):
        compare_with_torch(lambda x: mg.sort(x, -1, descending, stable=True),
                           lambda x: torch.sort(x, dim=-1, descending=descending, stable=True),
                           [a], device, check_grad=False)
    values, indices = mg.topk(mg.tensor([1.0, np.nan, 2.0], device=device), 2)
    assert np.isnan(values.tolist()[0]) and indices.tolist() == [1, 2]


def test_gradients_scatter_back_and_gradcheck(device):
    x = mg.tensor(np.random.default_rng(3).permutation(12).reshape(3, 4) * 0.5, device=device,
                  requires_grad=True)
    assert gradcheck(lambda t: mg.sort(t, 0, True).values ** 2, (x,), **CHECK)
    assert gradcheck(lambda t: mg.topk(t, 2, -1).values * 3, (x,), **CHECK)
    assert gradcheck(lambda t: mg.kthvalue(t, 2, 1, True).values, (x,), **CHECK)
    assert gradgradcheck(lambda t: mg.sort(t, -1).values ** 3, (x,), **CHECK)
    values, _ = mg.topk(x, 1, dim=0)
    values.sum().backward()
    host = x.detach().cpu().numpy()
    assert x.grad.tolist() == (host == host.max(0)).astype(float).tolist()


def test_zero_dim_and_empty(device):
    s = mg.tensor(3.0, device=device, requires_grad=True)
    values, indices = mg.sort(s)
    assert values.shape == () and indices.item() == 0 and values.item() == 3.0
    assert mg.topk(s, 1).values.shape == ()
    assert mg.sort(mg.zeros(2, 0, device=device), 1).values.shape == (2, 0)
    assert mg.sort(mg.tensor([True, False, True], device=device)).values.tolist() == [False, True, True]


def test_unique_matches_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([[3, 1, 2], [1, 3, 3]])
    for kwargs in [{}, dict(return_inverse=True), dict(return_counts=True),
                   dict(return_inverse=True, return_counts=True)]:
        compare_with_torch(lambda x: mg.unique(x, **kwargs), lambda x: torch.unique(x, **kwargs),
                           [a], device)
    rows = np.array([[1, 2], [1, 2], [0, 3]])
    compare_with_torch(lambda x: x.unique(dim=0, return_inverse=True, return_counts=True),
                       lambda x: x.unique(dim=0, return_inverse=True, return_counts=True),
                       [rows], device)
    compare_with_torch(lambda x: mg.unique(x, dim=-1), lambda x: torch.unique(x, dim=-1),
                       [rows], device)
    assert not mg.unique(mg.tensor([1.0, 1.0], requires_grad=True)).requires_grad


def test_errors(device):
    x = mg.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        mg.topk(x, 4)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(-1)
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range for dimension 1"):
        mg.kthvalue(x, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.sort(x, 2)
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.sort([3, 1])


def test_functions_and_methods_exist_where_torch_has_them():
    assert_same_surface(["sort", "argsort", "msort", "topk", "kthvalue", "unique"])
