"""The numba pooling kernels on the cases the parity harness's random normals never draw:
ties, NaN, −∞ windows, overlapping windows picking one pixel, and rejected arguments.
Each is compared with the reference bit for bit (values and int64 indices)."""
import numpy as np
import pytest

from minigrad_kernels.catalogue import CATALOGUE

pytest.importorskip("numba")
from minigrad_kernels.numba_cpu import pooling  # noqa: E402

inf, nan = np.inf, np.nan
REFERENCE_MAX = CATALOGUE.reference_impl("max_pool2d_forward")
REFERENCE_MAX_BACKWARD = CATALOGUE.reference_impl("max_pool2d_backward")

SPECIAL_PLANES = [
    np.array([[-inf, -inf], [-inf, 1.0]]),
    np.array([[nan, 2.0, 1.0], [nan, 1.0, -inf], [0.0, nan, -inf]]),
    np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]),            # all ties
    np.array([[-inf, -inf, -inf], [-inf, -inf, -inf], [-inf, nan, -inf]]),
    np.array([[2.0, nan, 2.0, nan], [nan, 2.0, 3.0, 3.0], [3.0, 3.0, nan, -inf]]),
]
WINDOWS = [((2, 2), (1, 1), (1, 1), (1, 1), False),
           ((2, 2), (2, 2), (1, 1), (1, 1), True),
           ((3, 2), (1, 2), (1, 0), (1, 1), True),
           ((2, 2), (1, 1), (0, 0), (2, 1), False)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("plane", range(len(SPECIAL_PLANES)))
def test_max_pool_ties_nan_and_infinity_match_the_reference_exactly(plane, window, dtype):
    x = np.broadcast_to(SPECIAL_PLANES[plane].astype(dtype), (2, 3) + SPECIAL_PLANES[plane].shape)
    try:
        want_y, want_indices = REFERENCE_MAX(x, *window)
    except ValueError:
        with pytest.raises(ValueError):
            pooling.max_pool2d_forward(x, *window)
        return
    y, indices = pooling.max_pool2d_forward(x, *window)
    np.testing.assert_array_equal(y, want_y)
    assert y.dtype == want_y.dtype and indices.dtype == np.int64
    np.testing.assert_array_equal(indices, want_indices)
    dy = np.arange(y.size, dtype=dtype).reshape(y.shape)
    np.testing.assert_array_equal(pooling.max_pool2d_backward(dy, indices, x.shape),
                                  REFERENCE_MAX_BACKWARD(dy, want_indices, x.shape))


def test_bad_arguments_are_rejected_like_the_reference():
    x = np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="at most half"):
        pooling.max_pool2d_forward(x, (2, 2), (1, 1), (2, 2), (1, 1), False)
    with pytest.raises(ValueError, match="at most half"):
        pooling.avg_pool2d_forward(x, (2, 2), (1, 1), (2, 0), False, True)
    with pytest.raises(ValueError, match="only padding"):
        pooling.max_pool2d_forward(x, (2, 2), (1, 1), (1, 1), (3, 3), False)
    with pytest.raises(ValueError, match="outside"):
        pooling.max_pool2d_backward(np.ones((1, 1, 1, 1)), np.full((1, 1, 1, 1), 4), x.shape)


@pytest.mark.usefixtures("unforced_kernels")
def test_dispatch_declines_what_the_kernels_do_not_handle():
    half = np.ones((1, 1, 4, 4), dtype=np.float16)
    assert CATALOGUE.select("max_pool2d_forward", half, (2, 2), (2, 2), (0, 0), (1, 1),
                            False)[0] == "reference"
    assert CATALOGUE.select("avg_pool2d_forward", half.astype(np.float32), (2, 2), (2, 2),
                            (0, 0), False, True)[0] == "numba"
