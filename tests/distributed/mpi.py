"""Run a script of ``scripts/`` under ``mpirun -n N`` (through ``python -m
minigrad.distributed.run``) with a timeout; skip when mpi4py or mpirun is absent."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.distributed import is_mpi_available
from minigrad.distributed.run import find_mpirun

SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


def require_mpi():
    if not is_mpi_available():
        pytest.skip("mpi4py is not installed (pip install -e '.[dist]')")
    try:
        find_mpirun()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def mpirun(n, script, *args, timeout=60, check=True):
    """CompletedProcess of ``script`` in ``n`` ranks; fails the test on a non-zero exit
    (``check``) or after ``timeout`` seconds."""
    require_mpi()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-m", "minigrad.distributed.run", "-n", str(n),
               str(SCRIPTS / script), *map(str, args)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode}\n--- stdout\n"
                    f"{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
    return result


def values(stdout, key):
    """The floats printed on lines ``KEY value`` (one per rank that printed)."""
    return [float(line.split()[1]) for line in stdout.splitlines() if line.startswith(key + " ")]
