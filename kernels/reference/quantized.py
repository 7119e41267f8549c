"""Reference integer GEMM for int8 quantised layers.

    c[i, j] = Σ_k int32(a[i, k]) · int32(b[j, k])         a (M, K) int8, b (N, K) int8
                                                           → c (M, N) int32

``b`` is stored row per output feature, like a Linear weight ``(out, in)``, so a
quantised Linear is ``int8_gemm(x_q, w_q)`` and the float result is
``s_x · s_w[j] · (c[i, j] − z_x · Σ_k b[j, k])`` (symmetric weights: ``z_w = 0``).
Exact: with |a|, |b| ≤ 128 each product is ≤ 2¹⁴ and K up to 2¹⁷ terms fit in int32.
The reference widens to int32 and calls the array module's integer matmul (numpy's
non-BLAS loop, not fast: it is the oracle the numba kernel is checked against, bit for bit).
"""
from ..catalogue import CATALOGUE, get_array_module


@CATALOGUE.reference("int8_gemm")
def int8_gemm(a, b):
    """``a (M, K) int8 @ b (N, K)ᵀ int8 → (M, N) int32``, exact."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"int8_gemm: expected a (M, K) and b (N, K), got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu" or a.dtype.itemsize != 1 \
            or b.dtype.itemsize != 1:
        raise TypeError(f"int8_gemm: operands must be 8-bit integers, got {a.dtype} and {b.dtype}")
    xp = get_array_module(a, b)
    return xp.matmul(a.astype(xp.int32), b.astype(xp.int32).T)
