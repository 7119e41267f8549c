"""The flash-attention kernels of ``kernels/cuda/attention.py`` in the CUDA simulator.

Each kernel factory is launched directly at tiny tiles (odd sizes, so every ragged edge
is crossed) on ragged sequence lengths (Lq = 7, Lk = 9) with NaN-poisoned outputs, and
compared with the float64 reference (``reference/attention.py``'s ``flash_attention_*``):
no mask, causal, a boolean mask with fully masked rows, an additive float mask broadcast
over heads, key padding.  The wrappers are checked the same way, for bit-for-bit repeats
(no atomics), and through ``F.scaled_dot_product_attention`` (values, gradients and
double backward against torch) with the wrappers registered on a numpy-bound test backend,
which is the route CuPy arrays take on a GPU.  Each simulated launch stays < ~0.5 s.
"""
import math

import numpy as np
import pytest

from minigrad_kernels.catalogue import CATALOGUE
from minigrad_kernels.reference import attention as reference

cuda_backend = pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
from minigrad_kernels.cuda import attention as flash  # noqa: E402
from minigrad_kernels.cuda._launch import SIMULATED  # noqa: E402,F401
from tests.kernels.cuda_device import poisoned, to_device, to_host, xp  # noqa: E402,F401

F32 = dict(rtol=3e-5, atol=3e-5)
TILES = dict(forward=dict(BQ=4, BK=3, G=1), kv=dict(BQ=3, BK=4, G=1), q=dict(BQ=5, BK=2, G=1))
COMMON_TYPES = (np.int32, np.int32, bool, bool, np.float32)


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def make_case(kind, rng, batch=(2,), lq=7, lk=9, d=8, dv=5):
    q, k, v = rand(rng, *batch, lq, d), rand(rng, *batch, lk, d), rand(rng, *batch, lk, dv)
    mask, causal = None, kind == "causal"
    if kind == "bool":                                # rows 2 and 5 keep no key at all
        mask = rng.random((lq, lk)) < 0.6
        mask[[2, 5]] = False
    elif kind == "float":                             # one bias per batch entry, broadcast over rows
        mask = rand(rng, *batch, 1, lk)
        mask[0, 0, 3] = -np.inf
    elif kind == "padding":                           # (B, 1, 1, Lk) over (B, H) heads
        mask = np.ones(batch[:1] + (1, 1, lk), bool)
        mask[0, ..., 6:] = False
    return q, k, v, mask, causal


def float64(*arrays):
    return tuple(None if a is None else (a if a.dtype == bool else a.astype(np.float64))
                 for a in arrays)


def expected(q, k, v, mask, causal, d_out, scale=None):
    out, lse = reference.flash_attention_forward(*float64(q, k, v, mask), scale, causal)
    grads = reference.flash_attention_backward(*float64(q, k, v, mask)[:3], out, lse,
                                               d_out.astype(np.float64), float64(mask)[0],
                                               scale, causal)
    return out, lse, grads


def close_with_dead_rows(got, want):
    """float32 against float64, with −∞ (fully masked rows' lse) matched exactly."""
    got = to_host(got)
    assert not np.isnan(got).any()
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = ~np.isneginf(want)
    np.testing.assert_allclose(got[finite], want[finite], **F32)


# ------------------------------------------------------------------------ kernels, launched directly
@pytest.mark.parametrize("d, dv, G", [(8, 5, 1), (16, 6, 2)], ids=["d8-G1", "d16-G2"])
@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float"])
def test_kernels_at_tiny_tiles_match_float64_reference(kind, d, dv, G):
    """G = 2: two threads share each row (their partial scores meet in shared memory)."""
    rng = np.random.default_rng(len(kind) + d)
    q, k, v, mask, causal = make_case(kind, rng, d=d, dv=dv)
    d_out = rand(rng, *q.shape[:-1], v.shape[-1])
    want_out, want_lse, want_grads = expected(q, k, v, mask, causal, d_out)
    heads, (lq, _), (lk, dv) = q.shape[0], q.shape[1:], v.shape[1:]
    operands = flash.mask_operands(xp, None if mask is None else to_device(mask), (heads,), heads)
    scalars = tuple(t(x) for t, x in zip(COMMON_TYPES, operands[2:] + (causal, 1 / math.sqrt(d))))
    q_, k_, v_, do_ = (to_device(a) for a in (q, k, v, d_out))

    tiles = {part: dict(TILES[part], G=G) for part in TILES}
    forward = flash.make_flash_forward(**tiles["forward"], D=d, DV=dv)
    assert forward.threads == 4 * G
    out, lse = poisoned((heads, lq, dv)), poisoned((heads, lq))
    forward[(2, heads), forward.threads](q_, k_, v_, *operands[:2], *scalars, out, lse)
    np.testing.assert_allclose(to_host(out), want_out, **F32)
    close_with_dead_rows(lse, want_lse)
    if kind == "bool":
        assert not to_host(out)[:, [2, 5]].any()

    delta = xp.ascontiguousarray((do_ * out).sum(-1))
    kv = flash.make_flash_backward_kv(**tiles["kv"], D=d, DV=dv)
    dk, d_v = poisoned(k.shape), poisoned(v.shape)
    kv[(3, heads), kv.threads](q_, k_, v_, do_, lse, delta, *operands[:2], *scalars, dk, d_v)
    only_q = flash.make_flash_backward_q(**tiles["q"], D=d, DV=dv)
    dq = poisoned(q.shape)
    only_q[(2, heads), only_q.threads](q_, k_, v_, do_, lse, delta, *operands[:2], *scalars, dq)
    for got, want in zip((dq, dk, d_v), want_grads):
        np.testing.assert_allclose(to_host(got), want, **F32)


def test_production_tiles_on_one_ragged_block():
    rng = np.random.default_rng(7)
    q, k, v, _, _ = make_case("none", rng, batch=(1,), lq=3, lk=5, d=4, dv=4)
    tiles = flash.gpu_tiles(4, 4)
    assert tiles["forward"] == dict(BQ=128, BK=32, G=1)
    got_out, got_lse = flash.flash_attention_forward(*(to_device(a) for a in (q, k, v)),
                                                     None, None, True, tiles=tiles)
    want_out, want_lse = reference.flash_attention_forward(*float64(q, k, v), None, None, True)
    np.testing.assert_allclose(to_host(got_out), want_out, **F32)
    np.testing.assert_allclose(to_host(got_lse), want_lse, **F32)


# ------------------------------------------------------------------------ wrappers
@pytest.mark.parametrize("kind", ["padding", "causal", "bool"])
def test_wrappers_broadcast_batches_and_match_the_reference(kind):
    rng = np.random.default_rng(3)
    q, k, v, mask, causal = make_case(kind, rng, batch=(2, 1), d=4, dv=3)
    k, v = k[:1], v[:1]                              # (1, 1, Lk, ·): shared by the batch
    d_out = rand(rng, 2, 1, 7, 3)
    want_out, want_lse, want_grads = expected(q, k, v, mask, causal, d_out, scale=0.7)
    args = [to_device(a) for a in (q, k, v)] + [None if mask is None else to_device(mask)]
    out, lse = flash.flash_attention_forward(*args, 0.7, causal, tiles=TILES)
    assert out.dtype == lse.dtype == np.float32 and out.shape == want_out.shape
    np.testing.assert_allclose(to_host(out), want_out, **F32)
    close_with_dead_rows(lse, want_lse)
    grads = flash.flash_attention_backward(*args[:3], out, lse, to_device(d_out), args[3], 0.7,
                                           causal, tiles=TILES)
    for got, want in zip(grads, want_grads):
        assert got.shape == want.shape
        np.testing.assert_allclose(to_host(got), want, **F32)


def test_poisoned_outputs_show_an_unwritten_element(monkeypatch):
    rng = np.random.default_rng(9)
    q, k, v, _, _ = make_case("none", rng, lq=5, lk=4, d=4, dv=4)
    args = [to_device(a) for a in (q, k, v)]
    with flash.poisoned_outputs():
        out, lse = flash.flash_attention_forward(*args, tiles=TILES)
    assert not np.isnan(to_host(out)).any()           # every element written
    real = flash.configured
    monkeypatch.setattr(flash, "configured", lambda *a: (lambda *args: None))   # no launch
    with flash.poisoned_outputs():
        out, _ = flash.flash_attention_forward(*args, tiles=TILES)
    assert np.isnan(to_host(out)).all()
    monkeypatch.setattr(flash, "configured", real)
    out, _ = flash.flash_attention_forward(*args, tiles=TILES)     # outside: plain empty
    assert out.shape == (2, 5, 4)


def test_backward_repeats_bit_for_bit():
    rng = np.random.default_rng(4)
    q, k, v, mask, causal = make_case("float", rng, lq=5, lk=7, d=4, dv=4)
    args = [to_device(a) for a in (q, k, v)]
    out, lse = flash.flash_attention_forward(*args, to_device(mask), None, causal, tiles=TILES)
    d_out = to_device(rand(rng, *out.shape))
    first = flash.flash_attention_backward(*args, out, lse, d_out, to_device(mask), tiles=TILES)
    second = flash.flash_attention_backward(*args, out, lse, d_out, to_device(mask), tiles=TILES)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(to_host(a), to_host(b))


def test_tile_factories_refuse_a_row_split_that_does_not_divide_the_head_dims():
    with pytest.raises(ValueError, match="divide"):
        flash.make_flash_forward(BQ=4, BK=3, D=8, DV=5, G=2)
    assert flash.gpu_tiles(128, 128)["forward"]["G"] == 2
    assert flash.gpu_tiles(127, 127)["forward"]["G"] == 1


def test_accepts_float32_head_dims_up_to_128_and_broadcastable_masks():
    q = np.zeros((2, 3, 8), np.float32)
    k = np.zeros((2, 4, 8), np.float32)
    assert flash.accepts_attention(q, k, k, np.ones((3, 4), bool))
    assert flash.accepts_attention(q, k, k, np.zeros((2, 1, 4), np.float32))
    assert not flash.accepts_attention(q.astype(np.float64), k, k)
    assert not flash.accepts_attention(q, k, k, np.ones((3, 4), np.int64))
    assert not flash.accepts_attention(q, k, k, np.ones((3, 5), bool))
    assert not flash.accepts_attention(q[:, :0], k, k)
    wide = np.zeros((1, 2, 129), np.float32)
    assert not flash.accepts_attention(wide, wide, wide)
    assert flash.accepts_attention(wide[..., :128], wide[..., :128], wide[..., :128])
    many = np.zeros((65536, 1, 1), np.float32)
    assert not flash.accepts_attention(many, many, many)
    assert flash.accepts_attention_backward(q, k, k, q, q[..., 0], q)
    assert not flash.accepts_attention_backward(q, k, k, q, q[..., 0].astype(np.float64), q)


def test_cuda_attention_is_registered_for_cupy_arrays_only():
    q = np.zeros((2, 3, 4), np.float32)
    for name in ("flash_attention_forward", "flash_attention_backward"):
        assert "cuda" in [b for b, _, _ in CATALOGUE.implementations(name)]
    assert CATALOGUE.select("flash_attention_forward", q, q, q, None, None, False)[0] != "cuda"


# ------------------------------------------------------------------------ wired into F.sdpa
@pytest.fixture
def simulated_gpu_backend(monkeypatch):
    """The cuda wrappers registered on a numpy-bound backend (at tiny tiles), first in
    line: what dispatch does with CuPy arrays on a GPU, here on numpy arrays."""
    if not SIMULATED:
        pytest.skip("the simulator stand-in is only needed without a GPU")
    monkeypatch.delenv("MINIGRAD_KERNELS", raising=False)
    calls = []

    def forward(*args, **kwargs):
        calls.append("forward")
        return flash.flash_attention_forward(*args, **kwargs, tiles=TILES)

    def backward(*args, **kwargs):
        calls.append("backward")
        return flash.flash_attention_backward(*args, **kwargs, tiles=TILES)

    CATALOGUE.add_backend("cuda_simulated", "numpy")
    for name, fn, accepts in (("flash_attention_forward", forward, flash.accepts_attention),
                              ("flash_attention_backward", backward,
                               flash.accepts_attention_backward)):
        CATALOGUE.register(name, "cuda_simulated", fn, accepts)
    try:                                               # use(): the numba kernels stand aside
        with CATALOGUE.use("cuda_simulated"):
            yield calls
    finally:
        CATALOGUE.remove_backend("cuda_simulated")


@pytest.mark.parametrize("masking", ["causal", "padding"])
def test_sdpa_runs_the_fused_kernels_and_matches_torch(simulated_gpu_backend, masking):
    torch = pytest.importorskip("torch")
    import minigrad as mg
    import minigrad.nn.functional as F
    rng = np.random.default_rng(5)
    arrays = [rand(rng, 2, 2, 7, 4), rand(rng, 2, 2, 9, 4), rand(rng, 2, 2, 9, 3)]
    mask = None
    if masking == "padding":
        mask = np.ones((2, 1, 1, 9), bool)
        mask[1, ..., 5:] = False
    causal = masking == "causal"
    d_out = rand(rng, 2, 2, 7, 3)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, None if mask is None else mg.tensor(mask),
                                         is_causal=causal)
    out.backward(mg.tensor(d_out))
    assert simulated_gpu_backend == ["forward", "backward"]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    expected_out = torch.nn.functional.scaled_dot_product_attention(
        *theirs, None if mask is None else torch.from_numpy(mask), is_causal=causal)
    expected_out.backward(torch.from_numpy(d_out.astype(np.float64)))
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.detach().numpy(), expected_out.detach().numpy(), **F32)
    for mine, torch_leaf in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), torch_leaf.grad.numpy(), **F32)


def test_double_backward_through_the_fused_path_uses_the_composite_vjp(simulated_gpu_backend):
    """create_graph=True: the Function's backward runs its Tensor-op VJP (differentiable),
    not the once-differentiable fused backward (decided: fall back, not raise, as
    PyTorch's SDPA double-backward works too); the second derivative matches torch."""
    torch = pytest.importorskip("torch")
    import minigrad as mg
    import minigrad.nn.functional as F
    rng = np.random.default_rng(6)
    arrays = [rand(rng, 1, 5, 4), rand(rng, 1, 6, 4), rand(rng, 1, 6, 4)]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, is_causal=True)
    (g_q,) = mg.autograd.grad(out.pow(2).sum(), [ours[0]], create_graph=True)
    assert simulated_gpu_backend == ["forward"]       # the fused backward was not used
    g_q.sum().backward()
    # g_q depends on out (dO = 2·out), so the second pass differentiates the forward node
    # once more, without create_graph: that one may use the fused backward.
    assert simulated_gpu_backend == ["forward", "backward"]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    (t_q,) = torch.autograd.grad(expected.pow(2).sum(), [theirs[0]], create_graph=True)
    t_q.sum().backward()
    np.testing.assert_allclose(g_q.detach().numpy(), t_q.detach().numpy(), **F32)
    for mine, torch_leaf in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), torch_leaf.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)


def test_multihead_attention_with_key_padding_runs_the_fused_kernels(simulated_gpu_backend):
    """need_weights=False with a key_padding_mask: the fused kernels (mask (B, 1, 1, S) at
    its own size), equal to the same module on the reference path, values and gradients."""
    import minigrad as mg
    import minigrad.nn as nn
    rng = np.random.default_rng(8)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = rand(rng, 2, 7, 8)
    padding = np.zeros((2, 7), bool)
    padding[1, 4:] = True

    def run():
        mha.zero_grad()
        inputs = mg.tensor(x, requires_grad=True)
        out, _ = mha(inputs, inputs, inputs, key_padding_mask=mg.tensor(padding),
                     need_weights=False)
        out.backward(mg.tensor(np.ones(out.shape, np.float32)))
        return [t.numpy() for t in (out.detach(), inputs.grad, mha.in_proj_weight.grad)]

    fused = run()
    assert simulated_gpu_backend == ["forward", "backward"]
    with CATALOGUE.use("reference"):
        composite = run()
    assert simulated_gpu_backend == ["forward", "backward"]
    for got, want in zip(fused, composite):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, **F32)
