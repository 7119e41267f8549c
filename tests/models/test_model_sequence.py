"""CharRNN and Seq2SeqTransformer against PyTorch twins (same layout, copied weights), their
generation/decoding loops, and the positional encoding."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad_models import CharRNN, Seq2SeqTransformer, sinusoidal_positional_encoding

try:    # torch is the oracle, not a dependency: without it the needs_torch tests skip
    import torch
    import torch.nn.functional as TF
    from tests.models.torch_twins import (TorchCharRNN, TorchSeq2Seq, assert_close,
                                          assert_grads_close, copy_weights, n_params,
                                          state_shapes, to_torch)
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch (the oracle)")

V = 11


@needs_torch
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_rnn_matches_torch_twin(cell, device):
    model = CharRNN(V, embed_dim=8, hidden_size=12, num_layers=2, cell=cell)
    twin = TorchCharRNN(V, 8, 12, 2, cell)
    assert state_shapes(model) == state_shapes(twin)
    assert n_params(model) == n_params(twin)
    copy_weights(twin, model)
    model.to(device)
    idx = mg.randint(0, V, (3, 7), device=device)
    targets = mg.randint(0, V, (3, 7), device=device)
    logits, loss = model(idx, targets)
    assert tuple(logits.shape) == (3, 7, V)
    t_logits = twin(to_torch(idx))
    t_loss = TF.cross_entropy(t_logits.reshape(-1, V), to_torch(targets).reshape(-1))
    assert_close(logits, t_logits)
    assert_close(loss, t_loss)
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin)


@needs_torch
def test_char_rnn_default_counts():
    assert n_params(CharRNN(65)) == 876_929
    assert n_params(CharRNN(65, cell="gru")) == 662_913
    with pytest.raises(ValueError, match="cell"):
        CharRNN(65, cell="rnn")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_rnn_generate_continues_the_state(cell, device):
    """Generation feeds one token at a time through the carried state; greedy output must
    equal recomputing the whole sequence from scratch each step."""
    mg.manual_seed(0)
    model = CharRNN(V, embed_dim=8, hidden_size=16, num_layers=2, cell=cell).to(device)
    prompt = mg.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    out = model.generate(prompt, 6, temperature=0)
    assert tuple(out.shape) == (2, 9)
    assert out[:, :3].tolist() == prompt.tolist()
    seq = prompt
    with mg.no_grad():
        for _ in range(6):
            seq = mg.cat([seq, model(seq)[0][:, -1].argmax(-1, keepdim=True)], dim=1)
    assert out.tolist() == seq.tolist()
    mg.manual_seed(5)
    a = model.generate(prompt, 10, temperature=1.0, top_k=4)
    mg.manual_seed(5)
    b = model.generate(prompt, 10, temperature=1.0, top_k=4)
    assert a.tolist() == b.tolist()
    assert model.training


def test_sinusoidal_positional_encoding():
    pe = sinusoidal_positional_encoding(50, 16).numpy()
    p, i = 7, 3
    assert pe.shape == (50, 16)
    np.testing.assert_allclose(pe[p, 2 * i], math.sin(p / 10000 ** (2 * i / 16)), rtol=1e-5)
    np.testing.assert_allclose(pe[p, 2 * i + 1], math.cos(p / 10000 ** (2 * i / 16)), rtol=1e-5)
    assert sinusoidal_positional_encoding(10, 7).shape == (10, 7)


def _seq2seq_model():
    return Seq2SeqTransformer(13, 17, d_model=16, nhead=4, num_layers=2, dim_feedforward=32,
                              dropout=0.0, max_len=40)


def _seq2seq_pair():
    torch.manual_seed(0)
    model = _seq2seq_model()
    twin = TorchSeq2Seq(13, 17, 16, 4, 2, 32, 40)
    return model, twin


@needs_torch
def test_seq2seq_matches_torch_twin(device):
    model, twin = _seq2seq_pair()
    assert state_shapes(model) == state_shapes(twin)
    assert n_params(model) == n_params(twin)
    copy_weights(twin, model)
    model.to(device)
    src, tgt = mg.randint(0, 13, (2, 9), device=device), mg.randint(0, 17, (2, 6), device=device)
    logits = model(src, tgt)
    assert tuple(logits.shape) == (2, 6, 17)
    t_logits = twin(to_torch(src), to_torch(tgt))
    assert_close(logits, t_logits, rtol=1e-4, atol=1e-5)
    target = np.random.default_rng(0).integers(0, 17, (2, 6))
    loss = F.cross_entropy(logits.reshape(-1, 17), mg.tensor(target.reshape(-1), device=device))
    t_loss = TF.cross_entropy(t_logits.reshape(-1, 17), torch.from_numpy(target.reshape(-1)))
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin, rtol=1e-3, atol=1e-5)


@needs_torch
def test_seq2seq_with_padding_matches_torch_twin(device):
    """pad_idx on both sides: key padding masks on source, target and memory; the loss
    ignores padded targets, so outputs at real positions and every gradient must agree."""
    torch.manual_seed(1)
    pad = 0
    model = Seq2SeqTransformer(13, 17, d_model=16, nhead=4, num_layers=2, dim_feedforward=32,
                               dropout=0.0, max_len=40, pad_idx=pad)
    twin = TorchSeq2Seq(13, 17, 16, 4, 2, 32, 40, pad_idx=pad)
    copy_weights(twin, model)
    model.to(device)
    rng = np.random.default_rng(1)
    src, tgt = rng.integers(1, 13, (3, 9)), rng.integers(1, 17, (3, 6))
    src[0, 5:], src[2, 7:], tgt[1, 3:], tgt[2, 5:] = pad, pad, pad, pad
    target = np.where(tgt == pad, pad, rng.integers(1, 17, tgt.shape))
    logits = model(mg.tensor(src, device=device), mg.tensor(tgt, device=device))
    t_logits = twin(torch.from_numpy(src), torch.from_numpy(tgt))
    keep = tgt != pad
    np.testing.assert_allclose(logits.detach().cpu().numpy()[keep], t_logits.detach().numpy()[keep],
                               rtol=1e-4, atol=1e-5)
    # padding changes the real positions' outputs (the masks are not no-ops)
    unmasked = TorchSeq2Seq(13, 17, 16, 4, 2, 32, 40)
    unmasked.load_state_dict(twin.state_dict())
    assert not np.allclose(unmasked(torch.from_numpy(src), torch.from_numpy(tgt)).detach().numpy()[keep],
                           t_logits.detach().numpy()[keep], atol=1e-4)
    loss = F.cross_entropy(logits.reshape(-1, 17), mg.tensor(target.reshape(-1), device=device),
                           ignore_index=pad)
    t_loss = TF.cross_entropy(t_logits.reshape(-1, 17), torch.from_numpy(target.reshape(-1)),
                              ignore_index=pad)
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-5)
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin, rtol=1e-3, atol=1e-5)


@needs_torch
def test_seq2seq_seed_size_count():
    """Seed 003's size: vocab 10000, d_model 512, 8 heads, 2 + 2 layers."""
    twin = torch.nn.Transformer(512, 8, 2, 2, 2048, batch_first=True)
    expected = 2 * 10000 * 512 + n_params(twin) + 512 * 10000 + 10000
    assert expected == 30_084_880
    assert n_params(Seq2SeqTransformer(10000, 10000)) == expected


def test_seq2seq_decoder_is_causal_and_padding_is_ignored(device):
    model = _seq2seq_model().to(device)
    model.eval()
    src, tgt = mg.randint(1, 13, (1, 8), device=device), mg.randint(1, 17, (1, 6), device=device)
    changed = tgt.clone()
    changed[0, 4] = (tgt[0, 4].item() + 1) % 17
    with mg.no_grad():
        a, b = model(src, tgt).cpu().numpy(), model(src, changed).cpu().numpy()
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])
    # with pad_idx set, trailing source padding does not change the output
    model.pad_idx = 0
    padded = mg.cat([src, mg.zeros(1, 3, dtype=mg.int64, device=device)], dim=1)
    with mg.no_grad():
        np.testing.assert_allclose(model(padded, tgt).cpu().numpy(), model(src, tgt).cpu().numpy(),
                                   atol=1e-5)


def test_greedy_decode(device):
    model = _seq2seq_model().to(device)
    model.train()
    src = mg.randint(0, 13, (3, 5), device=device)
    out = model.greedy_decode(src, max_len=8, bos=1, eos=2)
    assert out.dtype == mg.int64 and out.shape[0] == 3 and 2 <= out.shape[1] <= 8
    assert out[:, 0].tolist() == [1, 1, 1]
    assert model.training                                 # mode restored
    # each step is the argmax of the full re-decoded sequence
    model.eval()
    with mg.no_grad():
        for t in range(1, out.shape[1]):
            step = model(src, out[:, :t])[:, -1].argmax(-1).cpu().numpy()
            prev = out[:, :t].cpu().numpy()
            finished = (prev == 2).any(axis=1)
            np.testing.assert_array_equal(out[:, t].cpu().numpy()[~finished], step[~finished])
            assert np.all(out[:, t].cpu().numpy()[finished] == 2)
