"""SGEMM in numba.cuda: shared-memory tiles with register blocking (CUDA twin of
``reference/matmul.py``).

    c[z, i, j] = Σ_k a[z, i, k] · b[z, k, j]           a (Z|1, M, K), b (Z|1, K, N) -> c (Z, M, N)

A block of ``(BM/TM)·(BN/TN)`` threads owns a ``BM × BN`` tile of one batch entry ``z``
(grid ``(⌈N/BN⌉, ⌈M/BM⌉, Z)``).  Per step of ``BK`` along K it stages the A tile
transposed (``As[k][m]``) and the B tile (``Bs[k][n]``) in shared memory, zero-filling
past the ragged edges, then each thread accumulates a ``TM × TN`` outer-product tile in
registers: for each ``k`` it loads ``TM`` values of ``As[k]`` and ``TN`` of ``Bs[k]``
into registers and does ``TM·TN`` FMAs.  A thread's rows are ``tm + i·(BM/TM)`` and its
columns ``tn + j·(BN/TN)`` (strided, not contiguous): neighbouring threads then read
neighbouring shared words (no bank conflicts) and write neighbouring output columns
(coalesced).  Transposes are compile-time flags of the factory: a transposed view
(``wᵀ``, ``aᵀ @ dc``) goes in as its C-contiguous storage and the kernel indexes it the
other way round, so neither it nor a broadcast batch of 1 is copied (other strided layouts
are).  Only float32 is handled, accumulated in float32.

numba costs found in the SASS (``cuobjdump -sass``, sm_90) and avoided here: the staging
indices are hoisted out of the k loop into int32 local arrays with constant trip counts
(the outer loop went from 1 271 to 522 instructions); the shared tiles are flat and each
k-step reads them through a slice starting at the thread's first element, so the
unrolled register loads use constant indices (no per-load 64-bit address and negative-
index wraparound math: the k-step went from 174 to 122 instructions, 52 % FFMA) and the
kernel fits 122 registers (2 blocks of 256 threads per SM).

Not yet: double buffering / cp.async, float4 (``LDS.128``) loads, a hand-unrolled k-step,
an int32 pointer signature (see ``GPU-kernels.md``); no GPU has timed it.
"""
from numba import cuda, float32, int32

from ..catalogue import CATALOGUE, get_array_module
from ._launch import SIMULATED, configured, kernel_jit

# Production tiles (256 threads, 8×8 outputs each) and the simulator's tiny ones.
GPU_TILES = dict(BM=128, BN=128, BK=8, TM=8, TN=8)
SIMULATOR_TILES = dict(BM=4, BN=4, BK=4, TM=2, TN=2)
MAX_GRID_YZ = 65535


def make_sgemm(BM=128, BN=128, BK=8, TM=8, TN=8, trans_a=False, trans_b=False):
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
    return sgemm


def sgemm_launch(kernel, m, n, batch):
    """``(grid, threads)`` for ``kernel`` (from ``make_sgemm``) on a ``batch × m × n`` output."""
    t = kernel.tiles
    return ((n + t["BN"] - 1) // t["BN"], (m + t["BM"] - 1) // t["BM"], batch), kernel.threads


_KERNELS = {}


def default_kernel(trans_a=False, trans_b=False, tiles=None):
    """The cached kernel for these transposes at ``tiles`` (production tiles on a GPU, tiny
    ones under the simulator, unless given)."""
    tiles = tiles or (SIMULATOR_TILES if SIMULATED else GPU_TILES)
    key = tuple(sorted(tiles.items())) + (trans_a, trans_b)
    if key not in _KERNELS:
        _KERNELS[key] = make_sgemm(**tiles, trans_a=trans_a, trans_b=trans_b)
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
    return (m + bm - 1) // bm <= MAX_GRID_YZ and batch <= MAX_GRID_YZ


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
