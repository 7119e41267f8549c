"""conv2d forward, input gradient and weight gradient as implicit GEMMs in numba.cuda (CUDA
twins of ``reference/conv.py``).

Shapes as in the reference: ``x (N, C, H, W)``, ``w (O, C/g, KH, KW)``, ``y (N, O, OH, OW)``,
``g = groups``, ``Cg = C/g``, ``Og = O/g``, ``L = OH·OW``; conv2d is cross-correlation:

    y[n, o, a, b] = Σ_{c, r, s} w[o, c, r, s] · x[n, g(o)·Cg + c, a·sh − ph + r·dh, b·sw − pw + s·dw]

Each of the three is one GEMM per group (grid z) whose operand tiles are *gathered* from
the image straight into shared memory, zero where a tap falls in the padding: no im2col
buffer ever exists in global memory.  The GEMM kernel is ``matmul.py``'s: a block of
``(BM/TM)·(BN/TN)`` threads owns a ``BM × BN`` output tile, stages ``BK``-deep slices of
A (``As[k][m]``) and B (``Bs[k][n]``) in shared memory and accumulates a ``TM × TN``
register tile per thread (rows ``tm + i·BM/TM``, columns ``tn + j·BN/TN``).

    forward   M = N·OH·OW  (n, a, b)   N = Og  (o)         K = Cg·KH·KW (c, r, s)
              A[m, k] = x[n, g·Cg + c, a·sh − ph + r·dh, b·sw − pw + s·dw]   (gathered)
              B[k, o] = w[g·Og + o, c, r, s]     (w re-laid out once as (g, K, Og))
    dgrad     M = N·H·W    (n, h, v)   N = Cg  (c)         K = Og·KH·KW (o, r, s)
              A[m, k] = dy[n, g·Og + o, (h + ph − r·dh)/sh, (v + pw − s·dw)/sw]   (gathered;
                        zero unless both divisions are exact and in range)
              B[k, c] = w[g·Og + o, c, r, s]     (w re-laid out once as (g, K, Cg))
    wgrad     M = Og       (o)         N = Cg·KH·KW (c, r, s)   K = N·OH·OW (n, a, b)
              A[o, k] = dy[n, g·Og + o, a, b]                             (dense per image)
              B[k, j] = x[n, g·Cg + c, a·sh − ph + r·dh, b·sw − pw + s·dw]   (gathered)

dgrad is the forward conv of ``dy`` with the transposed filter, read as a correlation
from the output side (no flip is needed: the gather does the index arithmetic).  wgrad's
K (N·L, 200 k for ResNet-50's first 3×3 layer at batch 64) is split over grid z: each
split sums whole images into its own ``(S, g, Og, J)`` slice and the wrapper adds the
slices (deterministic, unlike atomics).

Gathers.  The (c, r, s) half of every gather index comes from a small int32 *tap table*
built on the host once per call (``[c·H·W + r·dh·W + s·dw, r·dh << 16 | s·dw]``, or ``o·L`` for
dgrad), so the k-loop does no division: each thread decodes its tile rows (n, a, b)
once, before the loop, into a base offset and ``h0 = a·sh − ph``, ``w0 = b·sw − pw`` held
in int32 local arrays (constant trip counts: registers); then per element
``h = h0 + r·dh`` is bounds-checked and ``x[base + table[k]]`` loaded.  Consecutive
threads walk the output pixel (m) axis for forward/dgrad, which is the image's contiguous
W axis, so a warp's gathers coalesce at stride 1; wgrad walks K (also W) for both of its
operands and stores them into shared memory transposed, with rows padded so that the
``BK × 32/BK`` elements of one warp's store land in distinct banks.  Threads of a warp
share one table entry (a broadcast load).  Epilogues write with consecutive threads on
the contiguous axis of ``y``/``dx`` (m) or of ``dw`` (j).

The kernel factories live in ``_conv_gemm.py`` (with the SASS notes).

Not yet (each named in ``GPU-kernels.md``): NHWC with ``float4``/cp.async 16-byte gathers
and ``LDS.128`` register loads, double buffering, CUTLASS's strided-dgrad split (dgrad with
stride 2 spends 3/4 of its MACs on taps it then zeroes; stride 1 runs a variant with the
divisions compiled out), a 128×128 wgrad without spills, per-layer tile tables measured on
a GPU.  No GPU has run these kernels yet.
"""
from numba import float32, int32

from ..catalogue import CATALOGUE, get_array_module
from ..reference.conv import _check_groups, _check_output_shape
from ..reference.windows import output_shape
from ._conv_gemm import MODES, conv_launch, make_conv_kernel, padded_stride  # noqa: F401
from ._launch import SIMULATED, configured

# Production tiles: 256 threads with an 8×8 (or 8×4) register tile, the narrow one when the
# GEMM's N is at most 64 (ResNet's 64-channel stage); wgrad always 64×128 (4×8 per thread).
GPU_TILES = dict(BM=128, BN=128, BK=8, TM=8, TN=8)
GPU_TILES_NARROW_N = dict(BM=128, BN=64, BK=8, TM=8, TN=4)
GPU_TILES_NARROW_M = dict(BM=64, BN=128, BK=8, TM=4, TN=8)
# The simulator pays per block and per barrier far more than per thread: 32-thread blocks
# with few k-steps run a test-sized conv in ~0.3 s where 4-thread 4×4 tiles took 4 s.
SIMULATOR_TILES = dict(BM=32, BN=8, BK=8, TM=4, TN=2)
SIMULATOR_TILES_WGRAD = dict(BM=8, BN=32, BK=8, TM=2, TN=4)
MAX_GRID_YZ = 65535
MAX_INDEX = 2**31 - 1            # offsets are int32
TARGET_BLOCKS = 4 * 132          # wgrad split-K aims at ~4 blocks per H100 SM

host = get_array_module()        # numpy: the tap tables are built on the host


_KERNELS = {}


def production_tiles(mode, m, n):
    """The tiles the wrappers use on a GPU for an ``m × n`` GEMM (per group)."""
    if mode == "backward_weight":
        # 128×128 needs 128 registers plus ~70 bytes of spills under launch_bounds(256, 2)
        # (the two operands' per-load offsets); 64×128 fits in 116 with none.
        return GPU_TILES_NARROW_M
    return GPU_TILES_NARROW_N if n <= 64 else GPU_TILES


def default_kernel(mode, m, n, tiles=None, unit_stride=False):
    """The cached kernel for ``mode`` on an ``m × n`` GEMM: ``tiles`` if given, else the
    simulator's tiny tiles or ``production_tiles``."""
    if tiles is None and SIMULATED:
        tiles = SIMULATOR_TILES_WGRAD if mode == "backward_weight" else SIMULATOR_TILES
    tiles = tiles or production_tiles(mode, m, n)
    key = (mode, unit_stride) + tuple(sorted(tiles.items()))
    if key not in _KERNELS:
        _KERNELS[key] = make_conv_kernel(mode, **tiles, unit_stride=unit_stride)
    return _KERNELS[key]


_TABLES = {}
MAX_CACHED_TABLES = 256          # a network has a few dozen conv geometries


def _cached(xp, key, build):
    """``xp.asarray(build())``, built and copied to the device once per ``key`` (the tables
    are small; a per-call host→device copy would cost more than a 7² layer's GEMM)."""
    device = xp.cuda.runtime.getDevice() if xp.__name__ == "cupy" else None
    key = (xp.__name__, device) + key                    # one copy per GPU
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) >= MAX_CACHED_TABLES:
            _TABLES.clear()
        table = _TABLES[key] = xp.asarray(build().astype(host.int32))
    return table


def tap_table(xp, channels, channel_stride, kernel_size, dilation, row_stride, column_stride):
    """int32 ``(2, channels·KH·KW)``: for each (c, r, s) in C order the offset
    ``c·channel_stride + r·dh·row_stride + s·dw·column_stride`` and the tap's ``r·dh`` and
    ``s·dw`` packed as ``r·dh << 16 | s·dw`` (one load; ``accepts`` keeps both < 2¹⁵)."""
    kh, kw = kernel_size

    def build():
        c, r, s = host.meshgrid(host.arange(channels), host.arange(kh) * dilation[0],
                                host.arange(kw) * dilation[1], indexing="ij")
        table = host.stack([c * channel_stride + r * row_stride + s * column_stride,
                            (r << 16) | s])
        return table.reshape(2, -1)

    return _cached(xp, ("taps", channels, channel_stride, kh, kw, *dilation, row_stride,
                        column_stride), build)


def row_table(xp, out_hw, stride, padding):
    """int32 ``(2, OH·OW)``: each output pixel's ``a·sh − ph`` and ``b·sw − pw`` (wgrad)."""
    def build():
        a, b = host.meshgrid(host.arange(out_hw[0]) * stride[0] - padding[0],
                             host.arange(out_hw[1]) * stride[1] - padding[1], indexing="ij")
        return host.stack([a.ravel(), b.ravel()])

    return _cached(xp, ("rows", *out_hw, *stride, *padding), build)


def _ints(*values):
    return tuple(host.int32(v) for v in values)


def _launch(kernel, m, n, z, xp, *args):
    grid, threads = conv_launch(kernel, m, n, z)
    configured(kernel, grid, threads, xp)(*args)


def conv2d_forward(x, w, stride, padding, dilation, groups, tiles=None):
    """``y = conv2d(x, w)``: ``x (N, C, H, W), w (O, C/g, KH, KW) -> y (N, O, OH, OW)``."""
    xp = get_array_module(x, w)
    n, c, h, wd = x.shape
    o = w.shape[0]
    _check_groups(c, w.shape, groups)
    kernel_size = tuple(w.shape[2:])
    oh, ow = output_shape(x.shape, kernel_size, stride, padding, dilation)
    y = xp.empty((n, o, oh, ow), dtype=xp.float32)
    if y.size == 0:
        return y
    og, k = o // groups, w.shape[1] * kernel_size[0] * kernel_size[1]
    if k == 0:
        y[...] = 0
        return y
    wb = xp.ascontiguousarray(w.reshape(groups, og, k).transpose(0, 2, 1))     # (g, K, Og)
    tab = tap_table(xp, w.shape[1], h * wd, kernel_size, dilation, wd, 1)
    kernel = default_kernel("forward", n * oh * ow, og, tiles)
    _launch(kernel, n * oh * ow, og, groups, xp, xp.ascontiguousarray(x).reshape(-1), wb, tab,
            y.reshape(-1), *_ints(n, c, h, wd, oh, ow, *stride, *padding))
    return y


def conv2d_backward_input(dy, w, x_shape, stride, padding, dilation, groups, tiles=None):
    """``dx``: ``dy (N, O, OH, OW), w (O, C/g, KH, KW) -> dx (N, C, H, W) = x_shape``."""
    xp = get_array_module(dy, w)
    n, c, h, wd = x_shape
    o = w.shape[0]
    _check_groups(c, w.shape, groups)
    kernel_size = tuple(w.shape[2:])
    _check_output_shape(dy, x_shape, kernel_size, stride, padding, dilation)
    oh, ow = dy.shape[2:]
    dx = xp.empty(tuple(x_shape), dtype=xp.float32)
    if dx.size == 0:
        return dx
    og, cg, taps = o // groups, c // groups, kernel_size[0] * kernel_size[1]
    if og * taps == 0 or dy.size == 0:
        dx[...] = 0
        return dx
    wb = xp.ascontiguousarray(w.reshape(groups, og, cg, taps).transpose(0, 1, 3, 2))
    wb = wb.reshape(groups, og * taps, cg)                                   # (g, K, Cg)
    tab = tap_table(xp, og, oh * ow, kernel_size, dilation, 0, 0)
    kernel = default_kernel("backward_input", n * h * wd, cg, tiles,
                            unit_stride=tuple(stride) == (1, 1))
    _launch(kernel, n * h * wd, cg, groups, xp, xp.ascontiguousarray(dy).reshape(-1), wb, tab,
            dx.reshape(-1), *_ints(n, o, h, wd, oh, ow, *stride, *padding))
    return dx


def weight_gradient_splits(n, blocks, simulated=SIMULATED):
    """``(splits, images_per_split)`` for wgrad's split-K over the batch: enough blocks to
    fill the GPU (``TARGET_BLOCKS``), every split at least one image; under the simulator
    one image per split, so tests cover the split sum."""
    if simulated:
        return n, 1
    wanted = max(1, min(n, -(-TARGET_BLOCKS // max(blocks, 1)), MAX_GRID_YZ))
    per_split = -(-n // wanted)
    return -(-n // per_split), per_split


def conv2d_backward_weight(dy, x, w_shape, stride, padding, dilation, groups, tiles=None):
    """``dw``: ``dy (N, O, OH, OW), x (N, C, H, W) -> dw (O, C/g, KH, KW) = w_shape``."""
    xp = get_array_module(dy, x)
    n, c, h, wd = x.shape
    o = w_shape[0]
    _check_groups(c, w_shape, groups)
    kernel_size = tuple(w_shape[2:])
    _check_output_shape(dy, x.shape, kernel_size, stride, padding, dilation)
    oh, ow = dy.shape[2:]
    og, j = o // groups, w_shape[1] * kernel_size[0] * kernel_size[1]
    if o * j == 0 or n * oh * ow == 0:
        return xp.zeros(tuple(w_shape), dtype=xp.float32)
    kernel = default_kernel("backward_weight", og, j, tiles)
    t = kernel.tiles
    blocks = -(-og // t["BM"]) * -(-j // t["BN"]) * groups
    splits, per_split = weight_gradient_splits(n, blocks)
    if splits * groups > MAX_GRID_YZ:
        splits, per_split = 1, n
    tab = tap_table(xp, w_shape[1], h * wd, kernel_size, dilation, wd, 1)
    rows = row_table(xp, (oh, ow), stride, padding)                          # (2, L)
    part = xp.empty((splits, groups, og, j), dtype=xp.float32)
    _launch(kernel, og, j, splits * groups, xp, xp.ascontiguousarray(dy).reshape(-1),
            xp.ascontiguousarray(x).reshape(-1), tab, rows, part,
            *_ints(n, c, h, wd, oh * ow, per_split))
    dw = part[0] if splits == 1 else part.sum(axis=0)
    return dw.reshape(tuple(w_shape))


def compile_plan():
    """``[(name, kernel, signature, threads, shared_bytes)]``: every kernel at the tiles the
    wrappers launch on a GPU, with the int32 scalar signature they pass (``_compile.py``)."""
    flat, taps = float32[::1], int32[:, ::1]
    gemm = (flat, float32[:, :, ::1], taps, flat) + (int32,) * 10
    wgrad = (flat, flat, taps, taps, float32[:, :, :, ::1]) + (int32,) * 6
    plan = []
    for mode, label, tiles, unit in (
            ("forward", "", GPU_TILES, False), ("forward", "_narrow", GPU_TILES_NARROW_N, False),
            ("backward_input", "", GPU_TILES, False),
            ("backward_input", "_narrow", GPU_TILES_NARROW_N, False),
            ("backward_input", "_unit_stride", GPU_TILES, True),
            ("backward_input", "_unit_stride_narrow", GPU_TILES_NARROW_N, True),
            ("backward_weight", "", GPU_TILES_NARROW_M, False)):
        kernel = make_conv_kernel(mode, **tiles, unit_stride=unit)
        plan.append((f"conv2d_{mode}{label}", kernel, wgrad if mode == "backward_weight" else gemm,
                     kernel.threads, kernel.shared_bytes))
    return plan


def _float32_4d(*arrays):
    return all(getattr(a, "dtype", None) == "float32" and getattr(a, "ndim", 0) == 4
               and a.size <= MAX_INDEX for a in arrays)


def _fits(table_rows, groups, kernel_size, dilation):
    """Tap table offsets within int32, taps ``r·dh``, ``s·dw`` within the 16-bit halves the
    table packs them in, groups within grid z."""
    taps = all(d * (k - 1) < 1 << 15 for d, k in zip(dilation, kernel_size))
    return table_rows <= MAX_INDEX and groups <= MAX_GRID_YZ and taps


def _size(shape):
    size = 1
    for d in shape:
        size *= d
    return size


def accepts_forward(x, w, stride, padding, dilation, groups):
    """float32 4-D ``x`` and ``w``, int32-addressable (see ``_fits``)."""
    return _float32_4d(x, w) and _fits(_size(w.shape[1:]), groups, w.shape[2:], dilation)


def accepts_backward_input(dy, w, x_shape, stride, padding, dilation, groups):
    """float32 4-D ``dy`` and ``w``, an int32-addressable ``dx`` (see ``_fits``)."""
    return (_float32_4d(dy, w) and _size(x_shape) <= MAX_INDEX
            and _fits(w.size, groups, w.shape[2:], dilation))


def accepts_backward_weight(dy, x, w_shape, stride, padding, dilation, groups):
    """float32 4-D ``dy`` and ``x`` (see ``_fits``)."""
    return _float32_4d(dy, x) and _fits(_size(w_shape[1:]), groups, w_shape[2:], dilation)


CATALOGUE.register("conv2d_forward", "cuda", conv2d_forward, accepts=accepts_forward)
CATALOGUE.register("conv2d_backward_input", "cuda", conv2d_backward_input,
                   accepts=accepts_backward_input)
CATALOGUE.register("conv2d_backward_weight", "cuda", conv2d_backward_weight,
                   accepts=accepts_backward_weight)
