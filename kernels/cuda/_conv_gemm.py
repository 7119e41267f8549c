"""The implicit-GEMM kernel factories behind ``conv.py`` (whose docstring has the index
mappings and the design): ``make_conv_kernel(mode, BM, BN, BK, TM, TN)`` builds the forward,
input-gradient or weight-gradient kernel at those tiles, ``make_tile_product`` the shared
register-tile product, ``conv_launch`` the grid.

numba costs found in the SASS (sm_90, ``cuobjdump -sass``, CPU-checked) and avoided here: the
k loop of the register-tile product is unrolled by hand (``make_tile_product``); staging
indices are cast to ``uint32`` (numba guards every signed index it cannot prove ≥ 0 with a
wraparound select and 64-bit compares): the 128×128 forward's staging went from 417 to 261
instructions per k-tile, and the whole k-tile from 1 364 to 935 instructions for 512 FFMA
(37 → 55 % FFMA); dgrad's unit-stride variant (``unit_stride=True``) 998 (51 %) against 2 124
with the stride divisions; production kernels use ≤ 128 registers under
``launch_bounds(256, 2)`` with no spills (wgrad at 128×128 spills ~100 B, so it runs 64×128).
"""
from numba import cuda, float32, int32, uint32

from ._launch import SIMULATED, kernel_jit

MIN_BLOCKS = 2                   # blocks of 256 threads per SM: ≤ 128 registers per thread
OUTSIDE = -(1 << 30)             # h0 of a tile row past M: every tap fails the bounds test
MODES = ("forward", "backward_input", "backward_weight")


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
