"""Embedding against torch.nn.Embedding: state_dict layout, reprs, N(0, 1) initialisation
with the padding row zeroed, PyTorch weights loaded as numpy giving equal outputs and
weight gradients (padding row untouched, repeated ids accumulated), from_pretrained."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from tests.nn.parity import assert_close, assert_same_state_layout, load_from_torch


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                    {"max_norm": 1.0}])
def test_matches_torch(kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = (nn.Embedding(6, 3, **kwargs).to(device).double(),
                    torch.nn.Embedding(6, 3, **kwargs).double())
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    assert ours.padding_idx == theirs.padding_idx
    load_from_torch(ours, theirs)
    ids = np.array([[1, 4, 4], [5, 1, 0]])
    out, expected = ours(mg.tensor(ids, device=device)), theirs(torch.from_numpy(ids))
    assert_close(out, expected)
    cotangent = np.random.default_rng(0).standard_normal(tuple(out.shape))
    out.backward(mg.tensor(cotangent, device=device))
    expected.backward(torch.from_numpy(cotangent))
    assert_close(ours.weight.grad, theirs.weight.grad)
    assert_close(ours.weight, theirs.weight)


def test_default_init():
    mg.manual_seed(0)
    layer = nn.Embedding(400, 50, padding_idx=3)
    w = layer.weight.detach().numpy()
    assert not w[3].any()
    rows = np.delete(w, 3, axis=0)
    assert abs(rows.mean()) < 0.02 and abs(rows.std() - 1.0) < 0.02


def test_from_pretrained(device):
    table = mg.tensor(np.arange(12.0).reshape(4, 3), device=device)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(mg.tensor([2],
                                                   device=device)).cpu().numpy(), [[6.0, 7.0, 8.0]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    trainable(mg.tensor([0, 2, 2], device=device)).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.cpu().numpy()[:, 0], [0.0, 0.0, 2.0, 0.0])
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(mg.ones(3, device=device))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(4, 2, padding_idx=4).to(device)
