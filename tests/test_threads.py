"""``minigrad.set_num_threads`` / ``get_num_threads`` (minigrad/threads.py): the round trip,
PyTorch's errors, and that both pools really change size: the BLAS pool (threadpoolctl)
and numba's (capped at ``NUMBA_NUM_THREADS``)."""
import pytest
from threadpoolctl import threadpool_info

import minigrad as mg


@pytest.fixture(autouse=True)
def restore_thread_count():
    before = mg.get_num_threads()
    yield
    mg.set_num_threads(before)


def blas_pool_sizes():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_set_get_round_trip_and_blas_pool(n):
    mg.set_num_threads(n)
    assert mg.get_num_threads() == n
    assert blas_pool_sizes() <= {n}       # every BLAS that numpy loaded now has n threads


def test_numba_pool_follows_capped_at_its_size():
    numba = pytest.importorskip("numba")
    mg.set_num_threads(1)
    assert numba.get_num_threads() == 1
    big = numba.config.NUMBA_NUM_THREADS + 5
    mg.set_num_threads(big)                # accepted, as by PyTorch; numba gets its maximum
    assert mg.get_num_threads() == big
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS


@pytest.mark.parametrize("value,message", [
    (0, "expects a positive integer"), (-1, "expects a positive integer"),
    (1.5, "expects an int, but got float"), (True, "expects an int, but got bool"),
    ("2", "expects an int, but got str")])
def test_invalid_counts_raise_like_torch(value, message):
    before = mg.get_num_threads()
    with pytest.raises(RuntimeError, match=message):
        mg.set_num_threads(value)
    assert mg.get_num_threads() == before


def test_errors_match_torch():
    torch = pytest.importorskip("torch")
    for value in (0, -3, 1.5):
        with pytest.raises(RuntimeError) as ours:
            mg.set_num_threads(value)
        with pytest.raises(RuntimeError) as theirs:
            torch.set_num_threads(value)
        assert str(ours.value) == str(theirs.value)
