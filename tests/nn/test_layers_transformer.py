"""Transformer layers, stacks and nn.Transformer against torch.nn: state_dict keys and
shapes, reprs, torch's weights loaded as numpy arrays giving equal outputs and gradients in
float64 (post-norm and pre-norm, relu/gelu/callable activations, bool and float masks,
key padding, causal masks and hints, batch_first, unbatched input); deep-copied layers are
independent; the causal mask; xavier re-initialisation; errors.

Dropout is 0 and modules stay in training mode with grad enabled, which keeps torch off its
fused inference fast paths."""
import copy
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from tests.nn.parity import assert_same_state_layout, leaf
from tests.nn.parity_nested import compare_nested

D, HEADS, FF = 8, 2, 16
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")


def _activation(torch, name):
    """(ours, torch's) for an activation given by name, function or module."""
    return {"relu": ("relu", "relu"), "gelu": ("gelu", "gelu"),
            "F.gelu": (F.gelu, torch.nn.functional.gelu),
            "GELU()": (nn.GELU(), torch.nn.GELU())}[name]


def _pair(torch, cls, *args, activation="relu", device, **kwargs):
    """Ours on ``device``, torch's (the oracle) on the CPU."""
    ours_act, torch_act = _activation(torch, activation)
    return (getattr(nn, cls)(*args, activation=ours_act, **kwargs).to(device),
            getattr(torch.nn, cls)(*args, activation=torch_act, **kwargs))


def _seq(rng, length, batch=2, batch_first=False, batched=True, *, device):
    if not batched:
        return leaf(rng.standard_normal((length, D)), device=device)
    return leaf(rng.standard_normal((batch, length, D) if batch_first else (length, batch, D)),
                device=device)


def _padding(rng, source, batch=2, *, device):
    padding = rng.random((batch, source)) < 0.4
    padding[:, 0] = False
    return mg.tensor(padding, device=device)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "F.gelu", "GELU()"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours, theirs = _pair(torch, "TransformerEncoderLayer", D, HEADS, FF, 0.0,
                         activation=activation, norm_first=norm_first, batch_first=batch_first, device=device)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    src = _seq(rng, 5, batch_first=batch_first, device=device)
    mask = mg.tensor(rng.standard_normal((5, 5)), device=device)
    out = compare_nested(torch, ours, theirs, src, src_mask=mask,
                         src_key_padding_mask=mg.tensor(np.where(_padding(rng, 5, device=device).cpu().numpy(), -np.inf, 0.0), device=device))
    assert tuple(out.shape) == tuple(src.shape)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masks", ["none", "bool", "causal", "padding"])
def test_decoder_layer_matches_torch(norm_first, activation, masks, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ours, theirs = _pair(torch, "TransformerDecoderLayer", D, HEADS, FF, 0.0,
                         activation=activation, norm_first=norm_first, device=device)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    tgt, memory = _seq(rng, 4, device=device), _seq(rng, 6, device=device)
    kwargs = {}
    if masks == "bool":
        blocked = rng.random((4, 6)) < 0.3
        blocked[:, 0] = False
        kwargs = {"tgt_mask": mg.tensor(np.triu(np.ones((4, 4), bool), 1), device=device),
                  "memory_mask": mg.tensor(blocked, device=device)}
    elif masks == "causal":
        kwargs = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4, dtype=mg.float64),
                  "tgt_is_causal": True}
    elif masks == "padding":
        kwargs = {"tgt_key_padding_mask": _padding(rng, 4, device=device),
                  "memory_key_padding_mask": _padding(rng, 6, device=device)}
    compare_nested(torch, ours, theirs, tgt, memory, **kwargs)


@pytest.mark.parametrize("batched", [True, False])
def test_stacks_match_torch(batched, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    layer_args = (D, HEADS, FF, 0.0)
    enc, torch_enc = (nn.TransformerEncoder(nn.TransformerEncoderLayer(*layer_args, batch_first=True).to(device),
                                            2, nn.LayerNorm(D).to(device)).to(device),
                      torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
                          *layer_args, batch_first=True), 2, torch.nn.LayerNorm(D),
                          enable_nested_tensor=False))
    assert_same_state_layout(enc, torch_enc)
    assert repr(enc) == repr(torch_enc)
    src = _seq(rng, 5, batch_first=True, batched=batched, device=device)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=mg.float64)
    compare_nested(torch, enc, torch_enc, src, mask=causal)           # is_causal detected
    dec, torch_dec = (nn.TransformerDecoder(nn.TransformerDecoderLayer(*layer_args).to(device), 2).to(device),
                      torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(*layer_args), 2))
    assert_same_state_layout(dec, torch_dec)
    tgt, memory = (_seq(rng, 4, batched=batched, device=device),
                   _seq(rng, 5, batched=batched, device=device))
    compare_nested(torch, dec, torch_dec, tgt, memory,
                   tgt_mask=mg.tensor(np.triu(np.ones((4, 4), bool), 1), device=device))


def test_stack_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(D, HEADS, FF)
    stack = nn.TransformerEncoder(layer, 3)
    params = [dict(l.named_parameters()) for l in stack.layers]
    assert all(l is not layer for l in stack.layers)
    assert len({id(p["linear1.weight"]) for p in params} | {id(layer.linear1.weight)}) == 4
    for p in params:
        np.testing.assert_array_equal(p["self_attn.in_proj_weight"].detach().numpy(),
                                      layer.self_attn.in_proj_weight.detach().numpy())
    with mg.no_grad():
        stack.layers[0].linear1.weight.fill_(1.0)
    assert not (stack.layers[1].linear1.weight.detach().numpy() == 1.0).all()
    clone = copy.deepcopy(stack)
    assert list(clone.state_dict()) == list(stack.state_dict())
    assert clone.layers[0].activation is F.relu


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_full_transformer_matches_torch(norm_first, batch_first, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    kwargs = dict(d_model=D, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=2,
                  dim_feedforward=FF, dropout=0.0, norm_first=norm_first, batch_first=batch_first)
    ours, theirs = nn.Transformer(**kwargs).to(device), torch.nn.Transformer(**kwargs)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    keys = list(ours.state_dict())
    for key in ("encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.linear1.weight",
                "encoder.norm.weight", "decoder.layers.0.multihead_attn.out_proj.bias",
                "decoder.layers.1.norm3.weight", "decoder.norm.bias"):
        assert key in keys
    src, tgt = (_seq(rng, 5, batch_first=batch_first, device=device),
                _seq(rng, 4, batch_first=batch_first, device=device))
    out = compare_nested(torch, ours, theirs, src, tgt,
                         tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=mg.float64),
                         src_key_padding_mask=_padding(rng, 5, device=device),
                         memory_key_padding_mask=_padding(rng, 5, device=device), rtol=1e-8, atol=1e-9)
    assert tuple(out.shape) == tuple(tgt.shape)


def test_custom_encoder_decoder_and_gelu_transformer_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    ours = nn.Transformer(D, HEADS, 1, 1, FF, 0.0, "gelu",
                          custom_encoder=nn.TransformerEncoder(
                              nn.TransformerEncoderLayer(D, HEADS, FF, 0.0).to(device), 1).to(device)).to(device)
    theirs = torch.nn.Transformer(D, HEADS, 1, 1, FF, 0.0, "gelu",
                                  custom_encoder=torch.nn.TransformerEncoder(
                                      torch.nn.TransformerEncoderLayer(D, HEADS, FF, 0.0), 1,
                                      enable_nested_tensor=False))
    assert_same_state_layout(ours, theirs)
    compare_nested(torch, ours, theirs, _seq(rng, 3, batched=False,
                                             device=device), _seq(rng, 2, batched=False, device=device))


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == mg.float32 and tuple(mask.shape) == (4, 4)
    expected = np.where(np.triu(np.ones((4, 4), bool), 1), -np.inf, 0.0)
    np.testing.assert_array_equal(mask.numpy(), expected)
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=mg.float64).dtype == mg.float64


def test_reset_parameters_is_xavier_on_matrices():
    mg.manual_seed(0)
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=64)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()         # (64, 16)
    bound = math.sqrt(6 / (16 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    linear_bias = model.encoder.layers[0].linear1.bias.detach().numpy()
    assert np.abs(linear_bias).max() <= 1 / 4 and linear_bias.any()     # untouched (1-D)
    np.testing.assert_array_equal(model.decoder.norm.weight.detach().numpy(), 1.0)


def test_errors(device):
    model = nn.Transformer(D, HEADS, 1, 1, FF, 0.0).to(device)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(mg.randn(3, 2, D, device=device), mg.randn(3, 3, D, device=device))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to "
                                           "d_model"):
        model(mg.randn(3, 2, D, device=device), mg.randn(3, 2, D + 1, device=device))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D, HEADS, activation="tanh").to(device)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF).to(device)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is .*\[4, 4\].*should be \(3, 3\)"):
        layer(mg.randn(3, 2, D, device=device), src_mask=mg.zeros(4, 4, device=device))
