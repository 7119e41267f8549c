"""int8_gemm: every implementation equals the exact integer product (ragged and large K,
the extreme codes), and the reference rejects what it cannot take."""
import numpy as np
import pytest

import minigrad_kernels as kernels
from minigrad_kernels.catalogue import CATALOGUE

IMPLEMENTATIONS = [("reference", CATALOGUE.reference_impl("int8_gemm"))] + [
    (backend, fn) for backend, fn, _ in CATALOGUE.implementations("int8_gemm")]


@pytest.mark.parametrize("name,fn", IMPLEMENTATIONS, ids=[n for n, _ in IMPLEMENTATIONS])
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 2), (17, 33, 9), (64, 1601, 13)])
def test_int8_gemm_is_exact(name, fn, m, k, n):
    rng = np.random.default_rng(m * k + n)
    a = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (n, k)).astype(np.int8)
    a[0], b[0] = -128, -128                      # the largest product, K times
    want = a.astype(np.int64) @ b.astype(np.int64).T
    got = fn(a, b)
    assert got.dtype == np.int32 and got.shape == (m, n)
    np.testing.assert_array_equal(got, want)


def test_dispatch_and_errors():
    a = np.ones((2, 3), np.int8)
    np.testing.assert_array_equal(kernels.int8_gemm(a, a), np.full((2, 2), 3))
    with pytest.raises(ValueError, match="expected a"):
        CATALOGUE.reference_impl("int8_gemm")(a, np.ones((2, 4), np.int8))
    with pytest.raises(TypeError, match="8-bit"):
        CATALOGUE.reference_impl("int8_gemm")(a.astype(np.float32), a)
