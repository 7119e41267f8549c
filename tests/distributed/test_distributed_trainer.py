"""``minigrad train --distributed``'s loop (models/train/trainer.py) under ``mpirun -n 2``:
the same parameters as one process (batches of 25 over 128 samples split 12/13 and the last
one of 3 splits 1/2: every rank's loss is weighted by its share), only rank 0 writes the run
folder, and its checkpoint resumes in one process. float32, so to 1e-5."""
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad_models.train.checkpointing import load_checkpoint
from tests.distributed.mpi import SCRIPTS, mpirun, require_mpi


@pytest.fixture(scope="module")
def train_run():
    require_mpi()
    sys.path.insert(0, str(SCRIPTS))
    try:
        import train_run
    finally:
        sys.path.remove(str(SCRIPTS))
    return train_run


def _params(state):
    return {k: np.asarray(v.numpy() if isinstance(v, mg.Tensor) else v) for k, v in state.items()}


def _close(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


@pytest.mark.slow
def test_two_ranks_train_like_one_process_and_resume_anywhere(tmp_path, train_run):
    result = mpirun(2, "train_run.py", tmp_path / "ddp", 1, timeout=240)
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("DONE")) == \
        ["DONE 0 6", "DONE 1 6"]
    ddp = load_checkpoint(tmp_path / "ddp")
    assert not any(k.startswith("module.") for k in ddp["model"])
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == \
        ["checkpoints", "config.json", "metrics.json"]
    one = train_run.train(str(tmp_path / "one"), 1)
    assert _close(_params(ddp["model"]), _params(one.model.state_dict())) < 1e-5
    # resume the 2-rank checkpoint in one process, and a 1-process one in 2 ranks
    resumed = train_run.train(str(tmp_path / "resumed"), 2, str(tmp_path / "ddp"))
    two = train_run.train(str(tmp_path / "two"), 2)
    assert _close(_params(resumed.model.state_dict()), _params(two.model.state_dict())) < 1e-5
    mpirun(2, "train_run.py", tmp_path / "resumed2", 2, tmp_path / "one", timeout=240)
    resumed2 = load_checkpoint(tmp_path / "resumed2")
    assert resumed2["step"] == 12
    assert _close(_params(resumed2["model"]), _params(two.model.state_dict())) < 1e-5


@pytest.mark.slow
def test_two_ranks_with_accumulation_train_like_one_process(tmp_path, train_run, monkeypatch):
    """``--distributed --accumulate 2``: each rank reduces its gradients once per update
    (``no_sync`` on the first micro-batch), which must equal one process accumulating the
    same two micro-batches."""
    monkeypatch.setenv("TRAIN_RUN_ACCUMULATE", "2")
    result = mpirun(2, "train_run.py", tmp_path / "ddp", 1, timeout=240)
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("DONE")) == \
        ["DONE 0 3", "DONE 1 3"]
    one = train_run.train(str(tmp_path / "one"), 1)
    assert one.step == 3
    ddp = load_checkpoint(tmp_path / "ddp")
    assert _close(_params(ddp["model"]), _params(one.model.state_dict())) < 1e-5


@pytest.mark.slow
def test_minigrad_train_distributed_command_line(tmp_path):
    """``python -m minigrad.distributed.run -n 2 -m minigrad_models.cli train mlp
    --distributed``: one run folder, one set of progress lines (rank 0's)."""
    require_mpi()
    import os
    import subprocess
    out = tmp_path / "run"
    command = [sys.executable, "-m", "minigrad.distributed.run", "-n", "2", "-m",
               "minigrad_models.cli", "train", "mlp", "--distributed", "--subset", "128",
               "--epochs", "1", "--eval-samples", "64", "--batch-size", "32", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("epoch 1/1:") == 1 and done.stdout.count("test accuracy:") == 1
    assert "distributed: 2 ranks (mpi), each 16-16 samples of every batch of 32" in done.stdout
    assert load_checkpoint(out)["step"] == 4
