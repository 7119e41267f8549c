"""GPT: layout and parameter count against a PyTorch twin (forward and gradients with copied
weights), weight tying, causality, loss at initialisation, GPT-2 init, generation."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad_models import GPT, GPTConfig

try:    # torch is the oracle, not a dependency: without it the needs_torch tests skip
    import torch
    import torch.nn.functional as TF
    from tests.models.torch_twins import (TorchGPT, assert_close, assert_grads_close,
                                          copy_weights, n_params, state_shapes, to_torch)
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch (the oracle)")

SMALL = GPTConfig(vocab_size=23, block_size=16, n_layer=2, n_head=4, n_embd=32)


@pytest.fixture
def model(device):
    mg.manual_seed(0)
    return GPT(SMALL).to(device)


def test_weight_tying(model):
    assert model.transformer.wte.weight is model.lm_head.weight
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names or "transformer.wte.weight" not in names
    assert "lm_head.weight" in model.state_dict() and "transformer.wte.weight" in model.state_dict()


@needs_torch
def test_matches_torch_twin(model, device):
    twin = TorchGPT(23, 16, 2, 4, 32)
    assert state_shapes(model) == state_shapes(twin)
    assert n_params(model) == n_params(twin) == model.num_parameters()
    copy_weights(twin, model)
    idx, targets = (mg.randint(0, 23, (3, 16), device=device),
                    mg.randint(0, 23, (3, 16), device=device))
    logits, loss = model(idx, targets)
    t_logits = twin(to_torch(idx))
    t_loss = TF.cross_entropy(t_logits.reshape(-1, 23), to_torch(targets).reshape(-1))
    assert_close(logits, t_logits, rtol=1e-4, atol=1e-5)
    assert_close(loss, t_loss)
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin, rtol=1e-3, atol=1e-6)


def test_parameter_count_formula():
    V, T, L, C = 65, 64, 2, 128
    expected = V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C
    assert GPT(GPTConfig(V, T, L, 4, C)).num_parameters() == expected == 413_312


def test_causal(model, device):
    idx = mg.randint(0, 23, (2, 12), device=device)
    changed = idx.clone()
    changed[:, 7] = (idx[:, 7] + 1) % 23
    with mg.no_grad():
        a, b = model(idx)[0].cpu().numpy(), model(changed)[0].cpu().numpy()
    np.testing.assert_array_equal(a[:, :7], b[:, :7])
    assert not np.allclose(a[:, 7:], b[:, 7:])


def test_loss_at_init_is_ln_vocab(model, device):
    idx, targets = (mg.randint(0, 23, (8, 16), device=device),
                    mg.randint(0, 23, (8, 16), device=device))
    _, loss = model(idx, targets)
    assert abs(loss.item() - math.log(23)) < 0.1
    _, none = model(idx)
    assert none is None


def test_gpt2_init(model):
    wte = model.transformer.wte.weight.detach().cpu().numpy()
    assert abs(wte.std() - 0.02) < 0.003
    proj = model.transformer.h[0].attn.c_proj.weight.detach().cpu().numpy()
    assert abs(proj.std() - 0.02 / math.sqrt(2 * SMALL.n_layer)) < 0.002
    assert np.all(model.transformer.h[0].attn.c_attn.bias.detach().cpu().numpy() == 0)


def test_block_size_enforced(model, device):
    with pytest.raises(ValueError, match="block size"):
        model(mg.zeros(1, 17, dtype=mg.int64, device=device))


def test_generate(model, device):
    prompt = mg.tensor([[1, 2, 3]], device=device)
    mg.manual_seed(42)
    a = model.generate(prompt, 20, temperature=0.8, top_k=5)
    mg.manual_seed(42)
    b = model.generate(prompt, 20, temperature=0.8, top_k=5)
    assert tuple(a.shape) == (1, 23)               # longer than block_size 16: context cropped
    assert a.tolist() == b.tolist()
    assert a[:, :3].tolist() == [[1, 2, 3]]
    mg.manual_seed(43)
    assert model.generate(prompt, 20, temperature=2.0).tolist() != a.tolist()
    greedy = model.generate(prompt, 1, temperature=0)
    with mg.no_grad():
        assert greedy[0, -1].item() == model(prompt)[0][0, -1].argmax().item()
    assert model.training


def test_configure_optimizers(model):
    opt = model.configure_optimizers(weight_decay=0.1, learning_rate=3e-4)
    decay, no_decay = opt.param_groups
    assert all(p.ndim >= 2 for p in decay["params"]) and decay["weight_decay"] == 0.1
    assert all(p.ndim < 2 for p in no_decay["params"]) and no_decay["weight_decay"] == 0.0
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
