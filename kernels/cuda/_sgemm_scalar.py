"""The scalar SGEMM kernel factory (the "scalar design" of ``matmul.py``'s docstring):
one shared stage filled an element at a time with bounds checks, scalar ``LDS`` k-steps;
for tiles the float4 design does not fit.  ``matmul.make_sgemm`` is the public entry."""
from numba import cuda, float32, int32

from ._launch import kernel_jit


def make_scalar_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b):
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
