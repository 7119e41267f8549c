"""layer_norm_forward / layer_norm_backward reference kernels against a float64 oracle
(row by row, with math.fsum), a central-difference VJP and PyTorch."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigrad_kernels.catalogue import CATALOGUE

SETTINGS = settings(deadline=None, max_examples=25)
forward = CATALOGUE.reference_impl("layer_norm_forward")
backward = CATALOGUE.reference_impl("layer_norm_backward")


@st.composite
def layer_norm_case(draw):
    """x (lead…, *S) with odd sizes, k = len(S) ∈ {1, 2}, optional γ/β, a float dtype."""
    lead = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=2)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = (rng.standard_normal(lead + norm) * draw(st.sampled_from([0.1, 1.0, 50.0]))
         + draw(st.sampled_from([0.0, 10.0]))).astype(dtype)
    weight = rng.standard_normal(norm).astype(dtype) if draw(st.booleans()) else None
    bias = rng.standard_normal(norm).astype(dtype) if draw(st.booleans()) else None
    dy = rng.standard_normal(lead + norm).astype(dtype)
    return x, weight, bias, len(norm), dy


def float64_layer_norm(x, weight, bias, k, eps):
    """y row by row in float64 with exactly rounded sums."""
    x = np.asarray(x, dtype=np.float64)
    rows = x.reshape((-1,) + x.shape[x.ndim - k:])
    y = np.empty_like(rows)
    for i, row in enumerate(rows):
        flat = row.reshape(-1)
        mean = math.fsum(flat) / flat.size
        var = math.fsum((v - mean) ** 2 for v in flat) / flat.size
        y[i] = (row - mean) / math.sqrt(var + eps)
    y = y.reshape(x.shape)
    if weight is not None:
        y = y * weight.astype(np.float64)
    if bias is not None:
        y = y + bias.astype(np.float64)
    return y


def tolerance(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


@SETTINGS
@given(layer_norm_case())
def test_forward_matches_float64_oracle(case):
    x, weight, bias, k, _ = case
    y, mean, rstd = forward(x, weight, bias, k, 1e-5)
    assert y.dtype == mean.dtype == rstd.dtype == x.dtype and y.shape == x.shape
    assert mean.shape == rstd.shape == x.shape[:x.ndim - k] + (1,) * k
    want = float64_layer_norm(x, weight, bias, k, 1e-5)
    if x.dtype == np.float64:
        np.testing.assert_allclose(y, want, **tolerance(x.dtype))
        return
    # In float32, x̂ = (x − μ)·rstd carries the rounding of x and μ relative to |μ|: an
    # absolute error of about eps32·|μ|·rstd, which a row far from zero with a small spread
    # magnifies (hypothesis found μ = 9.93, σ = 0.015: 650 ulps), scaled by |γ|.
    x64 = x.astype(np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    mean64 = x64.mean(axis=axes)
    rstd64 = 1 / np.sqrt(x64.var(axis=axes) + 1e-5)
    conditioning = 1.0 + float((np.abs(mean64) * rstd64).max())
    gain = 1.0 if weight is None else max(1.0, float(np.abs(weight).max()))
    eps32 = float(np.finfo(np.float32).eps)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4 + 8 * eps32 * conditioning * gain)


@SETTINGS
@given(case=layer_norm_case())
def test_backward_matches_central_differences(case, numeric_vjp):
    x, weight, bias, k, dy = case
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    weight = None if weight is None else weight.astype(np.float64)
    _, mean, rstd = forward(x, weight, bias, k, 1e-5)
    dx, dweight, dbias = backward(dy, x, weight, mean, rstd, k)
    expected_dx = numeric_vjp(lambda v: forward(v, weight, None, k, 1e-5)[0], x, dy)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-5, atol=1e-6)
    lead = tuple(range(x.ndim - k))
    np.testing.assert_allclose(dbias, dy.sum(axis=lead))
    if weight is None:
        assert dweight is None
    else:
        expected_dw = numeric_vjp(lambda w: forward(x, w, None, k, 1e-5)[0], weight, dy)
        np.testing.assert_allclose(dweight, expected_dw, rtol=1e-5, atol=1e-6)


@SETTINGS
@given(layer_norm_case())
def test_float32_backward_matches_float64(case):
    x, weight, bias, k, dy = case
    if x.dtype != np.float32:
        return
    as64 = lambda a: None if a is None else a.astype(np.float64)  # noqa: E731
    _, mean, rstd = forward(x, weight, bias, k, 1e-5)
    ours = backward(dy, x, weight, mean, rstd, k)
    _, mean64, rstd64 = forward(as64(x), as64(weight), as64(bias), k, 1e-5)
    exact = backward(as64(dy), as64(x), as64(weight), mean64, rstd64, k)
    assert all(a is None or a.dtype == np.float32 for a in ours)
    # dx = rstd·(dx̂ − mean − x̂·mean) cancels, and rstd is large for nearly constant rows:
    # float32 rounding of x̂ shows up scaled by rstd·|dy·γ|. x̂ = (x − μ)·rstd itself
    # carries float32's rounding of x and μ relative to |μ|, i.e. a relative error of about
    # eps32·|μ|·rstd (rows far from zero with a small spread: μ = 10, σ = 0.025 gives 400).
    scale = float(rstd64.max()) * float(np.abs(dy).max()) * (1 if weight is None else
                                                             float(np.abs(weight).max()))
    conditioning = 1.0 + float(np.abs(mean64).max()) * float(rstd64.max())
    eps32 = float(np.finfo(np.float32).eps)
    np.testing.assert_allclose(ours[0], exact[0], rtol=1e-3,
                               atol=scale * (1e-5 + 4 * eps32 * conditioning))
    for got, want in zip(ours[1:], exact[1:]):
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(dy).sum()))


@SETTINGS
@given(layer_norm_case())
def test_forward_and_backward_match_torch_in_float64(case):
    # In float32 PyTorch's own rounding (Welford statistics) exceeds ours on nearly
    # constant rows, so the torch comparison is made in float64.
    torch = pytest.importorskip("torch")
    x, weight, bias, k, dy = case
    as64 = lambda a: None if a is None else a.astype(np.float64)  # noqa: E731
    x, weight, bias, dy = as64(x), as64(weight), as64(bias), as64(dy)
    to_torch = lambda a: None if a is None else torch.from_numpy(a).requires_grad_()  # noqa: E731
    tx, tw, tb = to_torch(x), to_torch(weight), to_torch(bias)
    ty = torch.nn.functional.layer_norm(tx, x.shape[x.ndim - k:], tw, tb, 1e-5)
    ty.backward(torch.from_numpy(dy))
    y, mean, rstd = forward(x, weight, bias, k, 1e-5)
    dx, dweight, dbias = backward(dy, x, weight, mean, rstd, k)
    tol = tolerance(np.float64)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-8 * float(rstd.max()))
    if weight is not None:
        np.testing.assert_allclose(dweight, tw.grad.numpy(), **tol)
    if bias is not None:
        np.testing.assert_allclose(dbias, tb.grad.numpy(), **tol)


def test_constant_rows_give_zero_not_nan_and_dtype_is_kept():
    x = np.full((2, 5), 3.0, dtype=np.float32)
    y, mean, rstd = forward(x, None, None, 1, np.float64(1e-5))   # a numpy eps must not promote
    assert y.dtype == rstd.dtype == np.float32
    np.testing.assert_array_equal(y, 0.0)
    dx, _, _ = backward(np.ones_like(x), x, None, mean, rstd, 1)
    np.testing.assert_array_equal(dx, 0.0)


def test_rejects_a_normalised_rank_larger_than_the_input():
    with pytest.raises(ValueError, match="normalized_ndim"):
        forward(np.ones(3), None, None, 2, 1e-5)
