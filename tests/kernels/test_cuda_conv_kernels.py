"""The implicit-GEMM conv2d kernels (``kernels/cuda/conv.py``) and the pooling kernels
(``kernels/cuda/pooling.py``) and their wrappers, in the CUDA simulator.

As in ``test_cuda_kernels.py``: ``tests/conftest.py`` sets ``NUMBA_ENABLE_CUDASIM=1`` (unless
``MINIGRAD_REAL_CUDA=1``), so kernels run as Python on numpy arrays; on a GPU the same
tests run on CuPy arrays.  Every conv mode runs at tiny tiles (including odd ones whose
thread count is not a multiple of BM or BK, which take the general staging paths) on
ragged odd sizes with stride/padding/dilation/groups combinations; outputs are NaN-poisoned
(the wrappers' allocations are swapped for NaN-filled ones, so an element no thread writes
fails) and compared with the float64 reference formula and with the float32 reference.
"""
import types

import numpy as np
import pytest

from minigrad_kernels.catalogue import CATALOGUE

pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
from minigrad_kernels.cuda import conv as cuda_conv  # noqa: E402
from minigrad_kernels.cuda import pooling as cuda_pool  # noqa: E402
from minigrad_kernels.cuda._launch import SIMULATED  # noqa: E402
from minigrad_kernels.reference import conv as ref_conv  # noqa: E402
from minigrad_kernels.reference import pooling as ref_pool  # noqa: E402


def _device_modules():
    if SIMULATED:
        return np, (lambda a: a), (lambda a: a)
    try:
        import cupy
        cupy.zeros(1)
    except Exception:
        pytest.skip("needs NUMBA_ENABLE_CUDASIM=1 or CuPy with a GPU", allow_module_level=True)
    return cupy, cupy.asarray, cupy.asnumpy


xp, to_device, to_host = _device_modules()
F32 = dict(rtol=2e-5, atol=2e-5)


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _poisoning(module):
    """``module`` with ``empty`` returning NaN-filled float arrays (and -7 for integers)."""
    def empty(shape, dtype=float, **kwargs):
        dtype = np.dtype(dtype)
        return module.full(shape, np.nan if dtype.kind == "f" else -7, dtype=dtype)

    shim = types.SimpleNamespace(**{name: getattr(module, name) for name in dir(module)
                                    if not name.startswith("__")})
    shim.__name__ = module.__name__
    shim.empty = empty
    return shim


@pytest.fixture
def poisoned(monkeypatch):
    """The conv and pooling wrappers allocate their outputs NaN-filled."""
    shim = _poisoning(xp)
    for module in (cuda_conv, cuda_pool):
        monkeypatch.setattr(module, "get_array_module", lambda *arrays: shim)


# ------------------------------------------------------------------------- conv2d
# (N, C, H, W, O, (kh, kw), stride, padding, dilation, groups): odd, ragged sizes.
CONV_CASES = {
    "3x3-pad1": (2, 3, 7, 6, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    "strided-dilated-groups": (2, 4, 9, 7, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2),
    "depthwise-stride2": (1, 3, 7, 8, 3, (3, 3), (2, 2), (1, 0), (2, 1), 3),
    "1x1": (2, 5, 3, 5, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1),
    "tall-stride3": (1, 2, 9, 4, 4, (2, 3), (3, 2), (2, 1), (1, 1), 2),
}
# Tiny tiles: 32-thread ones like the wrappers' simulator default, and odd ones whose
# thread count is a multiple of neither BM (general forward/dgrad staging) nor BK (wgrad).
TILES = {
    "32x8x8-4x2": dict(BM=32, BN=8, BK=8, TM=4, TN=2),            # k loop unrolled by 8
    "16x8x8-4x2-unroll4": dict(BM=16, BN=8, BK=8, TM=4, TN=2, unroll=4),
    "16x8x6-4x2-unroll2": dict(BM=16, BN=8, BK=6, TM=4, TN=2, unroll=2),
    "8x4x3-4x2": dict(BM=8, BN=4, BK=3, TM=4, TN=2),
    "6x6x5-2x3": dict(BM=6, BN=6, BK=5, TM=2, TN=3),
}
# Every case at the 32-thread tiles; the odd tiles (many more, smaller blocks: slower in
# the simulator) on the two smallest cases, which still cover stride, dilation and groups.
COMBOS = [(c, "32x8x8-4x2") for c in CONV_CASES] + [
    (c, t) for c in ("depthwise-stride2", "tall-stride3") for t in ("8x4x3-4x2", "6x6x5-2x3")] + [
    ("1x1", "16x8x8-4x2-unroll4"), ("strided-dilated-groups", "16x8x6-4x2-unroll2")]
combos = pytest.mark.parametrize("case, tiles", [(CONV_CASES[c], TILES[t]) for c, t in COMBOS],
                                 ids=[f"{c}-{t}" for c, t in COMBOS])


def _operands(case, seed):
    n, c, h, w, o, kernel, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x = rand(rng, n, c, h, w)
    weight = rand(rng, o, c // groups, *kernel)
    y_shape = (n, o) + ref_conv.output_shape(x.shape, kernel, stride, padding, dilation)
    return x, weight, rand(rng, *y_shape), (stride, padding, dilation, groups)


def _check(got, name, *args):
    """``got`` against the reference in float64 (float32 tolerance) and in float32."""
    wide = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args]
    got = to_host(got)
    assert got.dtype == np.float32
    reference = CATALOGUE.reference_impl(name)
    np.testing.assert_allclose(got, reference(*wide), **F32)
    np.testing.assert_allclose(got, reference(*args), rtol=1e-4, atol=1e-5)


@combos
def test_conv2d_forward_at_tiny_tiles(case, tiles, poisoned):
    x, w, _, geometry = _operands(case, 0)
    y = cuda_conv.conv2d_forward(to_device(x), to_device(w), *geometry, tiles=tiles)
    _check(y, "conv2d_forward", x, w, *geometry)


@combos
def test_conv2d_backward_input_at_tiny_tiles(case, tiles, poisoned):
    x, w, dy, geometry = _operands(case, 1)
    dx = cuda_conv.conv2d_backward_input(to_device(dy), to_device(w), x.shape, *geometry,
                                         tiles=tiles)
    _check(dx, "conv2d_backward_input", dy, w, x.shape, *geometry)


@combos
def test_conv2d_backward_weight_at_tiny_tiles(case, tiles, poisoned):
    x, w, dy, geometry = _operands(case, 2)
    dw = cuda_conv.conv2d_backward_weight(to_device(dy), to_device(x), w.shape, *geometry,
                                          tiles=tiles)
    _check(dw, "conv2d_backward_weight", dy, x, w.shape, *geometry)


@pytest.mark.parametrize("mode", cuda_conv.MODES)
def test_wrappers_default_tiles(mode, poisoned):
    """The wrappers' own (simulator) tiles, dispatched through the catalogue's names."""
    x, w, dy, geometry = _operands(CONV_CASES["strided-dilated-groups"], 3)
    name = "conv2d_" + mode
    args = {"forward": (x, w), "backward_input": (dy, w, x.shape),
            "backward_weight": (dy, x, w.shape)}[mode] + geometry
    got = getattr(cuda_conv, name)(*[to_device(a) if isinstance(a, np.ndarray) else a
                                     for a in args])
    _check(got, name, *args)


@pytest.mark.parametrize("case, unit", [("3x3-pad1", True), ("strided-dilated-groups", False)])
def test_dgrad_compiles_the_stride_divisions_out_only_for_stride_one(case, unit, monkeypatch,
                                                                      poisoned):
    launched = []
    original = cuda_conv.default_kernel

    def recording(*args, **kwargs):
        kernel = original(*args, **kwargs)
        launched.append(kernel.unit_stride)
        return kernel

    monkeypatch.setattr(cuda_conv, "default_kernel", recording)
    x, w, dy, geometry = _operands(CONV_CASES[case], 5)
    dx = cuda_conv.conv2d_backward_input(to_device(dy), to_device(w), x.shape, *geometry)
    assert launched == [unit]
    _check(dx, "conv2d_backward_input", dy, w, x.shape, *geometry)


def test_forward_kernel_launched_directly_at_production_tiles():
    """One ragged block of the 128×64 production kernel (256 threads, K = 9 < 2·BK)."""
    rng = np.random.default_rng(4)
    x, w = rand(rng, 1, 1, 4, 5), rand(rng, 3, 1, 3, 3)
    kernel = cuda_conv.make_conv_kernel("forward", **cuda_conv.GPU_TILES_NARROW_N)
    y = to_device(np.full((1, 3, 4, 5), np.nan, np.float32))
    grid, threads = cuda_conv.conv_launch(kernel, 20, 3, 1)
    assert (grid, threads) == ((1, 1, 1), 256)
    tab = cuda_conv.tap_table(xp, 1, 20, (3, 3), (1, 1), 5, 1)
    wb = to_device(np.ascontiguousarray(w.reshape(1, 3, 9).transpose(0, 2, 1)))
    kernel[grid, threads](to_device(x).reshape(-1), wb, tab, y.reshape(-1),
                          *cuda_conv._ints(1, 1, 4, 5, 4, 5, 1, 1, 1, 1))
    _check(y, "conv2d_forward", x, w, (1, 1), (1, 1), (1, 1), 1)


def test_empty_batches_and_channels():
    w = np.ones((4, 3, 3, 3), np.float32)
    y = cuda_conv.conv2d_forward(to_device(np.ones((0, 3, 5, 5), np.float32)), to_device(w),
                                 (1, 1), (1, 1), (1, 1), 1)
    assert y.shape == (0, 4, 5, 5)
    dw = cuda_conv.conv2d_backward_weight(to_device(np.ones((0, 4, 5, 5), np.float32)),
                                          to_device(np.ones((0, 3, 5, 5), np.float32)),
                                          w.shape, (1, 1), (1, 1), (1, 1), 1)
    np.testing.assert_array_equal(to_host(dw), np.zeros(w.shape, np.float32))


def test_conv_rejects_bad_groups_and_tiles():
    x, w = np.ones((1, 4, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="groups"):
        cuda_conv.conv2d_forward(to_device(x), to_device(w), (1, 1), (0, 0), (1, 1), 2)
    with pytest.raises(ValueError, match="multiple"):
        cuda_conv.make_conv_kernel("forward", BM=6, BN=4, BK=4, TM=4, TN=2)
    with pytest.raises(ValueError, match="unknown conv mode"):
        cuda_conv.make_conv_kernel("transposed")
    with pytest.raises(ValueError, match="unroll"):
        cuda_conv.make_conv_kernel("forward", BM=8, BN=4, BK=6, TM=2, TN=2, unroll=4)


def test_conv_accepts_float32_4d_only():
    x, w = np.ones((1, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32)
    geometry = ((1, 1), (0, 0), (1, 1), 1)
    assert cuda_conv.accepts_forward(x, w, *geometry)
    assert not cuda_conv.accepts_forward(x.astype(np.float64), w, *geometry)
    assert not cuda_conv.accepts_forward(x[0], w, *geometry)
    dy = np.ones((1, 3, 3, 3), np.float32)
    assert cuda_conv.accepts_backward_input(dy, w, x.shape, *geometry)
    assert not cuda_conv.accepts_backward_input(dy, w.astype(np.float16), x.shape, *geometry)
    assert cuda_conv.accepts_backward_weight(dy, x, w.shape, *geometry)
    huge_dilation = ((1, 1), (0, 0), (1 << 15, 1), 1)     # r·dh past the packed 16 bits
    assert not cuda_conv.accepts_backward_weight(dy, x, w.shape, *huge_dilation)
    assert not cuda_conv.accepts_forward(x, w, *huge_dilation)
    assert not cuda_conv.accepts_backward_input(dy, w, x.shape, *huge_dilation)


def test_weight_gradient_split_k_fills_the_gpu_with_whole_images():
    assert cuda_conv.weight_gradient_splits(64, 5, simulated=False) == (64, 1)      # 64→64 at 56²
    splits, per_split = cuda_conv.weight_gradient_splits(64, 144, simulated=False)  # 512→512
    assert (splits, per_split) == (4, 16) and splits * per_split >= 64
    assert cuda_conv.weight_gradient_splits(3, 10_000, simulated=False) == (1, 3)
    assert cuda_conv.weight_gradient_splits(5, 1, simulated=True) == (5, 1)


@pytest.mark.parametrize("depth", [1, 2, 4, 8, 16, 32])
@pytest.mark.parametrize("width", [4, 64, 128, 130])
def test_transposed_shared_stores_hit_distinct_banks(depth, width):
    """A warp stores rows 0..depth-1 of 32/depth columns; the padded stride spreads them."""
    stride = cuda_conv.padded_stride(width, depth)
    assert stride >= width
    banks = {(k * stride + m) % 32 for k in range(depth) for m in range(32 // depth)}
    assert len(banks) == 32


def test_conv_kernels_are_registered_but_never_handed_numpy_arrays():
    x, w = np.ones((1, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32)
    names = ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
             "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
             "avg_pool2d_backward")
    for name in names:
        assert "cuda" in [backend for backend, _, _ in CATALOGUE.implementations(name)]
    assert CATALOGUE.select("conv2d_forward", x, w, (1, 1), (0, 0), (1, 1), 1)[0] != "cuda"


# ------------------------------------------------------------------------- pooling
def _tricky_image(seed, shape=(2, 3, 7, 9)):
    """Random values with NaNs, repeated maxima and a constant row (the tie rules)."""
    x = rand(np.random.default_rng(seed), *shape)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 2, 2] = np.nan
    x[0, 1, 2, :] = 3.0
    x[1, 2, 3, 3] = x[1, 2, 3, 4] = 5.0
    return x


MAX_WINDOWS = {
    "3x3-s2-p1": ((3, 3), (2, 2), (1, 1), (1, 1), False),
    "2x3-dilated-ceil": ((2, 3), (1, 2), (1, 0), (2, 1), True),
    "3x2-s3-ceil": ((3, 2), (2, 3), (0, 1), (1, 1), True),
}


@pytest.mark.parametrize("window", MAX_WINDOWS.values(), ids=MAX_WINDOWS.keys())
def test_max_pool_forward_matches_values_indices_and_tie_rules(window, poisoned):
    x = _tricky_image(5)
    y, indices = cuda_pool.max_pool2d_forward(to_device(x), *window)
    want_y, want_indices = ref_pool.max_pool2d_forward(x, *window)
    assert to_host(indices).dtype == np.int64
    np.testing.assert_array_equal(to_host(indices), want_indices)
    np.testing.assert_array_equal(to_host(y), want_y)      # a max is exact, NaN included


@pytest.mark.parametrize("window", MAX_WINDOWS.values(), ids=MAX_WINDOWS.keys())
def test_max_pool_backward_scatters_onto_the_reference_argmax(window, poisoned):
    x = _tricky_image(6)
    _, indices = ref_pool.max_pool2d_forward(x, *window)
    dy = rand(np.random.default_rng(7), *indices.shape)
    dx = cuda_pool.max_pool2d_backward(to_device(dy), to_device(indices), x.shape)
    want = ref_pool.max_pool2d_backward(dy.astype(np.float64), indices, x.shape)
    np.testing.assert_allclose(to_host(dx), want, **F32)


def test_max_pool_rejects_a_window_of_padding_only():
    x = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match="only padding"):
        cuda_pool.max_pool2d_forward(to_device(x), (2, 2), (1, 1), (1, 1), (3, 3), False)


AVG_WINDOWS = {
    "3x3-s2-p1-include": ((3, 3), (2, 2), (1, 1), False, True, None),
    "2x3-ceil-exclude": ((2, 3), (1, 2), (1, 0), True, False, None),
    "3x2-ceil-override": ((3, 2), (2, 3), (0, 1), True, True, 3),
}


@pytest.mark.parametrize("window", AVG_WINDOWS.values(), ids=AVG_WINDOWS.keys())
def test_avg_pool_forward_and_backward_match_float64(window, poisoned):
    rng = np.random.default_rng(8)
    x = rand(rng, 2, 3, 7, 9)
    y = cuda_pool.avg_pool2d_forward(to_device(x), *window)
    np.testing.assert_allclose(to_host(y), ref_pool.avg_pool2d_forward(x.astype(np.float64),
                                                                       *window), **F32)
    dy = rand(rng, *y.shape)
    dx = cuda_pool.avg_pool2d_backward(to_device(dy), x.shape, *window)
    want = ref_pool.avg_pool2d_backward(dy.astype(np.float64), x.shape, *window)
    np.testing.assert_allclose(to_host(dx), want, **F32)


def test_pool_kernels_grid_stride_over_more_outputs_than_threads():
    """Two blocks of 8 threads cover 2·3·4·5 = 120 outputs (several strides each)."""
    x = _tricky_image(9, (2, 3, 8, 10))
    kernel = cuda_pool.make_max_pool_forward(8)
    y = to_device(np.full(120, np.nan, np.float32))
    indices = to_device(np.full(120, -7, np.int64))
    kernel[2, 8](to_device(x).reshape(-1), y, indices, *[np.int64(v) for v in
                                                        (8, 10, 4, 5, 2, 2, 2, 2, 0, 0, 1, 1)])
    want_y, want_indices = ref_pool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(to_host(indices), want_indices.reshape(-1))
    np.testing.assert_array_equal(to_host(y), want_y.reshape(-1))


def test_pool_accepts_float32_images_only():
    x = np.ones((1, 1, 4, 4), np.float32)
    assert cuda_pool.accepts_max_pool(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert not cuda_pool.accepts_max_pool(x.astype(np.float64), (2, 2), (2, 2), (0, 0), (1, 1),
                                          False)
    assert not cuda_pool.accepts_avg_pool(x[0], (2, 2), (2, 2), (0, 0), False, True)
    indices = np.zeros((1, 1, 2, 2), np.int64)
    dy = np.ones((1, 1, 2, 2), np.float32)
    assert cuda_pool.accepts_max_pool_backward(dy, indices, x.shape)
    assert not cuda_pool.accepts_max_pool_backward(dy, indices.astype(np.int32), x.shape)


def test_tap_and_row_tables_are_built_once_per_geometry():
    first = cuda_conv.tap_table(xp, 3, 20, (3, 2), (2, 1), 5, 1)
    assert cuda_conv.tap_table(xp, 3, 20, (3, 2), (2, 1), 5, 1) is first
    table = to_host(first)
    assert table.dtype == np.int32 and table.shape == (2, 18)
    c, r, s = 2, 1, 1                                      # entry (c, r, s) = 2·6 + 1·2 + 1
    assert table[0, 15] == c * 20 + r * 2 * 5 + s * 1
    assert table[1, 15] == (r * 2) << 16 | s
    rows = to_host(cuda_conv.row_table(xp, (2, 3), (2, 1), (1, 0)))
    np.testing.assert_array_equal(rows, [[-1, -1, -1, 1, 1, 1], [0, 1, 2, 0, 1, 2]])
    assert cuda_conv.row_table(xp, (2, 3), (2, 1), (1, 0)) is cuda_conv.row_table(
        xp, (2, 3), (2, 1), (1, 0))
