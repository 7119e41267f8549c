"""Reference matrix product with ``numpy.matmul`` semantics.

    c[..., i, j] = Σ_k a[..., i, k] · b[..., k, j]

Shapes: ``a (..., M, K) @ b (..., K, N) -> (..., M, N)``; leading (batch) dimensions
broadcast against each other; a 1-D ``a (K,)`` is treated as ``(1, K)`` and a 1-D
``b (K,)`` as ``(K, 1)``, the added dimension being removed from the result.  The VJP,
which minigrad's MatMul writes with Tensor ops, is

    da = dc @ bᵀ,   db = aᵀ @ dc   (then summed over broadcast batch dims).

The reference is the array module's own matmul (BLAS on numpy, cuBLAS on CuPy): it is
the oracle optimised tiled kernels are measured against, not something to beat here.
"""
from ..catalogue import CATALOGUE, get_array_module


@CATALOGUE.reference("matmul")
def matmul(a, b):
    """``a @ b`` with batch broadcasting and 1-D promotion; dtype follows numpy promotion."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least one dimension")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: inner dimensions differ, {tuple(a.shape)} @ {tuple(b.shape)}")
    xp = get_array_module(a, b)
    return xp.matmul(a, b)
