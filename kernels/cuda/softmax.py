"""Fused row softmax and log-softmax in numba.cuda (CUDA twins of ``reference/softmax.py``).

One block of ``threads`` threads per row of ``x (R, C)``; each thread strides over the row
(``j = t, t + threads, …``, so a warp reads consecutive words), and the block combines the
per-thread partials through a shared-memory tree (no warp shuffles, so the simulator runs
the same path as the GPU):

    m = max_j x_j                       (block_max)
    s = Σ_j exp(x_j − m)                (block_sum)
    softmax_j = exp(x_j − m) · (1/s)    log_softmax_j = (x_j − m) − log s

Three reads and one write of the row, one launch.  NaN and ±∞ rows come out NaN like the
reference (an infinite max makes ``x − m`` NaN somewhere in the row, which poisons ``s``).
float32 only; the sum is accumulated in float32 per thread, then by the tree.
"""
import math

from numba import cuda, float32

from ..catalogue import CATALOGUE, get_array_module
from ._launch import NEG_INF, SIMULATED, configured, kernel_jit, make_block_reductions

GPU_THREADS = 256
SIMULATOR_THREADS = 4
MAX_GRID_X = 2**31 - 1


def make_softmax(threads=256, log=False):
    """``kernel[rows, threads](x, out)``: row softmax (``log=False``) or log-softmax of a
    C-contiguous float32 ``x (R, C)`` into ``out (R, C)``, one block per row."""
    block_max, block_sum = make_block_reductions(threads)

    @kernel_jit(threads)
    def softmax_rows(x, out):
        scratch = cuda.shared.array(threads, float32)
        r = cuda.blockIdx.x
        t = cuda.threadIdx.x
        cols = x.shape[1]
        m = NEG_INF
        for j in range(t, cols, threads):
            m = max(m, x[r, j])
        m = block_max(scratch, m)
        total = float32(0.0)
        for j in range(t, cols, threads):
            total += math.exp(x[r, j] - m)
        total = block_sum(scratch, total)
        if log:
            log_total = math.log(total)
            for j in range(t, cols, threads):
                out[r, j] = (x[r, j] - m) - log_total
        else:
            scale = float32(1.0) / total
            for j in range(t, cols, threads):
                out[r, j] = math.exp(x[r, j] - m) * scale

    return softmax_rows


_KERNELS = {}


def _kernel(log):
    threads = SIMULATOR_THREADS if SIMULATED else GPU_THREADS
    key = (threads, log)
    if key not in _KERNELS:
        _KERNELS[key] = make_softmax(threads, log)
    return _KERNELS[key]


def softmax_rows(x, log=False, kernel=None):
    """Row (log-)softmax of a float32 ``x (R, C)``; any layout (copied to C order first),
    output C-contiguous and allocated with ``x``'s array module."""
    kernel = kernel or _kernel(log)
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    out = xp.empty_like(x)
    if x.size:
        configured(kernel, x.shape[0], kernel.threads, xp)(x, out)
    return out


def accepts_along_axis(x, axis):
    """float32, at least 1-D, non-empty, an int axis, and at most 2³¹ − 1 rows."""
    if getattr(x, "dtype", None) != "float32" or getattr(x, "ndim", 0) < 1 or x.size == 0:
        return False
    if isinstance(axis, bool) or not hasattr(axis, "__index__"):
        return False
    if not -x.ndim <= int(axis) < x.ndim:
        return False
    return x.size // x.shape[int(axis)] <= MAX_GRID_X


def _along_axis(x, axis, log):
    xp = get_array_module(x)
    axis = int(axis) % x.ndim
    moved = xp.moveaxis(x, axis, -1)
    out = softmax_rows(moved.reshape(-1, x.shape[axis]), log)
    return xp.moveaxis(out.reshape(moved.shape), -1, axis)


@CATALOGUE.register("softmax", "cuda", accepts=accepts_along_axis)
def softmax(x, axis):
    """``exp(x − max) / Σ exp(x − max)`` along ``axis``; ``x (...)`` → same shape, float32."""
    return _along_axis(x, axis, log=False)


@CATALOGUE.register("log_softmax", "cuda", accepts=accepts_along_axis)
def log_softmax(x, axis):
    """``(x − max) − log Σ exp(x − max)`` along ``axis``; same shape, float32."""
    return _along_axis(x, axis, log=True)
