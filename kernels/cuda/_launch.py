"""Shared plumbing of the numba.cuda kernels: simulator detection, block reductions and the
launch on the input's stream.

``SIMULATED`` is true when numba runs kernels in its CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, set before numba is imported): kernels then take numpy
arrays and every simulated thread costs ~0.2 ms, so the wrappers pick tiny tiles there and
production tiles on a GPU (each factory takes its tile sizes as parameters; the simulator
tests build their own tiny ones).  Nothing here imports CuPy: a wrapper gets its array
module from its input (``get_array_module``), so under the simulator it allocates numpy
arrays and on a GPU CuPy arrays.

Simulator rules kept here: no warp shuffles (reductions go through shared memory), one
``cuda.shared.array`` declaration per source line, no ``lineinfo``/``launch_bounds``
keywords.
"""
import math

from numba import cuda, float32

try:                                   # numba-cuda keeps its own config module
    from numba.cuda import config as _config
except ImportError:                    # numba's built-in CUDA target
    from numba.core import config as _config

SIMULATED = bool(_config.ENABLE_CUDASIM)


def is_power_of_two(n):
    return n >= 1 and (n & (n - 1)) == 0


def make_block_reductions(threads):
    """``(block_max, block_sum)`` device functions over one value per thread of a 1-D block
    of ``threads`` (a power of two) threads, through the shared buffer ``scratch`` of
    ``threads`` floats.  Every thread of the block must call them (they hold barriers);
    every thread gets the result."""
    if not is_power_of_two(threads):
        raise ValueError(f"block reductions need a power-of-two thread count, got {threads}")

    @cuda.jit(device=True, inline=True)
    def block_max(scratch, value):
        t = cuda.threadIdx.x
        scratch[t] = value
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if t < step:
                scratch[t] = max(scratch[t], scratch[t + step])
            cuda.syncthreads()
            step //= 2
        result = scratch[0]
        cuda.syncthreads()                # scratch is reused by the next reduction
        return result

    @cuda.jit(device=True, inline=True)
    def block_sum(scratch, value):
        t = cuda.threadIdx.x
        scratch[t] = value
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if t < step:
                scratch[t] = scratch[t] + scratch[t + step]
            cuda.syncthreads()
            step //= 2
        result = scratch[0]
        cuda.syncthreads()
        return result

    return block_max, block_sum


NEG_INF = float32(-math.inf)


def kernel_jit(threads, blocks_per_sm=None):
    """``cuda.jit`` for a kernel always launched with ``threads`` threads per block: on a
    GPU it passes ``launch_bounds=(threads,)`` (ptxas then budgets registers for that block
    size: it took the first 128×128 SGEMM from 205 to 148 registers, no spills); the simulator
    rejects the keyword, so there it is plain ``cuda.jit``.  The bound is kept on the
    kernel as ``.launch_bounds`` for ``_compile`` to pass to ``compile_ptx``.
    ``blocks_per_sm`` adds the minimum resident blocks per SM to the bound (ptxas then caps
    the registers at 64 K / (threads · blocks_per_sm))."""
    bounds = (threads,) if blocks_per_sm is None else (threads, blocks_per_sm)

    def decorate(function):
        if SIMULATED:
            kernel = cuda.jit(function)
        else:
            kernel = cuda.jit(launch_bounds=bounds)(function)
        kernel.launch_bounds = bounds
        kernel.threads = threads
        return kernel
    return decorate


def configured(kernel, grid, block, xp):
    """``kernel[grid, block]`` on the current CuPy stream when ``xp`` is CuPy (so the launch
    orders with CuPy's own work), on the default stream otherwise (the simulator)."""
    if xp.__name__ == "cupy":
        pointer = xp.cuda.get_current_stream().ptr
        if pointer:                       # 0 is the legacy default stream: numba's default too
            return kernel[grid, block, cuda.external_stream(pointer)]
    return kernel[grid, block]
