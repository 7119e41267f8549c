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

numba costs found in the SASS (sm_90, ``cuobjdump -sass``, CPU-checked) and avoided here: the
k loop of the register-tile product is unrolled by hand (``make_tile_product``); staging
indices are cast to ``uint32`` (numba guards every signed index it cannot prove ≥ 0 with a
wraparound select and 64-bit compares): the 128×128 forward's staging went from 417 to 261
instructions per k-tile, and the whole k-tile from 1 364 to 935 instructions for 512 FFMA
(37 → 55 % FFMA); production kernels use ≤ 128 registers under ``launch_bounds(256, 2)``
with no spills (wgrad at 128×128 spills ~100 B, so it runs 64×128).

Not yet (each named in ``GPU-kernels.md``): NHWC with ``float4``/cp.async 16-byte gathers,
double buffering, a hand-unrolled k-step, CUTLASS's strided-dgrad split (dgrad with
stride 2 spends 3/4 of its MACs on taps it then zeroes), per-layer tile tables measured
on a GPU.  No GPU has run these kernels yet.
"""
from numba import cuda, float32, int32, uint32

from ..catalogue import CATALOGUE, get_array_module
from ..reference.conv import _check_groups, _check_output_shape
from ..reference.windows import output_shape
from ._launch import SIMULATED, configured, kernel_jit

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
MIN_BLOCKS = 2                   # blocks of 256 threads per SM: ≤ 128 registers per thread
MAX_INDEX = 2**31 - 1            # offsets are int32
TARGET_BLOCKS = 4 * 132          # wgrad split-K aims at ~4 blocks per H100 SM
OUTSIDE = -(1 << 30)             # h0 of a tile row past M: every tap fails the bounds test
MODES = ("forward", "backward_input", "backward_weight")

host = get_array_module()        # numpy: the tap tables are built on the host


def conv_jit(threads, min_blocks):
    """``kernel_jit`` with ``launch_bounds=(threads, min_blocks)`` on a GPU: ptxas then keeps
    registers within ``65536 / (threads·min_blocks)`` so that many blocks share an SM."""
    def decorate(function):
        if SIMULATED:
            kernel = kernel_jit(threads)(function)
        else:
            kernel = cuda.jit(launch_bounds=(threads, min_blocks))(function)
        kernel.launch_bounds = (threads, min_blocks)
        kernel.threads = threads
        return kernel
    return decorate


def padded_stride(width, depth):
    """Row stride of a ``depth × width`` shared tile filled with consecutive threads along
    ``depth`` (a transposed store): a warp then writes rows ``0..depth-1`` of ``32/depth``
    columns, distinct banks when the stride is ``32/depth`` mod 32."""
    if depth > 32 or 32 % depth:
        return width + 1
    return width + (32 // depth - width) % 32


def _plan(BM, BN, BK, TM, TN):
    if BM % TM or BN % TN:
        raise ValueError(f"tile {BM}×{BN} is not a multiple of the thread tile {TM}×{TN}")
    threads = (BM // TM) * (BN // TN)
    return threads, -(-BM * BK // threads), -(-BK * BN // threads)


def make_tile_product(BK, TM, TN, threads_m, threads_n, a_stride, b_stride, unroll=None):
    """``multiply_tiles(a_tile, b_tile, acc, a_reg, b_reg, tm, tn)``: ``acc[i, j] += Σ_k
    As[k][tm + i·BM/TM] · Bs[k][tn + j·BN/TN]`` over one staged k-tile.  The k loop is
    unrolled by hand (``k_step`` written out ``unroll`` times per trip, the guards are
    compile-time constants): NVVM unrolls the TM×TN FMA nest but not a BK = 8 loop
    around it.  Each step reads the tiles through views from the thread's first element
    (constant offsets after that); the view's start is a ``uint32``, which drops numba's
    slice-start wraparound and clamping (64-bit compares and selects, 67 of a 4-step
    block's 436 instructions).  SASS of the 128×128 forward per k-tile of 512 FFMA (sm_90,
    CPU-checked): rolled 1 364 instructions (37 % FFMA), unrolled by 8 (the default) 935
    (55 %), 121 registers, no spills."""
    unroll = unroll or next(u for u in (8, 4, 2, 1) if BK % u == 0)
    if unroll not in (1, 2, 4, 8) or BK % unroll:
        raise ValueError(f"unroll={unroll} must be 1, 2, 4 or 8 and divide BK={BK}")

    @cuda.jit(device=True, inline=True)
    def k_step(a_tile, b_tile, acc, a_reg, b_reg, a_first, b_first):
        # Views from this thread's first element: the unrolled loads index them by
        # constants (no per-load 64-bit address or wraparound math; see matmul.py).
        a_from = a_tile[uint32(a_first):]
        b_from = b_tile[uint32(b_first):]
        for i in range(TM):
            a_reg[i] = a_from[i * threads_m]
        for j in range(TN):
            b_reg[j] = b_from[j * threads_n]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_reg[i] * b_reg[j]

    @cuda.jit(device=True, inline=True)
    def multiply_tiles(a_tile, b_tile, acc, a_reg, b_reg, tm, tn):
        for k0 in range(0, BK, unroll):
            a0 = k0 * a_stride + tm
            b0 = k0 * b_stride + tn
            k_step(a_tile, b_tile, acc, a_reg, b_reg, a0, b0)
            if unroll > 1:
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + a_stride, b0 + b_stride)
            if unroll > 2:
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + 2 * a_stride, b0 + 2 * b_stride)
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + 3 * a_stride, b0 + 3 * b_stride)
            if unroll > 4:
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + 4 * a_stride, b0 + 4 * b_stride)
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + 5 * a_stride, b0 + 5 * b_stride)
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + 6 * a_stride, b0 + 6 * b_stride)
                k_step(a_tile, b_tile, acc, a_reg, b_reg, a0 + 7 * a_stride, b0 + 7 * b_stride)

    return multiply_tiles


def make_conv_kernel(mode, BM=128, BN=128, BK=8, TM=8, TN=8, unroll=None, unit_stride=False):
    """The implicit-GEMM kernel of ``mode`` (one of ``MODES``) at these tiles; launch it with
    ``conv_launch``.  Arguments (flat arrays are C-order ravels, ``tab`` the int32 tap table):

    * forward ``(x, wb (g, K, Og), tab (2, K), y, N, C, H, W, OH, OW, sh, sw, ph, pw)``
    * backward_input ``(dy, wb (g, K, Cg), tab (2, K), dx, N, O, H, W, OH, OW, sh, sw, ph, pw)``
    * backward_weight ``(dy, x, tab (2, J), rows (2, L), part (S, g, Og, J), N, C, H, W, L,
      images_per_split)``

    ``unit_stride`` (backward_input only) compiles out the stride divisions: launch that
    kernel only with ``sh = sw = 1`` (the divisions were most of dgrad's code, 2 124 SASS
    instructions per k-tile against 935 for the forward).
    """
    threads, a_loads, b_loads = _plan(BM, BN, BK, TM, TN)
    threads_m, threads_n = BM // TM, BN // TN
    a_exact, b_exact = (BM * BK) % threads == 0, (BK * BN) % threads == 0
    if mode == "backward_weight":
        a_stride, b_stride = padded_stride(BM, BK), padded_stride(BN, BK)
    else:
        a_stride, b_stride = BM, BN
    a_size, b_size = BK * a_stride, BK * b_stride
    multiply_tiles = make_tile_product(BK, TM, TN, threads_m, threads_n, a_stride, b_stride,
                                       unroll)

    if mode in ("forward", "backward_input"):
        dgrad = mode == "backward_input"
        a_one_row = threads % BM == 0
        a_rows = 1 if a_one_row else a_loads

        @conv_jit(threads, MIN_BLOCKS)
        def conv_gemm(src, wb, tab, out, N, C, H, W, OH, OW, sh, sw, ph, pw):
            # forward: src = x, C = input channels; dgrad: src = dy, C = output channels O.
            groups, k_size, n_size = wb.shape[0], wb.shape[1], wb.shape[2]
            g = cuda.blockIdx.z
            m0 = cuda.blockIdx.x * BM
            n0 = cuda.blockIdx.y * BN
            tid = cuda.threadIdx.x
            tn = tid // threads_m                     # consecutive threads: consecutive m
            tm = tid - tn * threads_m
            L = OH * OW
            HW = H * W
            plane = HW if dgrad else L                # output pixels per image: M = N·plane
            m_size = N * plane
            a_tile = cuda.shared.array(a_size, float32)
            b_tile = cuda.shared.array(b_size, float32)
            acc = cuda.local.array((TM, TN), float32)
            a_reg = cuda.local.array(TM, float32)
            b_reg = cuda.local.array(TN, float32)
            for i in range(TM):
                for j in range(TN):
                    acc[i, j] = float32(0.0)
            # The rows (m) this thread stages, decoded once: h0/w0 and a base offset.  When the
            # block's thread count is a multiple of BM every k-step stages one and the same
            # row per thread (``a_rows == 1``: 3 registers instead of 3 per load).
            a_h = cuda.local.array(a_rows, int32)
            a_w = cuda.local.array(a_rows, int32)
            a_base = cuda.local.array(a_rows, int32)
            for r in range(a_rows):
                e = tid + r * threads
                gm = m0 + e - (e // BM) * BM
                a_h[r] = OUTSIDE
                a_w[r] = 0
                a_base[r] = 0
                if gm < m_size:
                    img = gm // plane
                    p = gm - img * plane
                    if dgrad:                          # (h + ph, v + pw); dy base of (n, g)
                        row = p // W
                        a_h[r] = row + ph
                        a_w[r] = p - row * W + pw
                        a_base[r] = (img * C + g * (C // groups)) * L
                    else:                              # (a·sh − ph, b·sw − pw); x base
                        row = p // OW
                        h0 = row * sh - ph
                        w0 = (p - row * OW) * sw - pw
                        a_h[r] = h0
                        a_w[r] = w0
                        a_base[r] = (img * C + g * (C // groups)) * HW + h0 * W + w0

            for k0 in range(0, k_size, BK):
                for s in range(a_loads):
                    e = tid + s * threads
                    if a_exact or e < BM * BK:
                        r = 0 if a_one_row else s
                        kk = e // BM
                        mm = e - kk * BM
                        gk = k0 + kk
                        value = float32(0.0)
                        if gk < k_size:
                            # uint32 indices: numba skips its negative-index wraparound
                            # select and 64-bit compare (every index here is ≥ 0).
                            uk = uint32(gk)
                            if dgrad:
                                tap = tab[1, uk]
                                th = a_h[r] - (tap >> 16)
                                tw = a_w[r] - (tap & 0xFFFF)
                                if th >= 0 and tw >= 0:
                                    oh = th
                                    ow = tw
                                    exact = True
                                    if not unit_stride and sh != 1:
                                        oh = th // sh
                                        exact = oh * sh == th
                                    if not unit_stride and sw != 1:
                                        ow = tw // sw
                                        exact = exact and ow * sw == tw
                                    if exact and oh < OH and ow < OW:
                                        value = src[uint32(a_base[r] + tab[0, uk]
                                                           + oh * OW + ow)]
                            else:
                                tap = tab[1, uk]
                                h = a_h[r] + (tap >> 16)
                                w = a_w[r] + (tap & 0xFFFF)
                                if h >= 0 and h < H and w >= 0 and w < W:
                                    value = src[uint32(a_base[r] + tab[0, uk])]
                        a_tile[uint32(kk * a_stride + mm)] = value
                for s in range(b_loads):
                    e = tid + s * threads
                    if b_exact or e < BK * BN:
                        kk = e // BN
                        nn = e - kk * BN
                        gk = k0 + kk
                        gn = n0 + nn
                        value = float32(0.0)
                        if gk < k_size and gn < n_size:
                            value = wb[uint32(g), uint32(gk), uint32(gn)]
                        b_tile[uint32(kk * b_stride + nn)] = value
                cuda.syncthreads()
                multiply_tiles(a_tile, b_tile, acc, a_reg, b_reg, tm, tn)
                cuda.syncthreads()

            channels = groups * n_size                 # y: O = g·Og; dx: C = g·Cg
            for i in range(TM):
                gm = m0 + tm + i * threads_m
                if gm < m_size:
                    img = gm // plane
                    base = (img * channels + g * n_size) * plane + gm - img * plane
                    for j in range(TN):
                        gn = n0 + tn + j * threads_n
                        if gn < n_size:
                            out[base + gn * plane] = acc[i, j]

    elif mode == "backward_weight":
        k_fixed = threads % BK == 0

        @conv_jit(threads, MIN_BLOCKS)
        def conv_gemm(dy, x, tab, rows, part, N, C, H, W, L, images_per_split):
            groups, m_size, n_size = part.shape[1], part.shape[2], part.shape[3]
            z = cuda.blockIdx.z
            split = z // groups
            g = z - split * groups
            m0 = cuda.blockIdx.y * BM
            n0 = cuda.blockIdx.x * BN
            tid = cuda.threadIdx.x
            tm = tid // threads_n                     # consecutive threads: consecutive j
            tn = tid - tm * threads_n
            HW = H * W
            a_tile = cuda.shared.array(a_size, float32)
            b_tile = cuda.shared.array(b_size, float32)
            acc = cuda.local.array((TM, TN), float32)
            a_reg = cuda.local.array(TM, float32)
            b_reg = cuda.local.array(TN, float32)
            for i in range(TM):
                for j in range(TN):
                    acc[i, j] = float32(0.0)
            # Both operands are staged with consecutive threads along K (the image's W axis):
            # element e of a tile is (k = e mod BK, m or j = e div BK).  Per loaded m: the dy
            # offset of channel g·Og + m (−1 past Og); per loaded j = (c, r, s): the x offset
            # (−1 past J) and the tap's r·dh, s·dw packed in one register (16 bits each).
            a_base = cuda.local.array(a_loads, int32)
            for s in range(a_loads):
                mm = (tid + s * threads) // BK
                a_base[s] = (g * m_size + m0 + mm) * L if m0 + mm < m_size else -1
            b_base = cuda.local.array(b_loads, int32)
            b_tap = cuda.local.array(b_loads, int32)            # r·dh << 16 | s·dw (registers)
            for s in range(b_loads):
                gn = n0 + (tid + s * threads) // BK
                b_base[s] = -1
                b_tap[s] = 0
                if gn < n_size:
                    b_base[s] = g * (C // groups) * HW + tab[0, gn]
                    b_tap[s] = tab[1, gn]
            own_k = tid - (tid // BK) * BK             # this thread's k when k_fixed

            first = split * images_per_split
            for img in range(first, min(first + images_per_split, N)):
                dy_image = img * groups * m_size * L
                x_image = img * C * HW
                for p0 in range(0, L, BK):
                    # With threads a multiple of BK every element this thread stages has the
                    # same k, so its output pixel's (h0, w0) is read once per k-step.
                    own_h0 = 0
                    own_w0 = 0
                    if k_fixed and p0 + own_k < L:
                        own_h0 = rows[0, uint32(p0 + own_k)]
                        own_w0 = rows[1, uint32(p0 + own_k)]
                    for s in range(a_loads):
                        e = tid + s * threads
                        if a_exact or e < BM * BK:
                            mm = e // BK
                            kk = e - mm * BK
                            p = p0 + kk
                            value = float32(0.0)
                            if p < L and a_base[s] >= 0:
                                value = dy[uint32(dy_image + a_base[s] + p)]
                            a_tile[uint32(kk * a_stride + mm)] = value
                    for s in range(b_loads):
                        e = tid + s * threads
                        if b_exact or e < BK * BN:
                            nn = e // BK
                            kk = e - nn * BK
                            p = p0 + kk
                            value = float32(0.0)
                            if p < L and b_base[s] >= 0:
                                h0 = own_h0
                                w0 = own_w0
                                if not k_fixed:
                                    h0 = rows[0, uint32(p)]
                                    w0 = rows[1, uint32(p)]
                                h = h0 + (b_tap[s] >> 16)
                                w = w0 + (b_tap[s] & 0xFFFF)
                                if h >= 0 and h < H and w >= 0 and w < W:
                                    value = x[uint32(x_image + b_base[s] + h0 * W + w0)]
                            b_tile[uint32(kk * b_stride + nn)] = value
                    cuda.syncthreads()
                    multiply_tiles(a_tile, b_tile, acc, a_reg, b_reg, tm, tn)
                    cuda.syncthreads()

            for i in range(TM):
                gm = m0 + tm + i * threads_m
                if gm < m_size:
                    for j in range(TN):
                        gn = n0 + tn + j * threads_n
                        if gn < n_size:
                            part[split, g, gm, gn] = acc[i, j]
    else:
        raise ValueError(f"unknown conv mode {mode!r}; known: {MODES}")

    conv_gemm.mode = mode
    conv_gemm.unit_stride = unit_stride
    conv_gemm.tiles = dict(BM=BM, BN=BN, BK=BK, TM=TM, TN=TN)
    conv_gemm.shared_bytes = 4 * (a_size + b_size)
    return conv_gemm


def conv_launch(kernel, m, n, z):
    """``(grid, threads)`` for a GEMM of ``m × n`` outputs per each of ``z`` groups (× splits):
    forward/dgrad put M on grid x (no 65 535 limit there), wgrad puts its small M on y."""
    t = kernel.tiles
    m_blocks, n_blocks = -(-m // t["BM"]), -(-n // t["BN"])
    if kernel.mode == "backward_weight":
        return (n_blocks, m_blocks, z), kernel.threads
    return (m_blocks, n_blocks, z), kernel.threads


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
