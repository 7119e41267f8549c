"""F.scaled_dot_product_attention: PyTorch parity (values and q/k/v gradients) with no
mask, bool and float masks, is_causal, custom scale, broadcast batch dims and grouped
query heads; fully masked rows give zeros and finite gradients; the kernels' fused
attention agrees; first and second derivatives; dropout statistics; errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad_kernels as kernels
import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from(["none", "bool", "float", "causal"]), st.sampled_from([None, 0.3]),
       st.integers(0, 2 ** 16))
def test_matches_torch(device, length, source, dim, dim_v, masking, scale, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    q = leaf(rng.standard_normal((2, 2, length, dim)), device=device)
    k = leaf(rng.standard_normal((2, 1, source, dim)), device=device)          # broadcast over heads
    v = leaf(rng.standard_normal((2, 1, source, dim_v)), device=device)
    mask = t_mask = None
    if masking == "bool":
        keep = rng.random((length, source)) < 0.7
        keep[:, 0] = True                                          # no fully masked row here
        mask, t_mask = mg.tensor(keep, device=device), torch.from_numpy(keep)
    elif masking == "float":
        bias = rng.standard_normal((2, 1, length, source))
        mask, t_mask = mg.tensor(bias, device=device), torch.from_numpy(bias)
    causal = masking == "causal"
    run_both(torch, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask, is_causal=causal,
                                                                   scale=scale),
             lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
                 q, k, v, t_mask, is_causal=causal, scale=scale),
             [q, k, v], seed)


def test_fully_masked_rows_give_zeros_and_finite_gradients(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = (leaf(rng.standard_normal((1, 3, 4)), device=device) for _ in range(3))
    keep = np.zeros((3, 3), bool)
    keep[:, 0] = True
    keep[1] = False
    out = run_both(torch, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mg.tensor(keep, device=device)),
                   lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
                       q, k, v, torch.from_numpy(keep)), [q, k, v])
    assert not out.detach().cpu().numpy()[0, 1].any()
    assert all(np.isfinite(t.grad.cpu().numpy()).all() for t in (q, k, v))
    bias = np.zeros((3, 3))
    bias[2] = -np.inf
    q2 = leaf(q.detach().cpu().numpy(), device=device)
    out = F.scaled_dot_product_attention(q2, k.detach(), v.detach(), mg.tensor(bias, device=device))
    out.sum().backward()
    assert not out.detach().cpu().numpy()[0, 2].any() and np.isfinite(q2.grad.cpu().numpy()).all()


def test_agrees_with_the_fused_kernel(device):
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    keep = rng.random((3, 5)) < 0.6
    keep[0] = False
    expected, weights = kernels.attention_forward(q, k, v, keep)
    qt, kt, vt = leaf(q, device=device), leaf(k, device=device), leaf(v, device=device)
    out = F.scaled_dot_product_attention(qt, kt, vt, mg.tensor(keep, device=device))
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-12, atol=1e-14)
    d_out = rng.standard_normal(out.shape)
    out.backward(mg.tensor(d_out, device=device))
    for ours, theirs in zip((qt, kt, vt), kernels.attention_backward(q, k, v, weights, d_out)):
        np.testing.assert_allclose(ours.grad.cpu().numpy(), theirs, rtol=1e-10, atol=1e-12)


def test_grouped_query_heads_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    q = leaf(rng.standard_normal((1, 4, 3, 2)), device=device)
    k, v = (leaf(rng.standard_normal((1, 2, 3, 2)), device=device),
            leaf(rng.standard_normal((1, 2, 3, 2)), device=device))
    run_both(torch, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
             lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                               enable_gqa=True),
             [q, k, v])


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(3)
    q, k, v = (leaf(rng.standard_normal((2, 3)), device=device),
               leaf(rng.standard_normal((3, 3)), device=device),
               leaf(rng.standard_normal((3, 2)), device=device))
    keep = mg.tensor(np.array([[True, False, True], [False, False, False]]), device=device)
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, keep)  # noqa: E731
    assert gradcheck(fn, (q, k, v))
    assert gradgradcheck(fn, (q, k, v))
    causal = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    assert gradcheck(causal, (q, k, v))


def test_dropout_on_weights_keeps_the_expectation(device):
    mg.manual_seed(0)
    q, k = mg.zeros(1, 1, 4, device=device), mg.zeros(1, 200, 4, device=device)                 # uniform weights 1/200
    v = mg.ones(1, 200, 1, device=device)
    outs = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).item() for _ in range(200)]
    assert abs(np.mean(outs) - 1.0) < 0.05
    assert np.std(outs) > 0


def test_float32_stays_float32(device):
    q = mg.randn(2, 3, 4, device=device)
    assert F.scaled_dot_product_attention(q, q, q, is_causal=True).dtype == mg.float32


@pytest.mark.parametrize("call,message", [
    (lambda: F.scaled_dot_product_attention(mg.randn(2, 3, 4), mg.randn(2, 3, 4), mg.randn(2, 3, 4),
                                            attn_mask=mg.ones(3, 3).bool(), is_causal=True),
     "Explicit attn_mask should not be set when is_causal=True"),
    (lambda: F.scaled_dot_product_attention(mg.randn(2, 3, 4), mg.randn(2, 3, 4), mg.randn(2, 3, 4),
                                            attn_mask=mg.ones(2, 2).bool()),
     "attn_mask of shape [2, 2] cannot be broadcast to the attention scores of shape [2, 3, 3]"),
    (lambda: F.scaled_dot_product_attention(mg.randn(1, 2, 4), mg.randn(1, 3, 5), mg.randn(1, 3, 4)),
     "query [1, 2, 4] and key [1, 3, 5]"),
    (lambda: F.scaled_dot_product_attention(mg.randn(1, 2, 4), mg.randn(1, 3, 4), mg.randn(1, 2, 4)),
     "key [1, 3, 4] and value [1, 2, 4]"),
])
def test_errors(call, message):
    with pytest.raises(RuntimeError) as info:
        call()
    assert message in str(info.value)
