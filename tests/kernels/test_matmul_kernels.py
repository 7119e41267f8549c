"""matmul kernel: numpy.matmul semantics (batch broadcasting, 1-D promotion), dtype kept."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad_kernels as kernels

# These tests describe the reference implementations (see conftest.reference_kernels).
pytestmark = pytest.mark.usefixtures("reference_kernels")


@st.composite
def matmul_operands(draw):
    """Shapes for ``a @ b`` with broadcastable batch dims, sometimes 1-D operands."""
    m, k, n = (draw(st.integers(1, 5)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    # Each batch dim of either operand may be 1 (broadcast) or dropped entirely.
    a_batch = [d if draw(st.booleans()) else 1 for d in batch]
    b_batch = [d if draw(st.booleans()) else 1 for d in batch]
    if draw(st.booleans()):
        a_batch = a_batch[draw(st.integers(0, len(a_batch))):]
    a_shape = (k,) if draw(st.integers(0, 4)) == 0 else tuple(a_batch) + (m, k)
    b_shape = (k,) if draw(st.integers(0, 4)) == 0 else tuple(b_batch) + (k, n)
    seed = draw(st.integers(0, 2**31 - 1))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(seed)
    return rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)


@settings(deadline=None, max_examples=25)
@given(matmul_operands())
def test_matmul_matches_float64_numpy(operands):
    a, b = operands
    out = kernels.matmul(a, b)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert out.shape == expected.shape and out.dtype == a.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@settings(deadline=None, max_examples=25)
@given(matmul_operands())
def test_matmul_matches_torch(operands):
    torch = pytest.importorskip("torch")
    a, b = operands
    expected = torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    out = kernels.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_matmul_accepts_non_contiguous_views():
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    a = base.transpose(0, 2, 1)                               # (2, 4, 3), strided
    b = base[:, :, ::2]                                       # (2, 3, 2), strided
    np.testing.assert_array_equal(kernels.matmul(a, b), np.ascontiguousarray(a) @ np.ascontiguousarray(b))


def test_matmul_rejects_mismatched_inner_dimensions_and_scalars():
    with pytest.raises(ValueError, match="inner dimensions"):
        kernels.matmul(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least one dimension"):
        kernels.matmul(np.float64(2.0), np.ones(3))


def test_this_module_runs_with_every_backend_switched_off():
    from minigrad_kernels.catalogue import CATALOGUE
    assert not any(CATALOGUE.is_enabled(backend) for backend in ("numba", "cuda"))
