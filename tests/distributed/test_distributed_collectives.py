"""minigrad.distributed's collectives under ``mpirun -n 2`` (and 3, an uneven world):
every op's result against the value computed from all ranks' known inputs, dtypes kept,
in-place version bumps, async Work, misuse errors, DistributedSampler's defaults
(scripts/collectives_check.py). Without a group, PyTorch's errors."""
import pytest

import minigrad as mg
import minigrad.distributed as dist
from tests.distributed.mpi import mpirun


@pytest.mark.parametrize("n", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_collectives_under_mpirun(n):
    result = mpirun(n, "collectives_check.py")
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("OK ")) == \
        [f"OK {r}" for r in range(n)]


def test_without_a_group_errors_like_pytorch():
    torch_dist = pytest.importorskip("torch.distributed")
    assert not dist.is_initialized() and dist.is_available()
    for name in ("get_rank", "get_world_size"):
        with pytest.raises(ValueError) as ours:
            getattr(dist, name)()
        with pytest.raises(ValueError) as theirs:
            getattr(torch_dist, name)()
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("gloo")
    with pytest.raises(RuntimeError, match="Requires distributed package"):
        mg.utils.data.DistributedSampler(list(range(4)))
    assert repr(dist.ReduceOp.SUM) == "<ReduceOp.SUM>"


def test_launcher_builds_the_mpirun_command():
    from minigrad.distributed import run
    try:
        command = run.mpirun_command(64, ["-m", "x"], mpirun="/opt/mpi/bin/mpirun")
    except FileNotFoundError:
        pytest.skip("no mpirun")
    assert command[:3] == ["/opt/mpi/bin/mpirun", "-n", "64"] and command[-2:] == ["-m", "x"]
    # the program starts at its first word, even a -m whose own flags repeat run's
    assert run._program_start(["-n", "2", "--dry-run", "-m", "x", "-n", "3"]) == 3
    assert run._program_start(["--nproc=4", "train.py", "--dry-run"]) == 1
    env = run.mpirun_env(2, base={"OMP_NUM_THREADS": "3"})
    assert env["OMP_NUM_THREADS"] == "3" and env["OMPI_ALLOW_RUN_AS_ROOT"] == "1"
