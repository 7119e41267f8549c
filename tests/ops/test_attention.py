"""ops/attention.py: the blockwise ScaledDotProductAttention Function behind
F.scaled_dot_product_attention, run on whichever flash kernel dispatch picks (numba here,
and the materialising reference under ``kernels.use("reference")``): PyTorch parity of the
output and the q/k/v gradients (causal, bool/float/key-padding masks, fully masked rows,
Lq ≠ Lk, broadcast batch dims, float32), first and second derivatives in float64, which
calls take the Function and which the composite, and memory linear in T."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad_kernels as kernels
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad_kernels.catalogue import CATALOGUE
from tests.nn.parity import leaf, run_both


def cpu_leaf(array):
    return leaf(array, device="cpu")

BACKENDS = ["dispatch", "reference"]


def _within(backend):
    return kernels.use("reference") if backend == "reference" else _nothing()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _graph_names(tensor):
    """Names of every node in the graph behind ``tensor``."""
    names, stack, seen = set(), [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.name())
        stack.extend(n for n, _ in node.next_functions)
    return names


@settings(deadline=None, max_examples=25)
@given(st.sampled_from(BACKENDS), st.integers(1, 70), st.integers(1, 70), st.integers(1, 4),
       st.sampled_from(["none", "bool", "float", "padding", "causal", "dead_rows"]),
       st.sampled_from([None, 0.3]), st.integers(0, 2 ** 16))
def test_matches_torch_sdpa(device, backend, length, source, dim, masking, scale, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    q = leaf(rng.standard_normal((2, 2, length, dim)), device=device)
    k = leaf(rng.standard_normal((2, 1, source, dim)), device=device)      # shared by heads
    v = leaf(rng.standard_normal((2, 1, source, 3)), device=device)
    mask = None
    if masking in ("bool", "dead_rows"):
        mask = rng.random((length, source)) < 0.7
        mask[:, 0] = masking == "bool"               # dead_rows: some rows keep no key at all
    elif masking == "float":
        mask = rng.standard_normal((2, 1, length, source))
    elif masking == "padding":                       # (N, 1, 1, S): padded keys, every row
        mask = rng.random((2, 1, 1, source)) < 0.8
        mask[..., 0] = True
    causal = masking == "causal"
    ours = None if mask is None else mg.tensor(mask, device=device)
    theirs = None if mask is None else torch.from_numpy(mask)
    with _within(backend):
        out = run_both(torch, lambda q, k, v: F.scaled_dot_product_attention(
                           q, k, v, ours, is_causal=causal, scale=scale),
                       lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
                           q, k, v, theirs, is_causal=causal, scale=scale),
                       [q, k, v], seed)
    assert "ScaledDotProductAttentionBackward" in _graph_names(out)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fully_masked_rows_give_zero_output_and_zero_gradients(backend):
    rng = np.random.default_rng(0)
    q, k, v = (cpu_leaf(rng.standard_normal((1, 130, 4))) for _ in range(3))
    keep = rng.random((130, 130)) < 0.5
    keep[[0, 64, 129]] = False                        # dead rows in three different tiles
    with _within(backend):
        out = F.scaled_dot_product_attention(q, k, v, mg.tensor(keep))
        out.backward(mg.tensor(rng.standard_normal(out.shape)))
    assert not out.detach().numpy()[0, [0, 64, 129]].any()
    assert not q.grad.numpy()[0, [0, 64, 129]].any()
    assert all(np.isfinite(t.grad.numpy()).all() for t in (q, k, v))


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_key_or_query_sequences_match_torch(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for length, source in ((3, 0), (0, 3)):
        q, k, v = (cpu_leaf(rng.standard_normal((2, n, 4))) for n in (length, source, source))
        with _within(backend):
            run_both(torch, F.scaled_dot_product_attention,
                     torch.nn.functional.scaled_dot_product_attention, [q, k, v])


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_matches_float64(backend):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 100, 8)) for _ in range(3)]
    results = []
    for dtype in (np.float64, np.float32):
        q, k, v = (mg.tensor(a.astype(dtype), requires_grad=True) for a in arrays)
        with _within(backend):
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            out.sum().backward()
        assert out.dtype == q.grad.dtype == (mg.float32 if dtype == np.float32 else mg.float64)
        results.append([t.numpy() for t in (out.detach(), q.grad, k.grad, v.grad)])
    for wide, narrow in zip(*results):
        np.testing.assert_allclose(narrow, wide, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_and_gradgradcheck(backend):
    rng = np.random.default_rng(3)
    q, k, v = (cpu_leaf(rng.standard_normal((2, 3, 2))), cpu_leaf(rng.standard_normal((2, 4, 2))),
               cpu_leaf(rng.standard_normal((1, 4, 3))))
    keep = mg.tensor(rng.random((3, 4)) < 0.6)
    bias = mg.tensor(rng.standard_normal((2, 1, 4)))
    with _within(backend):
        for fn in (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, keep),
                   lambda q, k, v: F.scaled_dot_product_attention(q, k, v, bias, scale=0.7),
                   lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)):
            assert gradcheck(fn, (q, k, v))
            assert gradgradcheck(fn, (q, k, v))


@pytest.mark.usefixtures("unforced_kernels")
def test_dispatch_picks_numba_for_float32_and_float64_only():
    if not any(b == "numba" for b, _, _ in CATALOGUE.implementations("flash_attention_forward")):
        pytest.skip("the numba backend is not loaded")
    q = np.zeros((2, 5, 4), np.float32)
    assert CATALOGUE.select("flash_attention_forward", q, q, q, None, None, True)[0] == "numba"
    assert CATALOGUE.select("flash_attention_forward", q.astype(np.float64), q.astype(np.float64),
                            q.astype(np.float64), np.ones((5, 5), bool), None, False)[0] == "numba"
    half = q.astype(np.float16)
    assert CATALOGUE.select("flash_attention_forward", half, half, half, None, None, False)[0] \
        == "reference"
    assert CATALOGUE.select("flash_attention_forward", q, q, q, np.ones((5, 5), np.int64),
                            None, False)[0] == "reference"


def test_composite_path_with_dropout_or_a_float_mask_that_needs_a_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    q, k, v = (cpu_leaf(rng.standard_normal((2, 3, 4))) for _ in range(3))
    bias = cpu_leaf(rng.standard_normal((2, 3, 3)))
    out = run_both(torch, lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, b),
                   lambda q, k, v, b: torch.nn.functional.scaled_dot_product_attention(q, k, v, b),
                   [q, k, v, bias])
    assert "ScaledDotProductAttentionBackward" not in _graph_names(out)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert "ScaledDotProductAttentionBackward" not in _graph_names(out)


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_uses_the_function_without_weights(need_weights):
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = mg.randn(2, 5, 8, requires_grad=True)
    padding = mg.tensor(np.array([[False] * 5, [False] * 3 + [True] * 2]))
    out, _ = mha(x, x, x, key_padding_mask=padding, need_weights=need_weights)
    assert ("ScaledDotProductAttentionBackward" in _graph_names(out)) == (not need_weights)


def test_memory_stays_linear_in_the_sequence_length():
    """Forward + backward at T = 2048 (one head, D = 8): a materialised score matrix alone
    would be T²·8 B = 32 MiB; the blockwise kernels keep O(T·D) (tracemalloc sees numpy's
    allocations; numba's per-thread scratch is O(BLOCK·D) and outside its view).  ~0.1 s,
    so it stays in the default run."""
    if CATALOGUE.select("flash_attention_forward", *(np.zeros((1, 4, 8)),) * 3,
                        None, None, True)[0] != "numba":
        pytest.skip("the blockwise numba kernel is not loaded")
    length, dim = 2048, 8
    rng = np.random.default_rng(5)
    q, k, v = (cpu_leaf(rng.standard_normal((1, length, dim))) for _ in range(3))
    F.scaled_dot_product_attention(q[:, :70], k[:, :70], v[:, :70], is_causal=True).sum().backward()
    q.grad = k.grad = v.grad = None                   # the warm-up above pays numba's compile
    tracemalloc.start()
    try:
        F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < length * length * 8 / 16, f"peak {peak / 2**20:.1f} MiB"
    assert np.isfinite(q.grad.numpy()).all()
