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
from ..catalogue import CATALOGUE, get_array_module
from ._launch import SIMULATED, configured
from ._sgemm_scalar import make_scalar_sgemm
from ._sgemm_vector import PAD, make_vector_sgemm

__all__ = ["GPU_TILES", "GPU_CANDIDATE_TILES", "SIMULATOR_TILES", "PAD", "make_sgemm", "vector_tiles", "is_aligned",
           "sgemm_launch", "default_kernel", "batched_sgemm", "accepts_matmul", "matmul"]

# Production tiles (256 threads, 8×8 outputs each) and the simulator's tiny ones.
GPU_TILES = dict(BM=128, BN=128, BK=8, TM=8, TN=8)
# Candidates for problems too small to fill 132 SMs with 128² tiles (1024³: 64 blocks):
# 64×128 (8×8 per thread, 128 threads, the same k-step mix) and 64×64 (8×4, 128 threads).
# Compiled by ``_compile``, checked and timed by ``gpu_check``; the wrapper launches
# GPU_TILES until a GPU says otherwise.
GPU_CANDIDATE_TILES = {"64x128": dict(BM=64, BN=128, BK=8, TM=8, TN=8),
                       "64x64": dict(BM=64, BN=64, BK=8, TM=8, TN=4)}
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
    float4 kernel (``_sgemm_vector``), others the scalar one (``_sgemm_scalar``).  ``aligned`` (vector
    design only) drops every bounds check and loads/stores four floats at once: launch it
    only where ``is_aligned`` holds (M, N, K multiples of BM, BN, BK, 16-byte aligned data).
    """
    if BM % TM or BN % TN:
        raise ValueError(f"tile {BM}×{BN} is not a multiple of the thread tile {TM}×{TN}")
    if vector_tiles(BM, BN, BK, TM, TN):
        return make_vector_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b, aligned)
    if aligned:
        raise ValueError(f"tiles {BM}×{BN}×{BK}/{TM}×{TN} have no aligned (float4) variant")
    return make_scalar_sgemm(BM, BN, BK, TM, TN, trans_a, trans_b)


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
