"""Order statistics: median, nanmedian, quantile, nanquantile, mode — values, indices,
gradients (float64, against PyTorch and gradcheck) and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd import grad, gradcheck
from tests.devices import assert_close, to_numpy

try:
    import torch
except ImportError:          # the oracle is optional: skip the module, never fail collection
    pytest.skip("torch (the oracle) is not installed", allow_module_level=True)

NAN = float("nan")


def pair(array, device, requires_grad=True):
    array = np.asarray(array)
    x = mg.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f", device=device)
    t = torch.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")
    return x, t


def check_grad(y, x, ty, tx):
    dy = np.random.default_rng(0).standard_normal(ty.shape)
    (gx,) = grad(y, [x], grad_outputs=mg.tensor(dy, device=y.device))
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(dy))
    assert_close(gx, tgx.numpy())


ROWS = [[3., 1., 2., 1., 1.], [4., NAN, 2., 0., NAN], [5., 5., 5., 1., 1.], [NAN] * 5,
        [2., 8., -1., 0., 7.]]


@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_median_along_dim_matches_torch(device, op, dim, keepdim):
    # (an all-NaN row's nanmedian index is whichever NaN PyTorch's nth_element leaves at
    # slot 0, implementation-defined: that row is checked in test_nanmedian_all_nan_row)
    rows = ROWS if op == "median" else ROWS[:3] + ROWS[4:]
    x, t = pair(rows, device)
    out, expected = getattr(mg, op)(x, dim, keepdim), getattr(torch, op)(t, dim, keepdim)
    assert type(out).__name__ == op and out._fields == ("values", "indices")
    assert_close(out.values, expected.values.detach().numpy(), equal_nan=True)
    np.testing.assert_array_equal(to_numpy(out.indices), expected.indices.numpy())
    check_grad(out.values, x, expected.values, t)


def test_nanmedian_all_nan_row(device):
    out = mg.nanmedian(mg.tensor([[NAN] * 4, [1., NAN, 3., 2.]], device=device), 1)
    assert np.isnan(to_numpy(out.values)[0]) and to_numpy(out.values)[1] == 2.
    assert to_numpy(out.indices)[1] == 3 and 0 <= to_numpy(out.indices)[0] < 4


@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("row", [[3., 1., 2., 1., 1.], [4., NAN, 2., 0., NAN], [2., 2., 7., 9.]])
def test_median_of_all_spreads_gradient_over_ties(device, op, row):
    x, t = pair(row, device)
    y, ty = getattr(x, op)(), getattr(torch, op)(t)
    assert y.shape == () and y.dtype == mg.float64
    assert_close(y, ty.detach().numpy(), equal_nan=True)
    check_grad(y, x, ty, t)


def test_median_integers_scalars_and_empty(device):
    x, t = pair([4, 1, 2, 3], device)
    assert int(mg.median(x)) == int(torch.median(t)) == 2
    out = mg.median(mg.tensor(5., device=device), 0)
    assert out.values.shape == () and int(out.indices) == 0
    assert np.isnan(float(mg.median(mg.zeros(0, device=device))))
    with pytest.raises(IndexError, match="non-zero size"):
        mg.median(mg.zeros(0, 3, device=device), 0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([-1., 0., 2., 3., NAN]), min_size=1, max_size=40),
       st.booleans(), st.sampled_from(["median", "nanmedian"]))
def test_median_hypothesis_matches_torch(values, keepdim, op):
    array = np.array(values, dtype=np.float64).reshape(1, -1)
    if op == "nanmedian" and np.isnan(array).all():
        array[0, 0] = 1.   # (the all-NaN index is implementation-defined in PyTorch)
    out = getattr(mg, op)(mg.tensor(array), 1, keepdim)
    expected = getattr(torch, op)(torch.tensor(array), 1, keepdim)
    np.testing.assert_array_equal(out.values.numpy(), expected.values.numpy())  # NaN == NaN
    np.testing.assert_array_equal(out.indices.numpy(), expected.indices.numpy())


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (0, False), (1, True)])
def test_quantile_matches_torch(device, interpolation, op, dim, keepdim):
    array = np.array([[3., 1., 2., 9., 4.], [4., NAN, 2., 0., 6.], [0.5, 7., -2., 1., 3.]])
    if op == "quantile":
        array[1, 1] = 5.
    x, t = pair(array, device)
    for q in (0.3, 0.5, 1.0, [0.0, 0.25, 0.625, 0.5]):
        mq = mg.tensor(q, dtype=mg.float64, device=device) if isinstance(q, list) else q
        tq = torch.tensor(q, dtype=torch.float64) if isinstance(q, list) else q
        y = getattr(mg, op)(x, mq, dim, keepdim, interpolation=interpolation)
        ty = getattr(torch, op)(t, tq, dim, keepdim, interpolation=interpolation)
        assert_close(y, ty.detach().numpy(), rtol=1e-12, equal_nan=True)
        check_grad(y, x, ty, t)


def test_quantile_nan_rows_and_gradcheck(device):
    x, t = pair([[1., NAN, 3.], [2., 5., 4.]], device)
    assert_close(mg.quantile(x, 0.4, 1), torch.quantile(t, 0.4, 1).detach().numpy(),
                 equal_nan=True)
    assert_close(mg.nanquantile(x, 0.4, 1), torch.nanquantile(t, 0.4, 1).detach().numpy())
    z = mg.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True,
                  device=device)
    q = mg.tensor([0.2, 0.7], dtype=mg.float64, device=device)
    assert gradcheck(lambda a: mg.quantile(a, q, dim=1), (z,))
    y32 = mg.quantile(mg.tensor([1., 2., 4.], device=device), 0.5)
    assert y32.dtype == mg.float32


def test_quantile_errors(device):
    with pytest.raises(RuntimeError, match="float or double"):
        mg.quantile(mg.tensor([1, 2], device=device), 0.5)
    with pytest.raises(RuntimeError, match=r"range \[0, 1\] but got 1.5"):
        mg.quantile(mg.tensor([1., 2.], device=device), 1.5)
    with pytest.raises(RuntimeError, match="interpolation must be one of"):
        mg.quantile(mg.tensor([1., 2.], device=device), 0.5, interpolation="foo")
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.quantile(mg.tensor([1., 2.], device=device), mg.tensor(0.5, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="non-empty"):
        mg.quantile(mg.zeros(0, device=device), 0.5)


@pytest.mark.parametrize("rows", [[[3, 3, 1, 1], [2, 5, 5, 2]], [[1, 2, 3, 4], [7, 7, 7, 0]],
                                  [[4, 1, 4, 1, 2, 2], [0, 9, 9, 0, 0, 9]]])
def test_mode_ties_pick_smallest_value_last_occurrence(device, rows):
    x, t = pair(rows, device)
    for dim, keepdim in ((1, False), (0, True), (-1, True)):
        out, expected = mg.mode(x, dim, keepdim), torch.mode(t, dim, keepdim)
        assert out._fields == ("values", "indices")
        np.testing.assert_array_equal(to_numpy(out.values), expected.values.numpy())
        np.testing.assert_array_equal(to_numpy(out.indices), expected.indices.numpy())


def test_mode_gradient_and_default_dim(device):
    x, t = pair([[2., 1., 2., 3.], [0., 0., 5., 5.]], device)
    out, expected = x.mode(), torch.mode(t)
    assert_close(out.values, expected.values.detach().numpy())
    check_grad(out.values, x, expected.values, t)
    with pytest.raises(IndexError):
        mg.mode(mg.zeros(2, 0, device=device), 1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=40))
def test_mode_hypothesis_values_match_torch(values):
    a = np.array(values, dtype=np.int64)
    out, expected = mg.mode(mg.tensor(a)), torch.mode(torch.tensor(a))
    assert int(out.values) == int(expected.values)
    assert a[int(out.indices)] == int(out.values)
    if len(a) <= 16:   # beyond, PyTorch's unstable sort returns any occurrence
        assert int(out.indices) == int(expected.indices) == np.flatnonzero(a == a[int(out.indices)])[-1]


def test_zero_dim_inputs(device):
    x = mg.tensor(2., requires_grad=True, device=device)
    t = torch.tensor(2., requires_grad=True)
    for keepdim in (False, True):
        y = mg.quantile(x, mg.tensor([0.3, 0.6], device=device), 0, keepdim)
        ty = torch.quantile(t, torch.tensor([0.3, 0.6]), 0, keepdim)
        assert_close(y, ty.detach().numpy())
        assert_close(mg.nanquantile(x, 0.3, None, keepdim), torch.nanquantile(t, 0.3, None, keepdim).detach().numpy())
        out, expected = mg.mode(x, 0, keepdim), torch.mode(t, 0, keepdim)
        assert out.values.shape == () and int(out.indices) == int(expected.indices) == 0
    assert mg.quantile(mg.ones(2, 3, device=device), 0.2, None, True).shape == (1, 1)
    assert float(mg.median(x)) == 2.
