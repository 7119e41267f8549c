"""softmax / log_softmax / logsumexp against PyTorch and float64 numpy, with the stability
cases: huge-magnitude logits, all −∞ rows, +∞ entries."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad_kernels as kernels

# These tests describe the reference implementations (see conftest.reference_kernels).
pytestmark = pytest.mark.usefixtures("reference_kernels")

SETTINGS = settings(deadline=None, max_examples=25)


@st.composite
def logits(draw):
    """An array of 1–3 dims, a valid axis, float32 or float64, values up to ±1000."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    magnitude = draw(st.sampled_from([1.0, 30.0, 1000.0]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    return (rng.standard_normal(shape) * magnitude).astype(dtype), axis


def float64_log_softmax(x, axis):
    """log_softmax computed row by row with math.fsum, as an independent oracle."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    out = np.empty_like(x)
    for index in np.ndindex(x.shape[:-1]):
        row = x[index]
        m = row.max()
        out[index] = row - m - math.log(math.fsum(math.exp(v - m) for v in row))
    return np.moveaxis(out, -1, axis)


def tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@SETTINGS
@given(logits())
def test_softmax_family_matches_float64_oracle(case):
    x, axis = case
    expected = float64_log_softmax(x, axis)
    log_p, p = kernels.log_softmax(x, axis), kernels.softmax(x, axis)
    assert log_p.dtype == p.dtype == x.dtype and log_p.shape == p.shape == x.shape
    # In float32, x − max is itself rounded to a few ulps of |x|, hence the scaled atol.
    atol = tolerance(x.dtype)["atol"] * max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(log_p, expected, rtol=tolerance(x.dtype)["rtol"], atol=atol)
    np.testing.assert_allclose(p, np.exp(expected), **tolerance(x.dtype))
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, **tolerance(x.dtype))


@SETTINGS
@given(logits(), st.booleans())
def test_softmax_family_matches_torch(case, keepdims):
    torch = pytest.importorskip("torch")
    x, axis = case
    t = torch.from_numpy(x)
    atol = tolerance(x.dtype)["atol"] * max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(kernels.softmax(x, axis), torch.softmax(t, axis).numpy(), **tolerance(x.dtype))
    np.testing.assert_allclose(kernels.log_softmax(x, axis), torch.log_softmax(t, axis).numpy(),
                               rtol=tolerance(x.dtype)["rtol"], atol=atol)
    lse = kernels.logsumexp(x, axis, keepdims)
    expected = torch.logsumexp(t, axis, keepdim=keepdims).numpy()
    assert lse.shape == expected.shape and lse.dtype == x.dtype
    np.testing.assert_allclose(lse, expected, rtol=tolerance(x.dtype)["rtol"], atol=atol)


def test_log_softmax_of_widely_spread_logits():
    x = np.array([-781.17, -1043.73, 890.25, -1235.0])
    expected = x - x.max()                      # the other terms are below exp(−1671)
    for dtype in (np.float32, np.float64):
        out = kernels.log_softmax(x.astype(dtype), 0)
        assert np.isfinite(out).all() and out.dtype == dtype
        np.testing.assert_allclose(out, expected, rtol=1e-6)
        np.testing.assert_allclose(kernels.softmax(x.astype(dtype), 0), [0, 0, 1, 0])
        np.testing.assert_allclose(kernels.logsumexp(x.astype(dtype), 0), 890.25, rtol=1e-6)


def test_softmax_does_not_overflow_on_huge_equal_logits():
    x = np.array([[1e4, 1e4], [-1e4, -1e4]], dtype=np.float32)
    np.testing.assert_array_equal(kernels.softmax(x, -1), 0.5)
    np.testing.assert_allclose(kernels.logsumexp(x, -1), [1e4 + math.log(2), -1e4 + math.log(2)])


def test_logsumexp_of_infinite_rows_without_warnings():
    inf = np.inf
    x = np.array([[-inf, -inf, -inf], [1.0, inf, 2.0], [-inf, 0.0, -inf], [inf, inf, -inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = kernels.logsumexp(x, 1)
        kept = kernels.logsumexp(x, 1, keepdims=True)
    np.testing.assert_array_equal(out, [-inf, inf, 0.0, inf])
    assert kept.shape == (4, 1)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(out, torch.logsumexp(torch.from_numpy(x), 1).numpy())


def test_logsumexp_over_several_axes_and_all():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    reference = np.log(np.exp(x).sum(axis=(0, 2)))
    np.testing.assert_allclose(kernels.logsumexp(x, (0, 2)), reference)
    np.testing.assert_allclose(kernels.logsumexp(x, None), np.log(np.exp(x).sum()))
    assert kernels.logsumexp(x, None, keepdims=True).shape == (1, 1, 1)


def test_softmax_of_undefined_rows_is_nan_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0]])
    with np.errstate(invalid="ignore"):
        ours = kernels.softmax(x, -1), kernels.log_softmax(x, -1)
    np.testing.assert_array_equal(ours[0], torch.softmax(torch.from_numpy(x), -1).numpy())
    np.testing.assert_array_equal(ours[1], torch.log_softmax(torch.from_numpy(x), -1).numpy())
