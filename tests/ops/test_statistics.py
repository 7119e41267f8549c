"""std_mean/var_mean, aminmax, nansum/nanmean (minigrad/ops/statistics.py) vs PyTorch:
values, gradients (float64, NaNs and ties included), dtypes and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import gradcheck
from tests.devices import assert_close
from tests.strategies import shapes, non_contiguous

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


@st.composite
def arrays(draw, nan=False, min_side=0):
    shape = draw(shapes(max_dims=3, min_side=min_side, max_side=3))
    elements = st.integers(-3, 3).map(lambda k: k / 2)
    if nan:
        elements = st.one_of(elements, st.just(np.nan))
    array = draw(hnp.arrays(np.float64, shape, elements=elements))
    return non_contiguous(array) if draw(st.booleans()) else array


def _dim(data, ndim, tuples=True):
    options = [None] + ([0, -1] if ndim else [0]) + ([(0, -1)] if tuples and ndim >= 2 else [])
    return data.draw(st.sampled_from(options), label="dim")


def _grads_match(torch, outputs, toutputs, x, tx, data, device):
    gs = [data.draw(hnp.arrays(np.float64, tuple(t.shape), elements=st.floats(-2, 2))) for t in toutputs]
    mine = mg.autograd.grad(list(outputs), [x], grad_outputs=[mg.from_numpy(g).to(device) for g in gs])
    theirs = torch.autograd.grad(list(toutputs), [tx], [torch.from_numpy(g) for g in gs])
    assert_close(mine[0], theirs[0], rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
@given(data=st.data())
def test_std_mean_var_mean_match_torch(name, data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(min_side=1))
    dim, keepdim = _dim(data, a.ndim), data.draw(st.booleans())
    correction = data.draw(st.sampled_from([None, 0, 1]))
    x = mg.from_numpy(a).to(device).requires_grad_()
    tx = torch.from_numpy(a.copy()).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degrees of freedom <= 0, from both libraries
        out = getattr(mg, name)(x, dim, keepdim=keepdim, correction=correction)
        tout = getattr(torch, name)(tx, dim, keepdim=keepdim, correction=correction)
    assert isinstance(out, tuple) and len(out) == 2
    for m, t in zip(out, tout):
        assert_close(m, t, rtol=1e-10, atol=1e-12, equal_nan=True)
    if a.size > 1 and np.isfinite(tout[0].detach().numpy()).all():
        _grads_match(torch, out, tout, x, tx, data, device)


def test_std_mean_overloads(device):
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3)
    x, tx = mg.from_numpy(a).to(device), torch.from_numpy(a)
    for mine, theirs in [(mg.var_mean(x, False), torch.var_mean(tx, False)),
                         (mg.std_mean(x, dim=1, unbiased=False), torch.std_mean(tx, dim=1, unbiased=False))]:
        for m, t in zip(mine, theirs):
            assert_close(m, t)
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        mg.std_mean(x.long())


@given(data=st.data())
def test_aminmax_matches_torch(data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(min_side=1))
    dim, keepdim = _dim(data, a.ndim, tuples=False), data.draw(st.booleans())
    x = mg.from_numpy(a).to(device).requires_grad_()
    tx = torch.from_numpy(a.copy()).requires_grad_()
    out, tout = mg.aminmax(x, dim=dim, keepdim=keepdim), torch.aminmax(tx, dim=dim, keepdim=keepdim)
    assert_close(out.min, tout.min)
    assert_close(out.max, tout.max)
    assert_close(x.aminmax(dim=dim, keepdim=keepdim)[1], tout[1])
    _grads_match(torch, out, tout, x, tx, data, device)


def test_aminmax_errors_and_integers(device):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        mg.aminmax(mg.zeros(0, device=device))
    with pytest.raises(IndexError, match="aminmax: Expected reduction dim 0 to have non-zero size"):
        mg.aminmax(mg.ones(0, 3, device=device), dim=0)
    assert mg.aminmax(mg.ones(0, 3, device=device), dim=1).min.shape == (0,)
    with pytest.raises(TypeError, match="argument 'dim' must be int, not tuple"):
        mg.aminmax(mg.ones(2, 2, device=device), dim=(0, 1))
    out = mg.aminmax(mg.tensor([[3, -1], [2, 7]], device=device), dim=0)
    assert out.min.tolist() == [2, -1] and out.max.tolist() == [3, 7] and out.min.dtype == mg.int64


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@given(data=st.data())
def test_nansum_nanmean_match_torch(name, data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(nan=True))
    dim, keepdim = _dim(data, a.ndim), data.draw(st.booleans())
    x = mg.from_numpy(a).to(device).requires_grad_()
    tx = torch.from_numpy(a.copy()).requires_grad_()
    with np.errstate(all="ignore"):
        y = getattr(mg, name)(x, dim, keepdim)
        ty = getattr(torch, name)(tx, dim, keepdim)
        assert_close(y, ty, rtol=1e-12, equal_nan=True)
        assert_close(getattr(x, name)(dim=dim, keepdim=keepdim), ty, rtol=1e-12, equal_nan=True)
        _grads_match(torch, [y], [ty], x, tx, data, device)


def test_nansum_nanmean_dtypes_and_gradcheck(device):
    torch = pytest.importorskip("torch")
    i = mg.tensor([1, 2, 3], device=device)
    assert mg.nansum(i).dtype == mg.int64 and mg.nansum(i).item() == 6
    with pytest.raises(RuntimeError, match="nanmean\\(\\): expected input to have floating point"):
        mg.nanmean(i)
    x = mg.tensor([[0.5, np.nan, 2.0], [1.0, 3.0, np.nan]], dtype=mg.float64, device=device,
                  requires_grad=True)
    assert gradcheck(lambda t: mg.nanmean(t, 1), (x,), **GRADCHECK)
    assert gradcheck(lambda t: mg.nansum(t, 0), (x,), **GRADCHECK)
    assert mg.nansum(mg.tensor([1.0, np.nan], device=device)).dtype == mg.float32
