"""Attention kernels against a float64 numpy formula, PyTorch's scaled_dot_product_attention
(with autograd for the backward), and central differences; fully masked rows give zeros."""
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
def attention_cases(draw, allow_fully_masked=True, max_len=5):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    lq, lk = draw(st.integers(1, max_len)), draw(st.integers(1, max_len))
    d, dv = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    q, k, v = (rng.standard_normal(batch + shape) for shape in [(lq, d), (lk, d), (lk, dv)])
    # The mask broadcasts: either one (Lq, Lk) pattern or one per batch element.
    mask_shape = draw(st.sampled_from([(lq, lk), batch + (lq, lk)]))
    mask_kind = draw(st.sampled_from(["none", "bool", "float"]))
    mask = None
    if mask_kind == "bool":
        mask = rng.random(mask_shape) < 0.7
        if not allow_fully_masked:
            mask[..., rng.integers(0, lk)] = True            # every row keeps some key
    elif mask_kind == "float":
        mask = rng.standard_normal(mask_shape)
        if allow_fully_masked and draw(st.booleans()):
            mask = np.where(rng.random(mask_shape) < 0.3, -np.inf, mask)
    scale = draw(st.sampled_from([None, 0.5, 2.0]))
    return dict(q=q, k=k, v=v, mask=mask, scale=scale)


def float64_attention(q, k, v, mask, scale):
    """The definition, one row at a time; a row with every key masked attends to nothing."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.einsum("...qd,...kd->...qk", q, k) * scale
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    weights = np.zeros_like(scores)
    for index in np.ndindex(scores.shape[:-1]):
        row = scores[index]
        if np.isneginf(row).all():
            continue
        exps = np.exp(row - row.max())
        weights[index] = exps / exps.sum()
    return np.einsum("...qk,...kv->...qv", weights, v), weights


def call(case, fn=kernels.attention_forward):
    return fn(case["q"], case["k"], case["v"], case["mask"], case["scale"])


@SETTINGS
@given(attention_cases())
def test_attention_forward_matches_float64_formula(case):
    out, weights = call(case)
    expected_out, expected_weights = call(case, float64_attention)
    assert not np.isnan(out).any()
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(attention_cases(allow_fully_masked=False))
def test_attention_forward_and_backward_match_torch_sdpa(case):
    torch = pytest.importorskip("torch")
    q, k, v = (torch.tensor(case[name], requires_grad=True) for name in "qkv")
    mask = None if case["mask"] is None else torch.from_numpy(case["mask"])
    out_t = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=case["scale"])
    d_out = np.random.default_rng(1).standard_normal(out_t.shape)
    out_t.backward(torch.from_numpy(d_out))

    out, weights = call(case)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-10)
    grads = kernels.attention_backward(case["q"], case["k"], case["v"], weights, d_out, case["scale"])
    for ours, tensor in zip(grads, (q, k, v)):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=1e-9, atol=1e-10)


@SETTINGS
@given(case=attention_cases(max_len=3), seed=st.integers(0, 100))
def test_attention_backward_matches_central_differences(case, seed, numeric_vjp):
    out, weights = call(case)
    d_out = np.random.default_rng(seed).standard_normal(out.shape)
    dq, dk, dv = kernels.attention_backward(case["q"], case["k"], case["v"], weights, d_out, case["scale"])
    for name, analytic in zip("qkv", (dq, dk, dv)):
        def forward(value, name=name):
            return call(dict(case, **{name: value}))[0]
        np.testing.assert_allclose(analytic, numeric_vjp(forward, case[name], d_out), rtol=1e-5, atol=1e-7)


def test_fully_masked_rows_give_zero_weights_output_and_gradients():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    keep = np.ones((3, 5), dtype=bool)
    keep[1] = False
    bias = np.where(keep, 0.0, -np.inf)
    for mask in (keep, bias):
        with warnings.catch_warnings():
            warnings.simplefilter("error")               # no 0/0 or inf−inf on the way
            out, weights = kernels.attention_forward(q, k, v, mask)
            dq, dk, dv = kernels.attention_backward(q, k, v, weights, np.ones_like(out), None)
        assert np.isfinite(out).all() and np.isfinite(weights).all()
        np.testing.assert_array_equal(weights[:, 1], 0.0)
        np.testing.assert_array_equal(out[:, 1], 0.0)
        np.testing.assert_array_equal(dq[:, 1], 0.0)
        np.testing.assert_allclose(weights[:, [0, 2]].sum(-1), 1.0)
        assert np.isfinite(dk).all() and np.isfinite(dv).all()


def test_boolean_mask_means_keep_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((1, 2, 3)), rng.standard_normal((1, 4, 3)), rng.standard_normal((1, 4, 3))
    causal = np.tril(np.ones((2, 4), dtype=bool))
    out, weights = kernels.attention_forward(q, k, v, causal)
    assert (weights[0][~causal] == 0).all()
    expected = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v)), attn_mask=torch.from_numpy(causal))
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_float32_in_float32_out_even_with_float64_mask_and_numpy_scale():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 3, 4)).astype(np.float32) for _ in range(3))
    out, weights = kernels.attention_forward(q, k, v, rng.standard_normal((3, 3)), np.float64(0.3))
    assert out.dtype == weights.dtype == np.float32
    grads = kernels.attention_backward(q, k, v, weights, np.ones_like(out), np.float64(0.3))
    assert all(g.dtype == np.float32 for g in grads)
