"""The numba.cuda kernels of ``kernels/cuda/`` and their wrappers, in the CUDA simulator.

``tests/conftest.py`` sets ``NUMBA_ENABLE_CUDASIM=1`` before numba is imported (unless
``MINIGRAD_REAL_CUDA=1`` declares a GPU), so this process runs kernels as Python on numpy
arrays; on a real GPU the same tests run on CuPy arrays.  Each kernel factory is launched
directly at tiny tiles on ragged, odd sizes, with NaN-poisoned outputs (so an unwritten
element fails), and each wrapper is compared with the float64 numpy formula (float32
tolerance) and with the catalogue's reference.  Simulated launches stay well under 0.5 s.
"""
import numpy as np
import pytest

from minigrad_kernels.catalogue import CATALOGUE

cuda_backend = pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
from minigrad_kernels.cuda import matmul as cuda_matmul  # noqa: E402
from minigrad_kernels.cuda import normalization as cuda_norm  # noqa: E402
from minigrad_kernels.cuda import softmax as cuda_softmax  # noqa: E402
from tests.kernels.cuda_device import poisoned, rand, to_device, to_host, xp  # noqa: E402
from minigrad_kernels.cuda._launch import make_block_reductions  # noqa: E402


F32 = dict(rtol=2e-5, atol=2e-5)


# ------------------------------------------------------------------------- SGEMM kernel
@pytest.mark.parametrize("tiles", [dict(BM=4, BN=8, BK=3, TM=2, TN=2),
                                   dict(BM=6, BN=4, BK=4, TM=3, TN=1)],
                         ids=["4x8x3-2x2", "6x4x4-3x1"])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True),
                                              (True, True)])
def test_sgemm_kernel_at_tiny_tiles_matches_float64(tiles, trans_a, trans_b):
    rng = np.random.default_rng(0)
    z, m, k, n = 2, 7, 11, 9
    a = rand(rng, z, m, k)
    b = rand(rng, 1, k, n)                       # batch of 1: broadcast by the kernel
    kernel = cuda_matmul.make_sgemm(**tiles, trans_a=trans_a, trans_b=trans_b)
    a_stored = np.ascontiguousarray(a.swapaxes(1, 2)) if trans_a else a
    b_stored = np.ascontiguousarray(b.swapaxes(1, 2)) if trans_b else b
    c = poisoned((z, m, n))
    grid, threads = cuda_matmul.sgemm_launch(kernel, m, n, z)
    kernel[grid, threads](to_device(a_stored), to_device(b_stored), c)
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(to_host(c), want, **F32)


def test_sgemm_kernel_at_production_tiles_on_one_ragged_block():
    rng = np.random.default_rng(1)
    a, b = rand(rng, 1, 9, 13), rand(rng, 1, 13, 5)     # K spans two BK=8 steps
    kernel = cuda_matmul.make_sgemm(**cuda_matmul.GPU_TILES)
    c = poisoned((1, 9, 5))
    grid, threads = cuda_matmul.sgemm_launch(kernel, 9, 5, 1)
    assert (grid, threads) == ((1, 1, 1), 256)
    kernel[grid, threads](to_device(a), to_device(b), c)
    np.testing.assert_allclose(to_host(c), a.astype(np.float64) @ b, **F32)


def test_sgemm_rejects_a_tile_the_thread_tile_does_not_divide():
    with pytest.raises(ValueError, match="multiple"):
        cuda_matmul.make_sgemm(BM=6, BN=4, BK=4, TM=4, TN=2)


# The float4 design (``vector_tiles``): a 2×2-thread block, and a 32-thread one that takes
# the 4 × 8-lane warp layout; each aligned (sizes multiples of the tile, no bounds checks,
# float4 global loads/stores) and ragged (odd sizes, guarded scalar loads).
VECTOR_TILES = [dict(BM=8, BN=8, BK=4, TM=4, TN=4), dict(BM=16, BN=32, BK=8, TM=4, TN=4)]


@pytest.mark.parametrize("tiles", VECTOR_TILES, ids=["8x8x4-4x4", "16x32x8-4x4-warp"])
@pytest.mark.parametrize("aligned", [True, False], ids=["aligned", "ragged"])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True),
                                              (True, True)])
def test_vector_sgemm_at_tiny_tiles_matches_float64(tiles, aligned, trans_a, trans_b):
    rng = np.random.default_rng(3)
    assert cuda_matmul.vector_tiles(**tiles)
    if aligned:     # 2 tiles along M, N, and 3 along K: both shared stages reused
        z, m, k, n = 2, 2 * tiles["BM"], 3 * tiles["BK"], 2 * tiles["BN"]
    else:
        z, m, k, n = 2, tiles["BM"] + 3, 2 * tiles["BK"] + 1, tiles["BN"] + 5
    a = rand(rng, z, m, k)
    b = rand(rng, 1, k, n)                       # batch of 1: broadcast by the kernel
    kernel = cuda_matmul.make_sgemm(**tiles, trans_a=trans_a, trans_b=trans_b,
                                    aligned=aligned)
    assert kernel.aligned == aligned
    a_stored = np.ascontiguousarray(a.swapaxes(1, 2)) if trans_a else a
    b_stored = np.ascontiguousarray(b.swapaxes(1, 2)) if trans_b else b
    c = poisoned((z, m, n))
    grid, threads = cuda_matmul.sgemm_launch(kernel, m, n, z)
    kernel[grid, threads](to_device(a_stored), to_device(b_stored), c)
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(to_host(c), want, **F32)


def test_aligned_sgemm_at_production_tiles_over_three_k_tiles():
    rng = np.random.default_rng(4)
    a, b = rand(rng, 1, 128, 24), rand(rng, 1, 24, 128)
    kernel = cuda_matmul.make_sgemm(**cuda_matmul.GPU_TILES, aligned=True)
    assert kernel.shared_bytes == 2 * 4 * 8 * (2 * (128 + cuda_matmul.PAD))
    c = poisoned((1, 128, 128))
    grid, threads = cuda_matmul.sgemm_launch(kernel, 128, 128, 1)
    kernel[grid, threads](to_device(a), to_device(b), c)
    np.testing.assert_allclose(to_host(c), a.astype(np.float64) @ b, **F32)


@pytest.mark.parametrize("label", sorted(cuda_matmul.GPU_CANDIDATE_TILES))
@pytest.mark.parametrize("aligned", [True, False], ids=["aligned", "ragged"])
def test_candidate_tiles_gpu_check_times_are_correct_on_one_block(label, aligned):
    tiles = cuda_matmul.GPU_CANDIDATE_TILES[label]
    rng = np.random.default_rng(6)
    m, k, n = (tiles["BM"], 2 * tiles["BK"], tiles["BN"]) if aligned else (5, 11, 7)
    a, b = rand(rng, 1, m, k), rand(rng, 1, k, n)
    kernel = cuda_matmul.make_sgemm(**tiles, aligned=aligned)
    c = poisoned((1, m, n))
    grid, threads = cuda_matmul.sgemm_launch(kernel, m, n, 1)
    assert grid == (1, 1, 1)
    kernel[grid, threads](to_device(a), to_device(b), c)
    np.testing.assert_allclose(to_host(c), a.astype(np.float64) @ b, **F32)


def test_vector_design_needs_float4_tiles_and_only_it_has_an_aligned_variant():
    assert cuda_matmul.vector_tiles(**cuda_matmul.GPU_TILES)
    assert cuda_matmul.vector_tiles(**cuda_matmul.SIMULATOR_TILES)
    assert not cuda_matmul.vector_tiles(BM=4, BN=8, BK=3, TM=2, TN=2)
    assert not cuda_matmul.vector_tiles(BM=8, BN=8, BK=6, TM=4, TN=4)      # BK % 4
    assert not cuda_matmul.vector_tiles(BM=8, BN=8, BK=4, TM=2, TN=4)      # TM % 4
    assert not cuda_matmul.vector_tiles(BM=64, BN=64, BK=4, TM=4, TN=4)    # 256 thr, 64 groups
    with pytest.raises(ValueError, match="no aligned"):
        cuda_matmul.make_sgemm(BM=4, BN=8, BK=3, TM=2, TN=2, aligned=True)


def _misaligned(x):
    """A copy of ``x`` whose data starts 4 bytes past a 16-byte boundary."""
    flat = xp.empty(x.size + 4, dtype=xp.float32)
    start = (4 - (_pointer(flat) % 16) // 4) % 4 + 1
    view = flat[start:start + x.size].reshape(x.shape)
    view[...] = to_device(x)
    assert _pointer(view) % 16 == 4
    return view


def _pointer(x):
    return x.data.ptr if hasattr(x.data, "ptr") else x.ctypes.data


@pytest.mark.parametrize("shape, misaligned, want_aligned", [
    ((2, 8, 12, 16), False, True),       # multiples of the simulator tiles 8×8×4
    ((2, 8, 12, 16), True, False),       # same sizes, data 4 bytes off a 16-byte boundary
    ((2, 8, 10, 16), False, False),      # K not a multiple of BK
    ((2, 9, 12, 16), False, False),      # M ragged
], ids=["aligned", "misaligned-data", "ragged-k", "ragged-m"])
def test_wrapper_launches_the_aligned_variant_only_where_it_is_safe(monkeypatch, shape,
                                                                    misaligned, want_aligned):
    rng = np.random.default_rng(5)
    z, m, k, n = shape
    a, b = rand(rng, z, m, k), rand(rng, 1, k, n)
    launched = []
    default_kernel = cuda_matmul.default_kernel

    def spy(*args, **kwargs):
        kernel = default_kernel(*args, **kwargs)
        launched.append(kernel.aligned)
        return kernel
    monkeypatch.setattr(cuda_matmul, "default_kernel", spy)
    a_device = _misaligned(a) if misaligned else to_device(a)
    got = cuda_matmul.batched_sgemm(a_device, to_device(b),
                                    tiles=cuda_matmul.SIMULATOR_TILES)
    assert launched[-1] == want_aligned
    np.testing.assert_allclose(to_host(got), a.astype(np.float64) @ b, **F32)


# ------------------------------------------------------------------------- matmul wrapper
def _layouts(rng):
    w = rand(rng, 5, 7)
    strided = rand(rng, 3, 14)[:, ::2]
    return [
        ("batched", rand(rng, 2, 3, 5), rand(rng, 2, 5, 4)),
        ("broadcast-left", rand(rng, 3, 5), rand(rng, 2, 5, 4)),
        ("partial-broadcast", rand(rng, 3, 1, 2, 5), rand(rng, 1, 2, 5, 3)),
        ("transposed-right", rand(rng, 2, 3, 7), w.T),
        ("transposed-left", rand(rng, 2, 5, 3).swapaxes(1, 2), rand(rng, 5, 4)),
        ("strided", strided, rand(rng, 7, 2)),
        ("vector-left", rand(rng, 5), rand(rng, 2, 5, 3)),
        ("vector-right", rand(rng, 2, 3, 5), rand(rng, 5)),
        ("vector-vector", rand(rng, 6), rand(rng, 6)),
        ("empty-k", rand(rng, 3, 0), rand(rng, 0, 4)),
        ("empty-m", rand(rng, 0, 4), rand(rng, 4, 3)),
    ]


@pytest.mark.parametrize("index", range(11), ids=[c[0] for c in _layouts(np.random.default_rng(0))])
def test_matmul_wrapper_matches_numpy_in_float64(index):
    _, a, b = _layouts(np.random.default_rng(2))[index]
    got = cuda_matmul.matmul(to_device(a), to_device(b))
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.dtype == np.float32
    assert got.shape == want.shape
    np.testing.assert_allclose(to_host(got), want, **F32)
    assert_matches_reference("matmul", got, a, b)


def assert_matches_reference(name, got, *args):
    want = CATALOGUE.reference_impl(name)(*args)
    np.testing.assert_allclose(to_host(got), want, rtol=1e-5, atol=1e-5)


def test_matmul_accepts_float32_only_and_checks_inner_sizes():
    a, b = np.ones((3, 4), np.float32), np.ones((4, 2), np.float32)
    assert cuda_matmul.accepts_matmul(a, b)
    assert not cuda_matmul.accepts_matmul(a.astype(np.float64), b)
    assert not cuda_matmul.accepts_matmul(a, b.astype(np.float16))
    assert not cuda_matmul.accepts_matmul(a, np.ones((3, 2), np.float32))


def test_cuda_kernels_are_registered_but_never_handed_numpy_arrays():
    a, b = np.ones((3, 4), np.float32), np.ones((4, 2), np.float32)
    for name in ("matmul", "softmax", "log_softmax", "layer_norm_forward", "layer_norm_backward"):
        assert "cuda" in [backend for backend, _, _ in CATALOGUE.implementations(name)]
    assert CATALOGUE.select("matmul", a, b)[0] != "cuda"
    assert CATALOGUE.select("softmax", a, 1)[0] != "cuda"


# ------------------------------------------------------------------------- softmax
def float64_softmax(x, axis, log):
    x = x.astype(np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted - lse if log else np.exp(shifted - lse)


@pytest.mark.parametrize("threads", [2, 4, 8])
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_kernel_at_tiny_blocks_matches_float64(threads, log):
    rng = np.random.default_rng(threads)
    x = rand(rng, 5, 13, scale=30.0)             # rows longer than the block, ragged
    kernel = cuda_softmax.make_softmax(threads, log)
    out = poisoned(x.shape)
    kernel[x.shape[0], threads](to_device(x), out)
    np.testing.assert_allclose(to_host(out), float64_softmax(x, 1, log), **F32)


def test_softmax_kernel_with_more_threads_than_columns():
    rng = np.random.default_rng(3)
    x = rand(rng, 3, 3)
    out = poisoned(x.shape)
    cuda_softmax.make_softmax(8, False)[3, 8](to_device(x), out)
    np.testing.assert_allclose(to_host(out), float64_softmax(x, 1, False), **F32)


# The simulator computes ∞ − ∞ in numpy, in its own threads (so np.errstate cannot reach it).
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_non_finite_rows_are_nan_as_in_the_reference():
    x = np.array([[0.0, np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 2.0],
                  [1.0, 2.0, 3.0]], dtype=np.float32)
    for log in (False, True):
        name = "log_softmax" if log else "softmax"
        got = to_host(cuda_softmax.softmax_rows(to_device(x), log))
        with np.errstate(invalid="ignore"):
            want = CATALOGUE.reference_impl(name)(x, 1)
        np.testing.assert_allclose(got, want, equal_nan=True, **F32)


def test_block_reductions_need_a_power_of_two():
    with pytest.raises(ValueError, match="power-of-two"):
        make_block_reductions(6)
    with pytest.raises(ValueError):
        cuda_softmax.make_softmax(12)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_wrappers_along_any_axis_and_layout(name, axis):
    rng = np.random.default_rng(4)
    x = rand(rng, 3, 10, 5, scale=5.0)[:, ::2, :]         # strided: (3, 5, 5)
    got = getattr(cuda_softmax, name)(to_device(x), axis)
    assert got.shape == x.shape and got.dtype == np.float32
    np.testing.assert_allclose(to_host(got), float64_softmax(x, axis, name == "log_softmax"), **F32)


def test_softmax_accepts_only_float32_with_an_int_axis():
    x = np.ones((2, 3), np.float32)
    assert cuda_softmax.accepts_along_axis(x, 1)
    assert not cuda_softmax.accepts_along_axis(x.astype(np.float64), 1)
    assert not cuda_softmax.accepts_along_axis(x, 2)
    assert not cuda_softmax.accepts_along_axis(x, True)
    assert not cuda_softmax.accepts_along_axis(np.ones((0, 3), np.float32), 1)


# ------------------------------------------------------------------------- layer norm
def float64_layer_norm(x, weight, bias, eps):
    x = x.astype(np.float64)
    mean = x.mean(axis=1)
    rstd = 1.0 / np.sqrt(((x - mean[:, None]) ** 2).mean(axis=1) + eps)
    y = (x - mean[:, None]) * rstd[:, None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


@pytest.mark.parametrize("threads", [2, 8])
def test_layer_norm_forward_kernel_matches_float64(threads):
    rng = np.random.default_rng(5)
    x = rand(rng, 5, 11) + 3.0                   # an offset mean tests the two-pass variance
    w, b = rand(rng, 11), rand(rng, 11)
    kernel = cuda_norm.make_layer_norm_forward(threads)
    y, mean, rstd = poisoned(x.shape), poisoned((5,)), poisoned((5,))
    kernel[5, threads](to_device(x), to_device(w), to_device(b), 1, 1, np.float32(1e-5),
                       y, mean, rstd)
    want = float64_layer_norm(x, w, b, 1e-5)
    for got, expected in zip((y, mean, rstd), want):
        np.testing.assert_allclose(to_host(got), expected, **F32)


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_layer_norm_forward_wrapper_matches_the_reference(affine):
    rng = np.random.default_rng(6)
    x = rand(rng, 2, 3, 4, 5)
    w = rand(rng, 4, 5) if affine in ("weight", "both") else None
    b = rand(rng, 4, 5) if affine in ("bias", "both") else None
    got = cuda_norm.layer_norm_forward(*(to_device(v) if v is not None else None
                                         for v in (x, w, b)), 2, 1e-3)
    want = CATALOGUE.reference_impl("layer_norm_forward")(x.astype(np.float64),
                                                          None if w is None else w.astype(np.float64),
                                                          None if b is None else b.astype(np.float64),
                                                          2, 1e-3)
    for g, e in zip(got, want):
        assert g.shape == e.shape and g.dtype == np.float32
        np.testing.assert_allclose(to_host(g), e, **F32)


@pytest.mark.parametrize("with_weight", [True, False])
def test_layer_norm_backward_wrapper_matches_the_reference(with_weight):
    rng = np.random.default_rng(7)
    x = rand(rng, 3, 5, 7)[:, ::2, :]                       # strided (3, 3, 7), ragged rows
    w = rand(rng, 7) if with_weight else None
    dy = rand(rng, 3, 3, 7)
    ref = CATALOGUE.reference_impl
    _, mean, rstd = ref("layer_norm_forward")(x, w, None, 1, 1e-5)
    got = cuda_norm.layer_norm_backward(*(to_device(v) if v is not None else None
                                          for v in (dy, x, w, mean, rstd)), 1)
    x64, w64 = x.astype(np.float64), None if w is None else w.astype(np.float64)
    _, mean64, rstd64 = ref("layer_norm_forward")(x64, w64, None, 1, 1e-5)
    want = ref("layer_norm_backward")(dy.astype(np.float64), x64, w64, mean64, rstd64, 1)
    assert (got[1] is None) == (w is None)
    for g, e in zip(got, want):
        if e is None:
            continue
        assert g.shape == e.shape and g.dtype == np.float32
        np.testing.assert_allclose(to_host(g), e, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("groups", [1, 3])
def test_layer_norm_param_grads_kernel_with_ragged_column_blocks_and_row_groups(groups):
    rng = np.random.default_rng(8)
    dy, x = rand(rng, 5, 9), rand(rng, 5, 9)
    mean = x.mean(axis=1).astype(np.float32)
    rstd = (1 / np.sqrt(x.var(axis=1) + 1e-5)).astype(np.float32)
    dw, db = poisoned((groups, 9)), poisoned((groups, 9))
    cuda_norm.make_layer_norm_param_grads(4)[(3, groups), 4](
        *map(to_device, (dy, x, mean, rstd)), dw, db)
    x_hat = (x.astype(np.float64) - mean[:, None]) * rstd[:, None]
    for g in range(groups):                  # group g holds rows g, g + groups, ...
        np.testing.assert_allclose(to_host(dw)[g], (dy * x_hat)[g::groups].sum(axis=0), **F32)
        np.testing.assert_allclose(to_host(db)[g], dy[g::groups].astype(np.float64).sum(axis=0),
                                   **F32)


def test_layer_norm_accepts_float32_only():
    x = np.ones((2, 3), np.float32)
    assert cuda_norm.accepts_forward(x, None, None, 1, 1e-5)
    assert not cuda_norm.accepts_forward(x.astype(np.float64), None, None, 1, 1e-5)
    assert not cuda_norm.accepts_forward(x, np.ones(3), None, 1, 1e-5)
    assert not cuda_norm.accepts_forward(x, None, None, 3, 1e-5)


# ------------------------------------------------------------------------- production sizes
def test_row_kernels_at_production_block_size_on_one_ragged_row():
    """One row of 300 (not a multiple of 256) through the 256-thread kernels the wrappers
    launch on a GPU: the reduction tree at its real depth (~0.4 s simulated each)."""
    rng = np.random.default_rng(9)
    x, dy, w = rand(rng, 1, 300, scale=10.0), rand(rng, 1, 300), rand(rng, 300)
    out = poisoned(x.shape)
    threads = cuda_softmax.GPU_THREADS
    cuda_softmax.make_softmax(threads, True)[1, threads](to_device(x), out)
    np.testing.assert_allclose(to_host(out), float64_softmax(x, 1, True), **F32)

    threads = cuda_norm.GPU_THREADS
    y, mean, rstd = poisoned(x.shape), poisoned((1,)), poisoned((1,))
    cuda_norm.make_layer_norm_forward(threads)[1, threads](
        to_device(x), to_device(w), to_device(w), 1, 0, np.float32(1e-5), y, mean, rstd)
    y64, mean64, rstd64 = float64_layer_norm(x, w, None, 1e-5)
    np.testing.assert_allclose(to_host(y), y64, **F32)
    dx = poisoned(x.shape)
    cuda_norm.make_layer_norm_backward(threads)[1, threads](
        to_device(dy), to_device(x), to_device(w), 1, mean, rstd, dx)
    want = CATALOGUE.reference_impl("layer_norm_backward")(
        dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64),
        mean64[:, None], rstd64[:, None], 1)[0]
    np.testing.assert_allclose(to_host(dx), want, rtol=1e-4, atol=1e-4)
