"""GELU forward and backward in numba.cuda (CUDA twins of ``reference/pointwise.py``).

One thread per element of the flattened, C-contiguous float32 input, grid-stride (each
thread walks ``i, i + stride, …``) so the grid can be capped.  The exact form reads
``erf`` from libdevice (``erff``, ≤ 2 ulp), the tanh form ``tanhf``:

    gelu(x)        = ½ x (1 + erf(x/√2))            gelu′(x)      = Φ(x) + x φ(x)
    gelu_tanh(x)   = ½ x (1 + tanh u),  u = k(x + 0.044715 x³),  k = √(2/π)
    gelu_tanh′(x)  = ½(1 + tanh u) + ½ x (1 − tanh² u) k (1 + 3·0.044715 x²)

and the backward kernels write ``dx = dy · gelu′(x)`` in the same pass (one read of x and
dy, one write).  Every constant is a float32, so no float64 reaches the GPU code.
"""
import math

from numba import cuda, float32

from ..catalogue import CATALOGUE, get_array_module
from ._launch import SIMULATED, configured, kernel_jit

GPU_THREADS = 256
SIMULATOR_THREADS = 16
# Blocks per launch at most: 132 SMs × 16 resident blocks of 256 threads, grid-stride beyond.
GPU_MAX_BLOCKS = 132 * 16
SIMULATOR_MAX_BLOCKS = 4

HALF = float32(0.5)
ONE = float32(1.0)
SQRT_HALF = float32(math.sqrt(0.5))
INV_SQRT_2PI = float32(1.0 / math.sqrt(2.0 * math.pi))
TANH_SCALE = float32(math.sqrt(2.0 / math.pi))
CUBIC = float32(0.044715)
CUBIC3 = float32(3 * 0.044715)


def make_gelu(threads=256, approximate="none", backward=False):
    """``kernel[blocks, threads](x, dy, out)`` over flat float32 arrays of one length:
    ``out = gelu(x)`` (``dy`` unused, pass ``x``) or, with ``backward``, ``out = dy·gelu′(x)``;
    ``approximate`` is ``"none"`` (erf) or ``"tanh"``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    tanh_form = approximate == "tanh"

    @kernel_jit(threads)
    def gelu_flat(x, dy, out):
        start = cuda.blockIdx.x * threads + cuda.threadIdx.x
        stride = cuda.gridDim.x * threads
        for i in range(start, x.shape[0], stride):
            v = x[i]
            if tanh_form:
                t = math.tanh(TANH_SCALE * (v + CUBIC * v * v * v))
                if backward:
                    inner = TANH_SCALE * (ONE + CUBIC3 * v * v)
                    out[i] = dy[i] * (HALF * (ONE + t) + HALF * v * (ONE - t * t) * inner)
                else:
                    out[i] = HALF * v * (ONE + t)
            else:
                cdf = HALF * (ONE + math.erf(v * SQRT_HALF))
                if backward:
                    pdf = math.exp(-HALF * v * v) * INV_SQRT_2PI
                    out[i] = dy[i] * (cdf + v * pdf)
                else:
                    out[i] = v * cdf

    return gelu_flat


_KERNELS = {}


def _kernel(approximate, backward):
    threads = SIMULATOR_THREADS if SIMULATED else GPU_THREADS
    key = (threads, approximate, backward)
    if key not in _KERNELS:
        _KERNELS[key] = make_gelu(threads, approximate, backward)
    return _KERNELS[key]


def gelu_flat(x, dy=None, approximate="none", kernel=None):
    """``gelu(x)`` (``dy`` None) or ``dy·gelu′(x)`` of a float32 array of any shape and
    layout (copied to C order), output allocated with ``x``'s array module, ``x``'s shape."""
    backward = dy is not None
    kernel = kernel or _kernel(approximate, backward)
    xp = get_array_module(x, dy)
    flat = xp.ascontiguousarray(x).reshape(-1)
    grad = xp.ascontiguousarray(dy).reshape(-1) if backward else flat
    out = xp.empty_like(flat)
    if flat.size:
        max_blocks = SIMULATOR_MAX_BLOCKS if SIMULATED else GPU_MAX_BLOCKS
        blocks = min(max_blocks, (flat.size + kernel.threads - 1) // kernel.threads)
        configured(kernel, blocks, kernel.threads, xp)(flat, grad, out)
    return out.reshape(x.shape)


def accepts_unary(x):
    """A non-empty float32 array."""
    return getattr(x, "dtype", None) == "float32" and x.size > 0


def accepts_backward(dy, x):
    """float32 ``dy`` and ``x`` of one shape, non-empty."""
    return (accepts_unary(x) and getattr(dy, "dtype", None) == "float32"
            and tuple(dy.shape) == tuple(x.shape))


@CATALOGUE.register("gelu", "cuda", accepts=accepts_unary)
def gelu(x):
    """``½ x (1 + erf(x/√2))`` elementwise, float32, shape of ``x``."""
    return gelu_flat(x, approximate="none")


@CATALOGUE.register("gelu_tanh", "cuda", accepts=accepts_unary)
def gelu_tanh(x):
    """``½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))`` elementwise, float32."""
    return gelu_flat(x, approximate="tanh")


@CATALOGUE.register("gelu_backward", "cuda", accepts=accepts_backward)
def gelu_backward(dy, x):
    """``dy · (Φ(x) + x φ(x))``, the shape of ``x``."""
    return gelu_flat(x, dy, approximate="none")


@CATALOGUE.register("gelu_tanh_backward", "cuda", accepts=accepts_backward)
def gelu_tanh_backward(dy, x):
    """``dy · gelu_tanh′(x)``, the shape of ``x``."""
    return gelu_flat(x, dy, approximate="tanh")
