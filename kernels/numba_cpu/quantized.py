"""int8 GEMM for quantised layers (numba twin of ``reference/quantized.py``).

    c[i, j] = Σ_k a[i, k] · b[j, k]       a (M, K) int8, b (N, K) int8 → (M, N) int32

Both operands are widened once to int16 and the inner loop is a dot product of two
contiguous int16 rows with an int32 accumulator. Integer addition is associative, so LLVM
vectorises the reduction without any fast-math flag, into multiply-add-pairs of 16-bit
lanes (``vpmaddwd``, or the VNNI ``vpdpwssd`` where the CPU has it); the result equals
the reference bit for bit. Rows of ``a`` run on numba's thread pool (``prange``).
For a short inner size (K < 32: a first conv layer's 1·3·3 = 9 taps) a dot product cannot
fill a vector; there the kernel runs the axpy form instead, ``out[i, :] += a[i, k]·b[:, k]``,
vectorised over the N outputs with int32 lanes (measured 4× faster than the dot form at
K = 9, 2.4× slower at K = 288). The measured speed against float32 BLAS is in
docs/quantization.md.
"""
from ..catalogue import CATALOGUE, get_array_module
from ._jit import jit, prange

np = get_array_module()

_INT8 = (np.dtype(np.int8), np.dtype(np.uint8))


@jit(parallel=True)
def int8_gemm_rows(a16, b16, out):
    """``out[i, j] = Σ_k a16[i, k]·b16[j, k]`` in int32 (int16 operands)."""
    m, k_size = a16.shape
    n = b16.shape[0]
    for i in prange(m):
        for j in range(n):
            acc = np.int32(0)
            for k in range(k_size):
                acc += np.int32(a16[i, k] * b16[j, k])
            out[i, j] = acc


@jit(parallel=True)
def int8_gemm_axpy(a, b_t, out):
    """``out[i, :] = Σ_k a[i, k]·b_t[k, :]`` (``b_t (K, N)`` int32), vectorised over N."""
    m, k_size = a.shape
    n = b_t.shape[1]
    for i in prange(m):
        for j in range(n):
            out[i, j] = 0
        for k in range(k_size):
            x = np.int32(a[i, k])
            for j in range(n):
                out[i, j] += x * b_t[k, j]


#: Below this inner size the axpy form is used (measured at K = 9 and K = 288).
SHORT_K = 32


def accepts(a, b):
    """2-D 8-bit integer operands with one inner size (numpy; any layout)."""
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.ndim == 2
            and b.ndim == 2 and a.shape[1] == b.shape[1] and a.dtype in _INT8
            and b.dtype in _INT8)


@CATALOGUE.register("int8_gemm", "numba", accepts=accepts)
def int8_gemm(a, b):
    """``a (M, K) @ b (N, K)ᵀ → (M, N) int32``, exact."""
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    if a.shape[1] < SHORT_K:
        int8_gemm_axpy(np.ascontiguousarray(a), np.ascontiguousarray(b.T, dtype=np.int32), out)
        return out
    int8_gemm_rows(np.ascontiguousarray(a, dtype=np.int16),
                   np.ascontiguousarray(b, dtype=np.int16), out)
    return out
