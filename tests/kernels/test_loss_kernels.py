"""cross_entropy_forward / cross_entropy_backward reference kernels: a float64 oracle that
walks the targets one by one (PyTorch's formula written out), central differences, and
PyTorch itself, over ignore_index, class weights, label smoothing and every reduction."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minigrad_kernels.catalogue import CATALOGUE

SETTINGS = settings(deadline=None, max_examples=25)
forward = CATALOGUE.reference_impl("cross_entropy_forward")
backward = CATALOGUE.reference_impl("cross_entropy_backward")
IGNORE = -100


@st.composite
def cross_entropy_case(draw):
    """Logits (N, C, d…) or (C,), int64 targets with some ignored, optional weights, ε."""
    classes = draw(st.integers(1, 6))
    unbatched = draw(st.integers(0, 4)) == 0
    spatial = () if unbatched else tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n = draw(st.integers(1, 5))
    x_shape = (classes,) if unbatched else (n, classes) + spatial
    t_shape = () if unbatched else (n,) + spatial
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = (rng.standard_normal(x_shape) * draw(st.sampled_from([1.0, 10.0]))).astype(dtype)
    target = rng.integers(0, classes, t_shape)
    target = np.where(rng.random(t_shape) < draw(st.sampled_from([0.0, 0.3, 1.0])), IGNORE, target)
    weight = rng.uniform(0.2, 2.0, classes).astype(dtype) if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.1, 1.0]))
    reduction = draw(st.sampled_from(["none", "sum", "mean"]))
    return x, np.asarray(target, dtype=np.int64), weight, smoothing, reduction


def float64_cross_entropy(x, target, weight, smoothing, reduction):
    """ℓ per target with math.fsum, then PyTorch's reduction."""
    x = np.asarray(x, dtype=np.float64)
    axis = 0 if x.ndim == 1 else 1
    z = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    t = target.reshape(-1)
    classes = x.shape[axis]
    w = np.ones(classes) if weight is None else weight.astype(np.float64)
    losses, weights = [], []
    for row, ti in zip(z, t):
        if ti == IGNORE:
            losses.append(0.0)
            weights.append(0.0)
            continue
        m = row.max()
        log_p = row - m - math.log(math.fsum(math.exp(v - m) for v in row))
        nll = -w[ti] * log_p[ti]
        smooth = -math.fsum(w * log_p)
        losses.append((1 - smoothing) * nll + smoothing / classes * smooth)
        weights.append(w[ti])
    losses = np.array(losses).reshape(target.shape)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.float64(math.fsum(losses.reshape(-1)))
    total = math.fsum(weights)
    return np.float64(math.fsum(losses.reshape(-1)) / total if total else np.nan)


def tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


@SETTINGS
@given(cross_entropy_case())
def test_forward_matches_float64_oracle(case):
    x, target, weight, smoothing, reduction = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # an all-ignored mean is NaN, quietly
        loss = forward(x, target, weight, IGNORE, smoothing, reduction)
    expected = float64_cross_entropy(x, target, weight, smoothing, reduction)
    assert loss.dtype == x.dtype and loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss, expected, **tolerance(x.dtype))


@SETTINGS
@given(case=cross_entropy_case())
def test_backward_matches_central_differences(case, numeric_vjp):
    x, target, weight, smoothing, reduction = case
    x = x.astype(np.float64)
    weight = None if weight is None else weight.astype(np.float64)
    rng = np.random.default_rng(0)
    d_loss = rng.standard_normal(target.shape if reduction == "none" else ())
    dx = backward(x, target, d_loss, weight, IGNORE, smoothing, reduction)
    assert dx.shape == x.shape and dx.dtype == x.dtype
    if reduction == "mean" and not (target != IGNORE).any():
        np.testing.assert_array_equal(dx, 0.0)         # the loss is the constant NaN
        return
    loss = lambda v: forward(v, target, weight, IGNORE, smoothing, reduction)  # noqa: E731
    np.testing.assert_allclose(dx, numeric_vjp(loss, x, d_loss), rtol=1e-6, atol=1e-7)


@SETTINGS
@given(cross_entropy_case())
def test_forward_and_backward_match_torch(case):
    torch = pytest.importorskip("torch")
    x, target, weight, smoothing, reduction = case
    tx = torch.from_numpy(x).requires_grad_()
    tw = None if weight is None else torch.from_numpy(weight)
    tl = torch.nn.functional.cross_entropy(tx, torch.from_numpy(target), tw, ignore_index=IGNORE,
                                           reduction=reduction, label_smoothing=smoothing)
    d_loss = np.random.default_rng(1).standard_normal(tl.shape).astype(x.dtype)
    tl.backward(torch.from_numpy(d_loss))
    loss = forward(x, target, weight, IGNORE, smoothing, reduction)
    dx = backward(x, target, d_loss, weight, IGNORE, smoothing, reduction)
    np.testing.assert_allclose(loss, tl.detach().numpy(), **tolerance(x.dtype))
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tolerance(x.dtype))
    assert dx.dtype == x.dtype


def test_huge_logits_stay_finite_and_ignore_index_may_be_a_class_id():
    x = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]], dtype=np.float32)
    target = np.array([1, 2])
    loss = forward(x, target, None, 1, 0.0, "none")     # class 1 ignored: row 0 gives 0
    assert np.isfinite(loss).all()
    np.testing.assert_allclose(loss, [0.0, 1.0 + math.log1p(math.exp(-1.0))], rtol=1e-6)
    dx = backward(x, target, np.ones(2, np.float32), None, 1, 0.0, "none")
    np.testing.assert_array_equal(dx[0], 0.0)
    np.testing.assert_allclose(dx[1].sum(), 0.0, atol=1e-6)


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction"):
        forward(np.zeros((1, 2)), np.zeros(1, np.int64), None, IGNORE, 0.0, "max")
