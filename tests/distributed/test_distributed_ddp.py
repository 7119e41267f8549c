"""DistributedDataParallel under mpirun: training several steps (SGD + momentum, one
no_sync accumulation step, several buckets) gives the parameters one process gets on the
concatenated global batch, float64, to 1e-10 (scripts/ddp_equivalence.py). With
BatchNorm, each rank normalises with its own batch statistics (PyTorch's DDP too), so the
reference normalises each shard separately. Unused parameters, with and without
find_unused_parameters (scripts/ddp_unused.py). And: a rank that dies, or hangs, makes
the job fail with a clear error within seconds (scripts/rank_dies.py)."""
import time

import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.nn.parallel.reducer import assign_buckets
from tests.distributed.mpi import mpirun, values


def _check_equivalent(n, kind):
    result = mpirun(n, "ddp_equivalence.py", kind)
    (diff,), (spread,) = values(result.stdout, "MAXDIFF"), values(result.stdout, "SPREAD")
    assert diff < 1e-10, result.stdout
    assert spread == 0.0                               # all ranks bit-identical
    assert values(result.stdout, "BUCKETS")[0] >= 2
    assert values(result.stdout, "NOT_READY_AT_FIRST_LAUNCH")[0] > 0   # overlapped backward


@pytest.mark.parametrize("kind", ["mlp", "bn"])
def test_ddp_matches_one_process_on_the_global_batch_2_ranks(kind):
    _check_equivalent(2, kind)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mlp", "bn"])
def test_ddp_matches_one_process_on_the_global_batch_4_ranks(kind):
    _check_equivalent(4, kind)


def test_a_rank_that_exits_stops_the_job():
    start = time.monotonic()
    result = mpirun(2, "rank_dies.py", "exit", check=False, timeout=60)
    assert result.returncode != 0 and time.monotonic() - start < 60
    assert "FINISHED" not in result.stdout
    assert "exited with non-zero status" in result.stdout + result.stderr


def test_a_rank_that_hangs_makes_the_others_time_out():
    result = mpirun(2, "rank_dies.py", "hang", check=False, timeout=60)
    assert result.returncode != 0 and "FINISHED" not in result.stdout
    assert "all_reduce (rank 0 of 2, mpi backend) timed out after 2.0 s" in result.stderr


def test_an_async_wait_raises_the_timeout_error():
    result = mpirun(2, "rank_dies.py", "hang-async", check=False, timeout=60)
    assert result.returncode != 0
    assert "CAUGHT minigrad.distributed: all_reduce (rank 0 of 2, mpi backend) timed out " \
        "after 2.0 s" in result.stdout


def test_buckets_reverse_order_cap_and_dtype():
    params = [nn.Parameter(mg.zeros(n)) for n in (10, 20, 30, 40)]
    assert assign_buckets(params, bucket_bytes_cap=200) == [[3, 2], [1, 0]]   # float32: 4 B
    assert assign_buckets(params, bucket_bytes_cap=10 ** 6) == [[3, 2, 1, 0]]
    # the 1 MiB first bucket (PyTorch's default) cuts early; the rest use the cap
    assert assign_buckets(params, 10 ** 6, first_bucket_bytes=150) == [[3], [2, 1, 0]]
    params[1] = nn.Parameter(params[1].double())
    assert sorted(map(sorted, assign_buckets(params, 10 ** 6))) == [[0, 2, 3], [1]]


def test_ddp_needs_a_process_group():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))


def test_unused_parameters_like_pytorch():
    result = mpirun(2, "ddp_unused.py")
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("OK")) == \
        ["OK 0", "OK 1"]
