"""The float4 SGEMM kernel factory (the "vector design" of ``matmul.py``'s docstring):
two shared stages, register prefetch of the next k-tile, ``LDS.128`` k-steps unrolled by
hand, and an ``aligned`` variant without bounds checks that loads and stores four floats
at once (``_vector``).  ``matmul.make_sgemm`` is the public entry."""
from numba import cuda, float32, int32, int64

from ._launch import SIMULATED, kernel_jit
from ._vector import load1, load4, store1, store4


RESIDENT_THREADS = 512   # aligned variants: ≥ 16 warps per SM, so ≤ 128 registers a thread
PAD = 4         # floats after each shared row: 16-byte rows, conflict-free transposed stores


def make_vector_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b, aligned):
    """The pipelined float4 SGEMM kernel (``matmul.make_sgemm`` documents the call)."""
    threads_m, threads_n = BM // TM, BN // TN
    threads = threads_m * threads_n
    groups_m, groups_n = TM // 4, TN // 4            # 4-wide register groups per thread
    stride_m, stride_n = 4 * threads_m, 4 * threads_n
    lda, ldb = BM + PAD, BN + PAD                     # shared row lengths
    a_size, b_size = BK * lda, BK * ldb
    stage = a_size + b_size
    smem_floats = 2 * stage                           # (shared sizes: constants too)
    a_groups = BM * BK // 4 // threads                # float4 groups staged per thread
    b_groups = BK * BN // 4 // threads
    a_floats, b_floats = 4 * a_groups, 4 * b_groups   # (local array sizes: constants)
    a_row_groups = (BM if trans_a else BK) // 4       # groups along A's contiguous axis
    b_row_groups = (BK if trans_b else BN) // 4
    warp_layout = threads % 32 == 0 and threads_n % 8 == 0 and threads_m % 4 == 0
    warp_cols = threads_n // 8
    unroll = 8 if BK % 8 == 0 else 4

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

    @kernel_jit(threads, blocks_per_sm=max(1, RESIDENT_THREADS // threads) if aligned else None)
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
        if SIMULATED:       # numba's own simulator takes no alignment (numba-cuda's takes None)
            tiles = cuda.shared.array(smem_floats, float32)
        else:               # a compile-time constant: numba prunes the dead branch
            tiles = cuda.shared.array(smem_floats, float32, alignment=16)
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

        # The epilogue's origin and bounds, computed before the k loop so that only these
        # three stay live across it (fewer registers there than z, tm, tn, row0, col0).
        c_at = (int64(z) * m_size + row0 + tm * 4) * n_size + col0 + tn * 4
        rows_left = m_size - row0 - tm * 4
        cols_left = n_size - col0 - tn * 4

        fetch(a, b, a_off, b_off, a_kp, b_kp, a_buf, b_buf, 0, k_size)
        put(tiles, 0, a_sh, b_sh, a_buf, b_buf)
        cuda.syncthreads()
        base = 0
        for k0 in range(BK, k_size + BK, BK):   # k0: the next tile's first k
            more = k0 < k_size
            if more:        # the next tile into registers; the loads land during the FMAs
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
