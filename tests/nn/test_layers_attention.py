"""nn.MultiheadAttention and F.multi_head_attention_forward against PyTorch: state_dict keys
and shapes, reprs, torch's weights loaded as numpy arrays giving equal outputs, attention
weights and gradients (inputs and parameters) in float64 for self/cross attention,
batch_first, unbatched input, kdim/vdim, bias_kv/zero_attn, bool and float masks,
key_padding_mask, is_causal; fully masked rows as in torch; init; gradcheck; errors.

Modules stay in training mode with dropout 0 and grad enabled, which keeps torch off its
fused inference fast path (the same function, but not what these tests compare)."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import assert_same_state_layout, leaf
from tests.nn.parity_nested import compare_nested

E, H = 4, 2


def _pair(torch, *, device, **kwargs):
    """Ours on ``device``, torch's (the oracle) on the CPU."""
    ours = nn.MultiheadAttention(E, H, **kwargs).to(device)
    theirs = torch.nn.MultiheadAttention(E, H, **kwargs)
    return ours, theirs


def _qkv(rng, length=3, source=5, batch=2, kdim=E, vdim=E, batch_first=False, batched=True, *, device):
    def shape(seq, dim):
        if not batched:
            return (seq, dim)
        return (batch, seq, dim) if batch_first else (seq, batch, dim)
    return (leaf(rng.standard_normal(shape(length, E)), device=device), leaf(rng.standard_normal(shape(source, kdim)), device=device),
            leaf(rng.standard_normal(shape(source, vdim)), device=device))


@pytest.mark.parametrize("kwargs", [{}, {"bias": False}, {"kdim": 3, "vdim": 5},
                                    {"add_bias_kv": True}, {"add_bias_kv": True, "kdim": 3}])
def test_state_layout_and_repr_match_torch(kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, **kwargs, device=device)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_self_attention_matches_torch(batch_first, need_weights, average, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, batch_first=batch_first, device=device)
    x = _qkv(np.random.default_rng(0), batch_first=batch_first, device=device)[0]
    out, weights = compare_nested(torch, ours, theirs, x, x, x, need_weights=need_weights,
                                  average_attn_weights=average)
    assert tuple(out.shape) == tuple(x.shape)
    if need_weights:
        assert tuple(weights.shape) == ((2, 3, 3) if average else (2, H, 3, 3))
        np.testing.assert_allclose(weights.detach().cpu().numpy().sum(-1), 1.0)
    else:
        assert weights is None


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kwargs", [{}, {"kdim": 3, "vdim": 5}, {"bias": False},
                                    {"add_bias_kv": True, "add_zero_attn": True},
                                    {"add_zero_attn": True, "kdim": 3}])
@pytest.mark.parametrize("need_weights", [True, False])
def test_cross_attention_matches_torch(batch_first, kwargs, need_weights, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, batch_first=batch_first, **kwargs, device=device)
    q, k, v = _qkv(np.random.default_rng(1), kdim=kwargs.get("kdim", E),
                   vdim=kwargs.get("vdim", E), batch_first=batch_first, device=device)
    compare_nested(torch, ours, theirs, q, k, v, need_weights=need_weights)


@pytest.mark.parametrize("kwargs", [{}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True}])
def test_unbatched_input_matches_torch(kwargs, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    ours, theirs = _pair(torch, batch_first=True, **kwargs, device=device)   # batch_first is ignored unbatched
    q, k, v = _qkv(rng, kdim=kwargs.get("kdim", E), vdim=kwargs.get("vdim", E), batched=False,
                   device=device)
    padding = mg.tensor(np.array([0.0, -np.inf, 0.0, 0.5, -np.inf]), device=device)
    mask = mg.tensor(rng.standard_normal((H, 3, 5)), device=device)
    for need_weights in (True, False):
        out, weights = compare_nested(torch, ours, theirs, q, k, v, key_padding_mask=padding,
                                      attn_mask=mask, need_weights=need_weights,
                                      average_attn_weights=False)
        assert tuple(out.shape) == (3, E)
        source = 6 if kwargs.get("add_bias_kv") else 5
        assert weights is None or tuple(weights.shape) == (H, 3, source)
        q.grad = k.grad = v.grad = None


def _masks(rng, kind, length=3, source=5, batch=2, *, device):
    """(attn_mask, key_padding_mask) as minigrad tensors; no query row fully masked."""
    if kind == "bool2d":
        blocked = rng.random((length, source)) < 0.4
        blocked[:, 0] = False
        return mg.tensor(blocked, device=device), None
    if kind == "float3d":
        return mg.tensor(rng.standard_normal((batch * H, length, source)), device=device), None
    if kind == "bool3d":
        blocked = rng.random((batch * H, length, source)) < 0.4
        blocked[..., 0] = False
        return mg.tensor(blocked, device=device), None
    padding = rng.random((batch, source)) < 0.4
    padding[:, 1] = False
    if kind == "padding_bool":
        return None, mg.tensor(padding, device=device)
    if kind == "padding_float":
        return None, mg.tensor(np.where(padding, -np.inf, rng.standard_normal(padding.shape)),
                               device=device)
    blocked = rng.random((length, source)) < 0.3
    blocked[:, 1] = False
    return mg.tensor(blocked, device=device), mg.tensor(padding, device=device)                   # "both", bool


@pytest.mark.parametrize("kind", ["bool2d", "float3d", "bool3d", "padding_bool", "padding_float",
                                  "both"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_masks_match_torch(kind, need_weights, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours, theirs = _pair(torch, device=device)
    q, k, v = _qkv(rng, device=device)
    attn_mask, padding = _masks(rng, kind, device=device)
    _, weights = compare_nested(torch, ours, theirs, q, k, v, attn_mask=attn_mask,
                                key_padding_mask=padding, need_weights=need_weights,
                                average_attn_weights=False)
    if need_weights and padding is not None:
        blocked = np.isinf(F.multi_head_attention.canonical_mask(
            padding, "", None, "", mg.float64).cpu().numpy())
        assert not weights.detach().cpu().numpy().transpose(1, 2, 0, 3)[:, :, blocked].any()


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.sampled_from([1, 2, 4]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_random_shapes_match_torch(device, length, source, batch, heads, need_weights, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    ours, theirs = nn.MultiheadAttention(4, heads).to(device), torch.nn.MultiheadAttention(4, heads)
    q, k, v = _qkv(rng, length, source, batch, device=device)
    mask = mg.tensor(rng.standard_normal((length, source)), device=device)
    compare_nested(torch, ours, theirs, q, k, v, attn_mask=mask, need_weights=need_weights)


def test_is_causal_hint_matches_torch(device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, device=device)
    x = _qkv(np.random.default_rng(4), length=4, device=device)[0]
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=mg.float64, device=device)
    for need_weights in (True, False):
        compare_nested(torch, ours, theirs, x, x, x, attn_mask=causal, is_causal=True,
                       need_weights=need_weights)
        x.grad = None
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        ours(x, x, x, is_causal=True)


def test_fully_masked_rows_behave_like_torch(device):
    """need_weights=True: NaN in that query's output and weights (torch's plain softmax);
    need_weights=False: attention 0, output = out_proj.bias, finite gradients (SDPA)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    ours, theirs = _pair(torch, device=device)
    with torch.no_grad():
        theirs.out_proj.bias.copy_(torch.arange(E, dtype=torch.float32))
    q, k, v = _qkv(rng, device=device)
    blocked = np.zeros((3, 5), bool)
    blocked[1] = True
    out, weights = compare_nested(torch, ours, theirs, q, k, v,
                                  attn_mask=mg.tensor(blocked, device=device))
    assert np.isnan(out.detach().cpu().numpy()[1]).all() and np.isnan(weights.detach().cpu().numpy()[:, 1]).all()
    assert np.isfinite(out.detach().cpu().numpy()[[0, 2]]).all()
    q, k, v = _qkv(rng, device=device)
    out, _ = compare_nested(torch, ours, theirs, q, k, v, attn_mask=mg.tensor(blocked, device=device),
                            need_weights=False, load=False)
    np.testing.assert_allclose(out.detach().cpu().numpy()[1], np.broadcast_to(np.arange(E), (2, E)))
    assert all(np.isfinite(t.grad.cpu().numpy()).all() for t in (q, k, v))


def test_default_initialisation():
    mg.manual_seed(0)
    layer = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))                 # xavier_uniform_ on (3E, E)
    w = layer.in_proj_weight.detach().numpy()
    assert tuple(w.shape) == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not layer.in_proj_bias.detach().numpy().any()
    assert not layer.out_proj.bias.detach().numpy().any()
    assert np.abs(layer.out_proj.weight.detach().numpy()).max() <= 1 / 8   # Linear's U(±1/√E)
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert separate.in_proj_weight is None and tuple(separate.k_proj_weight.shape) == (8, 3)
    assert tuple(separate.bias_k.shape) == (1, 1, 8) and separate.bias_k.detach().numpy().any()


def test_gradcheck_small_mha(device):
    mg.manual_seed(0)
    layer = nn.MultiheadAttention(4, 2, kdim=3).to(device).double()
    rng = np.random.default_rng(6)
    q, k, v = leaf(rng.standard_normal((2, 1, 4)), device=device), leaf(rng.standard_normal((3, 1, 3)), device=device), \
        leaf(rng.standard_normal((3, 1, 4)), device=device)
    mask = mg.tensor(np.array([[False, True, False], [False, False, True]]), device=device)

    def attend(q, k, v, wq, wk, bias):
        return layer(q, k, v, attn_mask=mask)[0]
    assert gradcheck(attend, (q, k, v, layer.q_proj_weight, layer.k_proj_weight, layer.in_proj_bias))
    assert gradcheck(lambda q: layer(q, q.reshape(2, 1, 4)[:, :, :3], q, need_weights=False)[0], (q,))


def test_functional_form_with_static_kv_matches_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    w, b = (leaf(rng.standard_normal((3 * E, E)), device=device),
            leaf(rng.standard_normal(3 * E), device=device))
    wo, bo = (leaf(rng.standard_normal((E, E)), device=device),
              leaf(rng.standard_normal(E), device=device))
    q = leaf(rng.standard_normal((3, 2, E)), device=device)
    static_k, static_v = (leaf(rng.standard_normal((2 * H, 4, E // H)), device=device),
                          leaf(rng.standard_normal((2 * H, 4, E // H)), device=device))
    args = [q, q, q, E, H, w, b, None, None, False, 0.0, wo, bo]
    for need_weights in (True, False):
        ours = F.multi_head_attention_forward(*args, need_weights=need_weights, static_k=static_k,
                                              static_v=static_v)
        theirs = torch.nn.functional.multi_head_attention_forward(
            *[torch.from_numpy(a.detach().cpu().numpy()) if isinstance(a, mg.Tensor) else a for a in args],
            need_weights=need_weights, static_k=torch.from_numpy(static_k.detach().cpu().numpy()),
            static_v=torch.from_numpy(static_v.detach().cpu().numpy()))
        np.testing.assert_allclose(ours[0].detach().cpu().numpy(), theirs[0].numpy(), rtol=1e-10)


def test_dropout_on_attention_weights_only_in_training(device):
    """Training: each weight is dropped (0) or scaled by 1/(1 − p) = 2; eval: no dropout."""
    mg.manual_seed(0)
    layer = nn.MultiheadAttention(4, 1, dropout=0.5).to(device).double()
    x = leaf(np.random.default_rng(8).standard_normal((6, 1, 4)), requires_grad=False,
             device=device)
    dropped = layer(x, x, x)[1].detach().cpu().numpy()
    clean = layer.eval()(x, x, x)[1].detach().cpu().numpy()
    np.testing.assert_allclose(clean.sum(-1), 1.0)
    assert (dropped == 0).any() and (dropped != 0).any()
    np.testing.assert_allclose(dropped[dropped != 0], 2 * clean[dropped != 0])


def test_errors_name_shapes(device):
    layer = nn.MultiheadAttention(E, H).to(device)
    x = mg.randn(3, 2, E, device=device)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is .*\[3, 4\].*should be \(3, 3\)"):
        layer(x, x, x, attn_mask=mg.zeros(3, 4, dtype=mg.bool, device=device))
    with pytest.raises(RuntimeError, match=r"3D attn_mask is .*\[2, 3, 3\].*should be \(4, 3, 3\)"):
        layer(x, x, x, attn_mask=mg.zeros(2, 3, 3, device=device))
    with pytest.raises(AssertionError, match="key_padded_mask.shape\\[1\\] to be 3, but got 4"):
        layer(x, x, x, key_padding_mask=mg.zeros(2, 4, dtype=mg.bool, device=device))
    with pytest.raises(AssertionError, match="expected `key_padding_mask` to be `None` or 2-D"):
        layer(x, x, x, key_padding_mask=mg.zeros(3, dtype=mg.bool, device=device))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D but found 2-D"):
        layer(x, x[0], x[0])
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D tensor"):
        layer(x[None], x[None], x[None])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 3"):
        y = mg.randn(3, 2, 3, device=device)
        layer(y, y, y)
    with pytest.raises(AssertionError, match="key shape .* does not match value shape"):
        layer(x, x, mg.randn(4, 2, E, device=device))
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        layer(x, x, x, attn_mask=mg.zeros(3, 3, dtype=mg.int64, device=device))
    with pytest.raises(AssertionError, match=r"Expected `attn_mask` shape to be \(2, 3, 3\)"):
        layer(x[:, 0], x[:, 0], x[:, 0], attn_mask=mg.zeros(4, 3, 3, device=device))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2).to(device)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(4, 0).to(device)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        layer(x, x, x, attn_mask=mg.zeros(3, 3, device=device),
              key_padding_mask=mg.zeros(2, 3, dtype=mg.bool, device=device))
