"""numba_cpu/_exp.py: the vectorisable exp the blockwise attention kernels use, against
numpy's exp (evaluated in float64) over the range attention feeds it, and at the edges:
−∞ → 0, 0 → 1, NaN → NaN, below the normal range → 0."""
import numpy as np
import pytest

pytest.importorskip("numba")
from minigrad_kernels.numba_cpu._exp import exp_shifted, exp_table  # noqa: E402


@pytest.mark.parametrize("dtype, max_ulp", [(np.float64, 2), (np.float32, 2)])
def test_matches_numpy_exp_within_a_few_ulp(dtype, max_ulp):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-700 if dtype == np.float64 else -87, 1e-3, 20000),
                        rng.uniform(-2, 0, 5000)]).astype(dtype)
    shift = dtype(0.25)
    got = x.copy()
    exp_shifted(got, got.size, shift, exp_table(dtype))
    # The difference is rounded to dtype first, as the kernel (and the reference) compute it.
    want = np.exp((x - shift).astype(np.float64)).astype(dtype)
    normal = want >= np.finfo(dtype).tiny
    ulps = np.abs(got[normal].astype(np.float64) - want[normal]) / np.spacing(want[normal])
    assert ulps.max() <= max_ulp
    assert (got[~normal] <= np.finfo(dtype).tiny).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_edges(dtype):
    row = np.array([-np.inf, 0.0, np.nan, -1e5, 1e-30, -np.finfo(dtype).max], dtype)
    exp_shifted(row, row.size, dtype(0), exp_table(dtype))
    assert row[0] == 0 and row[1] == 1 and np.isnan(row[2]) and row[3] == 0
    assert row[4] == 1 and row[5] == 0


def test_only_the_first_count_entries_change():
    row = np.full(5, -1.0)
    exp_shifted(row, 3, 0.0, exp_table(np.float64))
    np.testing.assert_allclose(row[:3], np.exp(-1.0), rtol=1e-15)
    assert (row[3:] == -1.0).all()
