"""SGEMM in numba.cuda: shared-memory tiles with register blocking (CUDA twin of
``reference/matmul.py``).

    c[z, i, j] = Σ_k a[z, i, k] · b[z, k, j]           a (Z|1, M, K), b (Z|1, K, N) -> c (Z, M, N)

A block of ``(BM/TM)·(BN/TN)`` threads owns a ``BM × BN`` tile of one batch entry ``z``
(grid ``(⌈N/BN⌉, ⌈M/BM⌉, Z)``).  Per step of ``BK`` along K it stages the A tile
transposed (``As[k][m]``) and the B tile (``Bs[k][n]``) in shared memory, zero-filling
past the ragged edges, then each thread accumulates a ``TM × TN`` outer-product tile in
registers: for each ``k`` it loads ``TM`` values of ``As[k]`` and ``TN`` of ``Bs[k]``
into registers and does ``TM·TN`` FMAs.  In the scalar design a thread's rows are
``tm + i·(BM/TM)`` and its columns ``tn + j·(BN/TN)`` (strided, not contiguous): neighbouring threads then read
neighbouring shared words (no bank conflicts) and write neighbouring output columns
(coalesced).  Transposes are compile-time flags of the factory: a transposed view
(``wᵀ``, ``aᵀ @ dc``) goes in as its C-contiguous storage and the kernel indexes it the
other way round, so neither it nor a broadcast batch of 1 is copied (other strided layouts
are).  Only float32 is handled, accumulated in float32.

Two designs share the factory (``make_sgemm``).  The **vector design** (``vector_tiles``:
thread tiles and BK in whole float4s; the production 128×128×8, 8×8 per thread, 256
threads) is the one launched on a GPU:

- A thread's 8×8 tile is 2×2 groups of 4×4, rows ``tm·4 + r + g·BM/2``, columns
  ``tn·4 + c + h·BN/2``; a warp spans 4 × 8 threads, so each ``LDS.128`` (``_vector.load4``)
  of a k-step reads 64 (A) or 128 (B) distinct bytes, and 8 lanes write 128 contiguous output bytes.
- Shared memory holds **two stages** of ``As[k][m]`` (A transposed) and ``Bs[k][n]``,
  rows padded by ``PAD`` = 4 floats (16-byte rows; the column-wise stores of a K-contiguous
  operand hit distinct banks): 16 896 B, one barrier per k-tile.
- **Register prefetch**: the next k-tile's global loads are issued before the current
  tile's FMAs and stored to the other stage after them.
- The k-tile is **unrolled by hand** (``step`` called 8 times: 512 FFMA, 32 ``LDS.128``,
  NVVM does not unroll the BK loop itself); staging offsets are hoisted, int64 global
  offsets advanced by one add per tile, int32 bounds.
- Per launch the wrapper picks the **aligned** variant (M, N, K multiples of BM, BN, BK and
  16-byte aligned data, ``is_aligned``): no bounds checks, ``LDG.128``/``STS.128``/
  ``STG.128``, launch bound (256, 2) so ≤ 128 registers and 2 blocks per SM; else the
  **ragged** variant: four guarded scalar loads per group (bounds packed into one int32 per
  group), guarded stores, up to 145 registers (1 block per SM: under the 128 cap ptxas
  spilled 8–56 bytes, varying with small code changes).

SASS (sm_90, ptxas 13.0, ``benchmarks/results/gpu/sgemm_sass.md``): the aligned k-tile is
583–632 instructions, 81–88 % FFMA (the scalar design below: 1 376, 37 %).  The **scalar
design** (any tile, e.g. the odd ones the simulator tests use) stages one element at a time
with guards and reads shared memory by scalar ``LDS``; its costs found in the SASS and
avoided: staging indices hoisted into int32 local arrays with constant trip counts, the
shared tiles read through a slice at the thread's first element so unrolled loads use
constant indices (no per-load 64-bit address and wraparound math).

Not yet: cp.async multistage pipelines, warp tiles of 64×64 (256×128 blocks), grouped
block rasterisation for L2 reuse, 2 blocks per SM for the ragged variant; no GPU has timed
any of it.
"""
from numba import cuda, float32, int32, int64

from ..catalogue import CATALOGUE, get_array_module
from ._launch import SIMULATED, configured, kernel_jit
from ._vector import load1, load4, store1, store4

# Production tiles (256 threads, 8×8 outputs each) and the simulator's tiny ones.
GPU_TILES = dict(BM=128, BN=128, BK=8, TM=8, TN=8)
SIMULATOR_TILES = dict(BM=8, BN=8, BK=4, TM=4, TN=4)
MAX_GRID_YZ = 65535
MAX_SIZE = 2 ** 28          # M, N, K below it: the vector kernel steps offsets in int32


def make_sgemm(BM=128, BN=128, BK=8, TM=8, TN=8, trans_a=False, trans_b=False, aligned=False):
    """A batched SGEMM kernel ``kernel[grid, threads](a, b, c)`` for these tile sizes.

    ``a (Za, M, K)`` — or, with ``trans_a``, its transpose stored as ``(Za, K, M)`` —,
    ``b (Zb, K, N)`` — or ``(Zb, N, K)`` with ``trans_b`` —, ``c (Z, M, N)``, all float32
    and C-contiguous, ``Za`` and ``Zb`` either ``Z`` or 1 (broadcast).  Launch with
    ``grid = (⌈N/BN⌉, ⌈M/BM⌉, Z)`` and ``threads = (BM/TM)·(BN/TN)`` (``sgemm_launch``
    computes both).  Tiles that fit the vector design (``vector_tiles``) get the pipelined
    float4 kernel (``_make_vector_sgemm``), others the scalar one.  ``aligned`` (vector
    design only) drops every bounds check and loads/stores four floats at once: launch it
    only where ``is_aligned`` holds (M, N, K multiples of BM, BN, BK, 16-byte aligned data).
    """
    if BM % TM or BN % TN:
        raise ValueError(f"tile {BM}×{BN} is not a multiple of the thread tile {TM}×{TN}")
    if vector_tiles(BM, BN, BK, TM, TN):
        return _make_vector_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b, aligned)
    if aligned:
        raise ValueError(f"tiles {BM}×{BN}×{BK}/{TM}×{TN} have no aligned (float4) variant")
    return _make_scalar_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b)


def vector_tiles(BM, BN, BK, TM, TN):
    """Whether the float4 design fits these tiles: thread tiles made of 4-wide groups, a BK
    of whole float4s, and whole float4 staging groups for every thread."""
    if TM % 4 or TN % 4 or BK % 4 or BM % TM or BN % TN:
        return False
    threads = (BM // TM) * (BN // TN)
    return (BM * BK // 4) % threads == 0 and (BK * BN // 4) % threads == 0


def is_aligned(kernel, m, n, k, *arrays):
    """Whether the ``aligned`` variant of ``kernel``'s tiles may run on this problem: every
    size a multiple of its tile and every array's data 16-byte aligned."""
    t = kernel.tiles
    if m % t["BM"] or n % t["BN"] or k % t["BK"]:
        return False
    for x in arrays:
        data = getattr(x, "data", None)
        pointer = getattr(data, "ptr", None)            # CuPy
        if pointer is None:
            pointer = x.ctypes.data                     # numpy (the simulator)
        if pointer % 16:
            return False
    return True


BLOCKS_PER_SM = 2
PAD = 4         # floats after each shared row: 16-byte rows, conflict-free transposed stores
SHARED_ALIGNMENT = None if SIMULATED else 16     # LDS.128 needs it; the simulator refuses it


def _make_vector_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b, aligned):
    """The pipelined float4 SGEMM (module docstring, "Vector design")."""
    threads_m, threads_n = BM // TM, BN // TN
    threads = threads_m * threads_n
    groups_m, groups_n = TM // 4, TN // 4            # 4-wide register groups per thread
    stride_m, stride_n = 4 * threads_m, 4 * threads_n
    lda, ldb = BM + PAD, BN + PAD                     # shared row lengths
    a_size, b_size = BK * lda, BK * ldb
    stage = a_size + b_size
    smem_floats = 2 * stage                           # a constant: shared sizes must be
    a_groups = BM * BK // 4 // threads                # float4 groups staged per thread
    b_groups = BK * BN // 4 // threads
    a_floats, b_floats = 4 * a_groups, 4 * b_groups   # (local array sizes: constants)
    a_row_groups = (BM if trans_a else BK) // 4       # groups along A's contiguous axis
    b_row_groups = (BK if trans_b else BN) // 4
    warp_layout = threads % 32 == 0 and threads_n % 8 == 0 and threads_m % 4 == 0
    warp_cols = threads_n // 8
    unroll = 8 if BK % 8 == 0 else 4
    prefetch = True

    @cuda.jit(device=True, inline="always")
    def fetch(a, b, a_off, b_off, a_kp, b_kp, a_buf, b_buf, k0, k_size):
        # Global -> registers, one float4 group at a time (4 guarded scalars when ragged).
        # Element j of group s is in bounds, when K is the contiguous axis, while
        # k0 + kp[s] + j < K (kp = K for a row past M or N); else kp packs the group's k
        # (kp >> 3) and how many of its 4 columns lie inside M or N (kp & 7): one register.
        for s in range(a_groups):
            if aligned:
                x0, x1, x2, x3 = load4(a, a_off[s])
                a_buf[4 * s] = x0
                a_buf[4 * s + 1] = x1
                a_buf[4 * s + 2] = x2
                a_buf[4 * s + 3] = x3
            else:
                for j in range(4):
                    value = float32(0.0)
                    if trans_a:     # outer k, inner m
                        ok = k0 + (a_kp[s] >> 3) < k_size and j < (a_kp[s] & 7)
                    else:           # outer m, inner k
                        ok = k0 + a_kp[s] + j < k_size
                    if ok:
                        value = load1(a, a_off[s] + j)
                    a_buf[4 * s + j] = value
        for s in range(b_groups):
            if aligned:
                x0, x1, x2, x3 = load4(b, b_off[s])
                b_buf[4 * s] = x0
                b_buf[4 * s + 1] = x1
                b_buf[4 * s + 2] = x2
                b_buf[4 * s + 3] = x3
            else:
                for j in range(4):
                    value = float32(0.0)
                    if trans_b:     # outer n, inner k
                        ok = k0 + b_kp[s] + j < k_size
                    else:           # outer k, inner n
                        ok = k0 + (b_kp[s] >> 3) < k_size and j < (b_kp[s] & 7)
                    if ok:
                        value = load1(b, b_off[s] + j)
                    b_buf[4 * s + j] = value

    @cuda.jit(device=True, inline="always")
    def put(tiles, base, a_sh, b_sh, a_buf, b_buf):
        # Registers -> shared stage at ``base``: a float4 along a shared row, or four
        # scalars down a column when the operand's contiguous axis is K (transposing).
        for s in range(a_groups):
            at = base + a_sh[s]
            if trans_a:
                store4(tiles, at, a_buf[4 * s], a_buf[4 * s + 1], a_buf[4 * s + 2],
                       a_buf[4 * s + 3])
            else:
                for j in range(4):
                    tiles[at + j * lda] = a_buf[4 * s + j]
        for s in range(b_groups):
            at = base + a_size + b_sh[s]
            if trans_b:
                for j in range(4):
                    tiles[at + j * ldb] = b_buf[4 * s + j]
            else:
                store4(tiles, at, b_buf[4 * s], b_buf[4 * s + 1], b_buf[4 * s + 2],
                       b_buf[4 * s + 3])

    @cuda.jit(device=True, inline="always")
    def step(tiles, a_at, b_at, acc, a_reg, b_reg):
        # One k: TM + TN floats from shared by LDS.128, TM·TN FMAs.
        for g in range(groups_m):
            x0, x1, x2, x3 = load4(tiles, a_at + g * stride_m)
            a_reg[4 * g] = x0
            a_reg[4 * g + 1] = x1
            a_reg[4 * g + 2] = x2
            a_reg[4 * g + 3] = x3
        for g in range(groups_n):
            x0, x1, x2, x3 = load4(tiles, b_at + g * stride_n)
            b_reg[4 * g] = x0
            b_reg[4 * g + 1] = x1
            b_reg[4 * g + 2] = x2
            b_reg[4 * g + 3] = x3
        for i in range(TM):
            for j in range(TN):
                acc[i, j] += a_reg[i] * b_reg[j]

    @kernel_jit(threads, blocks_per_sm=BLOCKS_PER_SM if threads == 256 and aligned else None)
    def sgemm(a, b, c):
        m_size = int32(c.shape[1])          # int32 bounds: half the registers of intp
        n_size = int32(c.shape[2])
        k_size = int32(a.shape[1] if trans_a else a.shape[2])
        z = cuda.blockIdx.z
        za = z if a.shape[0] > 1 else 0
        zb = z if b.shape[0] > 1 else 0
        tid = cuda.threadIdx.x
        if warp_layout:     # a warp covers 4 × 8 threads: 128-byte LDS.128 phases
            warp = tid // 32
            lane = tid - warp * 32
            tm = (warp // warp_cols) * 4 + lane // 8
            tn = (warp - (warp // warp_cols) * warp_cols) * 8 + (lane - (lane // 8) * 8)
        else:
            tm = tid // threads_n
            tn = tid - tm * threads_n
        row0 = cuda.blockIdx.y * BM
        col0 = cuda.blockIdx.x * BN

        # Two stages of As then Bs, flat.
        tiles = cuda.shared.array(smem_floats, float32, alignment=SHARED_ALIGNMENT)
        acc = cuda.local.array((TM, TN), float32)
        a_reg = cuda.local.array(TM, float32)
        b_reg = cuda.local.array(TN, float32)
        a_buf = cuda.local.array(a_floats, float32)       # the next tile, in flight
        b_buf = cuda.local.array(b_floats, float32)
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = float32(0.0)

        # Per staged group: global offset (advanced by one tile per k-step), shared offset,
        # and the ragged-edge bound ``kp`` that ``fetch`` reads.
        a_off = cuda.local.array(a_groups, int64)
        b_off = cuda.local.array(b_groups, int64)
        a_sh = cuda.local.array(a_groups, int32)
        b_sh = cuda.local.array(b_groups, int32)
        a_kp = cuda.local.array(a_groups, int32)
        b_kp = cuda.local.array(b_groups, int32)
        a_base = int64(za) * m_size * k_size
        b_base = int64(zb) * k_size * n_size
        for s in range(a_groups):
            e = tid + s * threads
            outer = e // a_row_groups
            inner = (e - outer * a_row_groups) * 4
            if trans_a:     # (K, M) storage: outer k, inner m
                a_off[s] = a_base + int64(outer) * m_size + row0 + inner
                a_sh[s] = outer * lda + inner
                a_kp[s] = outer * 8 + min(max(m_size - row0 - inner, 0), 4)
            else:           # (M, K): outer m, inner k
                a_off[s] = a_base + int64(row0 + outer) * k_size + inner
                a_sh[s] = inner * lda + outer
                a_kp[s] = inner if row0 + outer < m_size else k_size
        for s in range(b_groups):
            e = tid + s * threads
            outer = e // b_row_groups
            inner = (e - outer * b_row_groups) * 4
            if trans_b:     # (N, K): outer n, inner k
                b_off[s] = b_base + int64(col0 + outer) * k_size + inner
                b_sh[s] = inner * ldb + outer
                b_kp[s] = inner if col0 + outer < n_size else k_size
            else:           # (K, N): outer k, inner n
                b_off[s] = b_base + int64(outer) * n_size + col0 + inner
                b_sh[s] = outer * ldb + inner
                b_kp[s] = outer * 8 + min(max(n_size - col0 - inner, 0), 4)
        a_step = BK * m_size if trans_a else int32(BK)      # int32: sizes < 2**28
        b_step = int32(BK) if trans_b else BK * n_size

        # The epilogue's origin and bounds, computed here so that only these stay live
        # across the k loop (fewer registers there: the ragged variants spilled).
        c_at = (int64(z) * m_size + row0 + tm * 4) * n_size + col0 + tn * 4
        rows_left = m_size - row0 - tm * 4
        cols_left = n_size - col0 - tn * 4

        fetch(a, b, a_off, b_off, a_kp, b_kp, a_buf, b_buf, 0, k_size)
        put(tiles, 0, a_sh, b_sh, a_buf, b_buf)
        cuda.syncthreads()
        base = 0
        for k0 in range(BK, k_size + BK, BK):   # k0: the next tile's first k
            more = k0 < k_size
            if prefetch and more:   # the next tile into registers; it lands during the FMAs
                for s in range(a_groups):
                    a_off[s] += a_step
                for s in range(b_groups):
                    b_off[s] += b_step
                fetch(a, b, a_off, b_off, a_kp, b_kp, a_buf, b_buf, k0, k_size)
            a_at = base + tm * 4
            b_at = base + a_size + tn * 4
            for k8 in range(0, BK, unroll):      # one trip at BK = unroll: straight-line
                step(tiles, a_at + k8 * lda, b_at + k8 * ldb, acc, a_reg, b_reg)
                step(tiles, a_at + (k8 + 1) * lda, b_at + (k8 + 1) * ldb, acc, a_reg, b_reg)
                step(tiles, a_at + (k8 + 2) * lda, b_at + (k8 + 2) * ldb, acc, a_reg, b_reg)
                step(tiles, a_at + (k8 + 3) * lda, b_at + (k8 + 3) * ldb, acc, a_reg, b_reg)
                if unroll == 8:
                    step(tiles, a_at + (k8 + 4) * lda, b_at + (k8 + 4) * ldb, acc, a_reg,
                         b_reg)
                    step(tiles, a_at + (k8 + 5) * lda, b_at + (k8 + 5) * ldb, acc, a_reg,
                         b_reg)
                    step(tiles, a_at + (k8 + 6) * lda, b_at + (k8 + 6) * ldb, acc, a_reg,
                         b_reg)
                    step(tiles, a_at + (k8 + 7) * lda, b_at + (k8 + 7) * ldb, acc, a_reg,
                         b_reg)
            base = stage - base              # the other stage
            if more:        # the other stage was last read before the previous barrier
                if not prefetch:
                    for s in range(a_groups):
                        a_off[s] += a_step
                    for s in range(b_groups):
                        b_off[s] += b_step
                    fetch(a, b, a_off, b_off, a_kp, b_kp, a_buf, b_buf, k0,
                          k_size)
                put(tiles, base, a_sh, b_sh, a_buf, b_buf)
            cuda.syncthreads()

        for i in range(TM):
            row = (i // 4) * stride_m + (i - (i // 4) * 4)      # from c_at's row
            for h in range(groups_n):
                at = c_at + int64(row) * n_size + h * stride_n
                if aligned:
                    store4(c, at, acc[i, 4 * h], acc[i, 4 * h + 1], acc[i, 4 * h + 2],
                           acc[i, 4 * h + 3])
                elif row < rows_left:
                    for j in range(4):
                        if h * stride_n + j < cols_left:
                            store1(c, at + j, acc[i, 4 * h + j])

    sgemm.tiles = dict(BM=BM, BN=BN, BK=BK, TM=TM, TN=TN)
    sgemm.transposed = (trans_a, trans_b)
    sgemm.aligned = aligned
    sgemm.shared_bytes = 4 * 2 * stage
    return sgemm


def _make_scalar_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b):
    """A batched SGEMM kernel ``kernel[grid, threads](a, b, c)`` for these tile sizes.

    ``a (Za, M, K)`` — or, with ``trans_a``, its transpose stored as ``(Za, K, M)`` —,
    ``b (Zb, K, N)`` — or ``(Zb, N, K)`` with ``trans_b`` —, ``c (Z, M, N)``, all float32
    and C-contiguous, ``Za`` and ``Zb`` either ``Z`` or 1 (broadcast).  Launch with
    ``grid = (⌈N/BN⌉, ⌈M/BM⌉, Z)`` and ``threads = (BM/TM)·(BN/TN)`` (``sgemm_launch``
    computes both).  The staging loops walk the operand's contiguous axis with
    consecutive threads whichever way it is stored, so global reads stay coalesced.
    """
    if BM % TM or BN % TN:
        raise ValueError(f"tile {BM}×{BN} is not a multiple of the thread tile {TM}×{TN}")
    threads_m, threads_n = BM // TM, BN // TN
    threads = threads_m * threads_n
    # Elements of each tile a thread stages per k-step; the guard folds away when exact.
    a_loads = (BM * BK + threads - 1) // threads
    b_loads = (BK * BN + threads - 1) // threads
    a_exact = (BM * BK) % threads == 0
    a_tile_size, b_tile_size = BK * BM, BK * BN       # shared sizes must be constants
    b_exact = (BK * BN) % threads == 0

    @kernel_jit(threads)
    def sgemm(a, b, c):
        m_size = c.shape[1]
        n_size = c.shape[2]
        k_size = a.shape[1] if trans_a else a.shape[2]
        z = cuda.blockIdx.z
        za = z if a.shape[0] > 1 else 0
        zb = z if b.shape[0] > 1 else 0
        tid = cuda.threadIdx.x
        tm = tid // threads_n
        tn = tid - tm * threads_n
        row0 = cuda.blockIdx.y * BM
        col0 = cuda.blockIdx.x * BN

        a_tile = cuda.shared.array(a_tile_size, float32)      # As[k][m], flat
        b_tile = cuda.shared.array(b_tile_size, float32)      # Bs[k][n], flat
        acc = cuda.local.array((TM, TN), float32)
        a_reg = cuda.local.array(TM, float32)
        b_reg = cuda.local.array(TN, float32)
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = float32(0.0)

        # Where each thread stages its elements of the A and B tiles, hoisted out of the
        # k loop (constant trip counts: unrolled, kept in registers).  Consecutive threads
        # walk the operand's contiguous axis: K (or M if transposed) for A, N (or K) for B.
        a_row = cuda.local.array(a_loads, int32)
        a_col = cuda.local.array(a_loads, int32)
        b_row = cuda.local.array(b_loads, int32)
        b_col = cuda.local.array(b_loads, int32)
        for s in range(a_loads):
            e = tid + s * threads
            if trans_a:
                a_row[s] = e // BM                # k within the tile
                a_col[s] = e - (e // BM) * BM     # m
            else:
                a_col[s] = e // BK                # m
                a_row[s] = e - (e // BK) * BK     # k
        for s in range(b_loads):
            e = tid + s * threads
            if trans_b:
                b_col[s] = e // BK                # n
                b_row[s] = e - (e // BK) * BK     # k
            else:
                b_row[s] = e // BN                # k
                b_col[s] = e - (e // BN) * BN     # n

        for k0 in range(0, k_size, BK):
            for s in range(a_loads):
                if a_exact or tid + s * threads < BM * BK:
                    kk = a_row[s]
                    mm = a_col[s]
                    gm = row0 + mm
                    gk = k0 + kk
                    value = float32(0.0)
                    if gm < m_size and gk < k_size:
                        if trans_a:
                            value = a[za, gk, gm]
                        else:
                            value = a[za, gm, gk]
                    a_tile[kk * BM + mm] = value
            for s in range(b_loads):
                if b_exact or tid + s * threads < BK * BN:
                    kk = b_row[s]
                    nn = b_col[s]
                    gk = k0 + kk
                    gn = col0 + nn
                    value = float32(0.0)
                    if gk < k_size and gn < n_size:
                        if trans_b:
                            value = b[zb, gn, gk]
                        else:
                            value = b[zb, gk, gn]
                    b_tile[kk * BN + nn] = value
            cuda.syncthreads()
            for kk in range(BK):
                # A view from this thread's first element: the unrolled loads below then
                # index it by constants (no per-load 64-bit address or wraparound math).
                a_from = a_tile[kk * BM + tm:]
                b_from = b_tile[kk * BN + tn:]
                for i in range(TM):
                    a_reg[i] = a_from[i * threads_m]
                for j in range(TN):
                    b_reg[j] = b_from[j * threads_n]
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()

        for i in range(TM):
            gm = row0 + tm + i * threads_m
            if gm < m_size:
                for j in range(TN):
                    gn = col0 + tn + j * threads_n
                    if gn < n_size:
                        c[z, gm, gn] = acc[i, j]

    sgemm.tiles = dict(BM=BM, BN=BN, BK=BK, TM=TM, TN=TN)
    sgemm.transposed = (trans_a, trans_b)
    sgemm.aligned = False
    sgemm.shared_bytes = 4 * (a_tile_size + b_tile_size)
    return sgemm


def sgemm_launch(kernel, m, n, batch):
    """``(grid, threads)`` for ``kernel`` (from ``make_sgemm``) on a ``batch × m × n`` output."""
    t = kernel.tiles
    return ((n + t["BN"] - 1) // t["BN"], (m + t["BM"] - 1) // t["BM"], batch), kernel.threads


_KERNELS = {}


def default_kernel(trans_a=False, trans_b=False, tiles=None, aligned=False):
    """The cached kernel for these transposes at ``tiles`` (production tiles on a GPU, tiny
    ones under the simulator, unless given), its ``aligned`` variant if asked."""
    tiles = tiles or (SIMULATOR_TILES if SIMULATED else GPU_TILES)
    key = tuple(sorted(tiles.items())) + (trans_a, trans_b, aligned)
    if key not in _KERNELS:
        _KERNELS[key] = make_sgemm(**tiles, trans_a=trans_a, trans_b=trans_b, aligned=aligned)
    return _KERNELS[key]


def _stored(x, xp):
    """``(array, transposed)``: ``x (Z, R, C)`` itself when C-contiguous, its C-contiguous
    transpose ``(Z, C, R)`` with ``True`` when ``x`` is a transposed view (``wᵀ``), else a
    C-contiguous copy."""
    if x.flags.c_contiguous:
        return x, False
    swapped = x.swapaxes(-1, -2)
    if swapped.flags.c_contiguous:
        return swapped, True
    return xp.ascontiguousarray(x), False


def batched_sgemm(a, b, tiles=None):
    """``c (Z, M, N) = a (Za, M, K) @ b (Zb, K, N)`` with ``Za, Zb ∈ {Z, 1}``, float32, any
    strides (C-contiguous or transposed views go in as they are, other layouts are copied);
    the output is allocated with the inputs' array module."""
    xp = get_array_module(a, b)
    batch = max(a.shape[0], b.shape[0])
    m, k, n = a.shape[1], a.shape[2], b.shape[2]
    c = xp.empty((batch, m, n), dtype=xp.float32)
    if c.size == 0:
        return c
    if k == 0:
        c[...] = 0
        return c
    a_stored, trans_a = _stored(a, xp)
    b_stored, trans_b = _stored(b, xp)
    kernel = default_kernel(trans_a, trans_b, tiles)
    if vector_tiles(**kernel.tiles) and is_aligned(kernel, m, n, k, a_stored, b_stored, c):
        kernel = default_kernel(trans_a, trans_b, tiles, aligned=True)     # per launch
    grid, threads = sgemm_launch(kernel, m, n, batch)
    configured(kernel, grid, threads, xp)(a_stored, b_stored, c)
    return c


def _is_float32(x):
    return getattr(x, "dtype", None) == "float32" and getattr(x, "ndim", 0) >= 1


def accepts_matmul(a, b):
    """Both float32, at least 1-D, matching inner dimensions, a grid that fits in y and z."""
    if not (_is_float32(a) and _is_float32(b)):
        return False
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != k_b:
        return False
    m = a.shape[-2] if a.ndim > 1 else 1
    bm = (SIMULATOR_TILES if SIMULATED else GPU_TILES)["BM"]
    batch = 1
    for d in _batch_shape(a, b):
        batch *= d
    n = b.shape[-1] if b.ndim > 1 else 1
    return ((m + bm - 1) // bm <= MAX_GRID_YZ and batch <= MAX_GRID_YZ
            and max(m, n, a.shape[-1]) < MAX_SIZE)


def _batch_shape(a, b):
    """The broadcast batch shape of ``a`` and ``b`` (numpy.matmul's rule)."""
    left, right = tuple(a.shape[:-2]), tuple(b.shape[:-2])
    size = max(len(left), len(right))
    left = (1,) * (size - len(left)) + left
    right = (1,) * (size - len(right)) + right
    out = []
    for x, y in zip(left, right):
        if x != y and 1 not in (x, y):
            raise ValueError(f"matmul: batch dimensions {a.shape} and {b.shape} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


def _as_batch(x, batch_shape, matrix_shape, xp):
    """``x`` viewed as ``(Z, *matrix_shape)``, or ``(1, *matrix_shape)`` when its own batch
    has one element (broadcast by the kernel); copied only when its batch must be broadcast
    partially (e.g. ``(3, 1)`` against ``(1, 4)``) or cannot be viewed flat."""
    own = 1
    for d in x.shape[:-2]:
        own *= d
    if own == 1:
        return x.reshape((1,) + matrix_shape)
    full = tuple(batch_shape) + matrix_shape
    if tuple(x.shape) != full:
        x = xp.ascontiguousarray(xp.broadcast_to(x, full))
    return x.reshape((-1,) + matrix_shape)      # a view unless the batch axes are not flat


@CATALOGUE.register("matmul", "cuda", accepts=accepts_matmul)
def matmul(a, b):
    """``a @ b`` with numpy.matmul semantics (batch broadcasting, 1-D promotion) on the
    tiled SGEMM kernel; float32 ``(..., M, K) @ (..., K, N) -> (..., M, N)``."""
    xp = get_array_module(a, b)
    a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    batch_shape = _batch_shape(a2, b2)
    m, k = a2.shape[-2:]
    n = b2.shape[-1]
    c = batched_sgemm(_as_batch(a2, batch_shape, (m, k), xp),
                      _as_batch(b2, batch_shape, (k, n), xp))
    c = c.reshape(tuple(batch_shape) + (m, n))
    if a.ndim == 1:
        c = c.reshape(c.shape[:-2] + (n,))
    if b.ndim == 1:
        c = c.reshape(c.shape[:-1])
    return c
