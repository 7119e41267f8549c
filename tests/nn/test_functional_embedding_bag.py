"""F.embedding_bag / nn.EmbeddingBag against PyTorch: sum, mean and max over bags from
offsets (empty bags, include_last_offset) or 2-D input, padding_idx, per_sample_weights,
max_norm; values and gradients (weight and per-sample weights) in float64; errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import leaf, run_both, compare_modules


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["sum", "mean", "max"]), st.integers(0, 12), st.integers(1, 5),
       st.booleans(), st.booleans(), st.one_of(st.none(), st.integers(-6, 5)), st.booleans(),
       st.integers(0, 2 ** 16))
def test_offsets_bags_match_torch(device, mode, n, bags, include_last, two_d, padding_idx,
                                  weighted, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    w = leaf(rng.standard_normal((6, 3)), device=device)
    if two_d:
        ids = rng.integers(0, 6, (bags, max(n // bags, 1)))
        offsets = t_offsets = None
    else:
        ids = rng.integers(0, 6, n)
        cuts = np.sort(rng.integers(0, n + 1, bags - 1))
        marks = np.concatenate([[0], cuts] + ([[n]] if include_last else []))
        offsets, t_offsets = mg.tensor(marks, device=device), torch.tensor(marks)
    psw = None
    inputs = [w]
    if weighted and mode == "sum":
        psw = leaf(rng.standard_normal(ids.shape), device=device)
        inputs.append(psw)
    kw = dict(mode=mode, padding_idx=padding_idx, include_last_offset=include_last and not two_d)
    ours_ids, theirs_ids = mg.tensor(ids, device=device), torch.tensor(ids)

    def ours(weight, *p):
        return F.embedding_bag(ours_ids, weight, offsets, per_sample_weights=p[0] if p else None,
                               **kw)

    def theirs(weight, *p):
        return torch.nn.functional.embedding_bag(theirs_ids, weight, t_offsets,
                                                 per_sample_weights=p[0] if p else None, **kw)

    run_both(torch, ours, theirs, inputs, seed)


def test_max_norm_renormalises_like_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    table = rng.standard_normal((5, 4)) * 3
    ours_w, theirs_w = mg.tensor(table, device=device), torch.tensor(table)
    ids, offsets = [0, 2, 2, 4], [0, 3]
    out = F.embedding_bag(mg.tensor(ids, device=device), ours_w, mg.tensor(offsets, device=device),
                          max_norm=1.5)
    expected = torch.nn.functional.embedding_bag(torch.tensor(ids), theirs_w,
                                                 torch.tensor(offsets), max_norm=1.5)
    np.testing.assert_allclose(out.cpu().numpy(), expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_w.cpu().numpy(), theirs_w.numpy(), rtol=1e-12)


def test_gradcheck(device):
    rng = np.random.default_rng(2)
    w = leaf(rng.standard_normal((5, 3)), device=device)
    psw = leaf(rng.standard_normal(6), device=device)
    ids, offsets = mg.tensor([0, 1, 1, 4, 3, 2], device=device), mg.tensor([0, 2, 2, 5],
                                                                          device=device)
    assert gradcheck(lambda t, p: F.embedding_bag(ids, t, offsets, mode="sum",
                                                  per_sample_weights=p), (w, psw))
    assert gradcheck(lambda t: F.embedding_bag(ids, t, offsets, mode="max"), (w,))


def test_errors_match_torch():
    w = mg.randn(6, 2)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(mg.tensor([[1, 2], [3, 4]]), w, mg.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(mg.tensor([1, 2]), w)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(mg.tensor([1, 2]), w, mg.tensor([0]), per_sample_weights=mg.ones(2))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(mg.tensor([1, 2]), w, mg.tensor([0]), mode="foo")
    with pytest.raises(RuntimeError, match="Index 1 of input takes value 7 which is not in the "
                                           "valid range \\[0, 6\\)"):
        F.embedding_bag(mg.tensor([1, 7]), w, mg.tensor([0]))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(mg.tensor([1, 2]), w, mg.tensor([1]))


def test_module_matches_torch(device):
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"mode": "sum", "padding_idx": 0}, {"mode": "max", "max_norm": 1.0}):
        ours, theirs = nn.EmbeddingBag(7, 3, **kwargs), torch.nn.EmbeddingBag(7, 3, **kwargs)
        assert repr(ours) == repr(theirs)
        if "padding_idx" in kwargs:
            assert not ours.weight.detach().numpy()[0].any()
    ours, theirs = nn.EmbeddingBag(7, 3, mode="sum"), torch.nn.EmbeddingBag(7, 3, mode="sum")
    ids = mg.tensor([[1, 2, 3], [6, 6, 0]], device=device)
    compare_modules(torch, ours, theirs, ids)
    pretrained = nn.EmbeddingBag.from_pretrained(mg.ones(4, 2))
    assert not pretrained.weight.requires_grad
    out = pretrained(mg.tensor([0, 1, 3]), mg.tensor([0, 1]))
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 2)))
