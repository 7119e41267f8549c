"""Start-up cost: ``import minigrad``, and a short ``minigrad train`` with numba's kernel
cache cold, warm, and with numba's kernels switched off.

    python -m minigrad_benchmarks.start_time [--repeats 3] [--subset 2048] [--out benchmarks/results]

Every measurement is the wall time of a fresh ``python`` subprocess (what a user waits
for), the median of ``--repeats``:

* ``python -c pass``: the interpreter alone, the floor under every other row;
* ``import numpy``, ``import numba``, ``import minigrad_kernels``, ``import minigrad``:
  what the library costs before any work; ``numba imported by import minigrad`` says
  whether the kernels' numba import is part of the last one;
* ``train cnn cold``: ``minigrad train cnn --epochs 1 --subset N`` with
  ``NUMBA_CACHE_DIR`` pointing at a new empty folder, so every numba kernel the run
  touches is compiled and written to the cache (``kernels/numba_cpu/_jit.py``);
* ``train cnn warm``: the same command again on that cache folder: kernels load compiled;
* ``train cnn reference``: ``MINIGRAD_KERNELS=reference``, every kernel's numpy
  reference, the no-numba baseline.

cold − warm is the compile cost a first run pays; warm − reference is what the numba
kernels save (or cost) over the run. Each train run writes a fresh ``--out`` folder in a
temporary directory and uses ``--threads 1``. Results: a table on stdout and
``start_time.json`` under ``--out``.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def _wall_time(argv, env=None, cwd=None):
    """Seconds a fresh process running ``argv`` takes; raises if it fails."""
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}")
    return elapsed


def _python(code):
    return [sys.executable, "-c", code]


def _environment(**overrides):
    """The current environment without a kernel choice or numba cache folder of its own
    (the rows set those), plus ``overrides``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MINIGRAD_KERNELS", "NUMBA_CACHE_DIR")}
    env.update(overrides)
    return env


def _probe(code):
    """Output of ``code`` in a fresh interpreter (facts about the installed library)."""
    return subprocess.run(_python(code), capture_output=True, text=True,
                          env=_environment()).stdout.strip()


IMPORTS = [
    ("python -c pass", "pass"),
    ("import numpy", "import numpy"),
    ("import numba", "import numba"),
    ("import minigrad_kernels", "import minigrad_kernels"),
    ("import minigrad", "import minigrad"),
]


def measure_imports(repeats):
    rows = []
    for label, code in IMPORTS:
        times = [_wall_time(_python(code), env=_environment()) for _ in range(repeats)]
        rows.append({"what": label, "seconds": statistics.median(times), "runs": times})
    return rows


def measure_training(repeats, subset, workdir):
    """Cold, warm and reference ``minigrad train cnn`` runs, interleaved per repeat so
    that a change in machine load falls on all three alike."""
    times = {"train cnn cold": [], "train cnn warm": [], "train cnn reference": []}
    cache_files = []
    for i in range(repeats):
        cache = os.path.join(workdir, f"numba-cache-{i}")
        os.makedirs(cache)

        def train(label, **env):
            out = os.path.join(workdir, f"run-{i}-{label.split()[-1]}")
            argv = [sys.executable, "-m", "minigrad", "train", "cnn", "--epochs", "1",
                    "--subset", str(subset), "--threads", "1", "--no-progress", "--out", out]
            times[label].append(_wall_time(argv, env=_environment(**env), cwd=workdir))

        train("train cnn cold", NUMBA_CACHE_DIR=cache)
        train("train cnn warm", NUMBA_CACHE_DIR=cache)
        train("train cnn reference", NUMBA_CACHE_DIR=cache, MINIGRAD_KERNELS="reference")
        cache_files.append(sum(len(files) for _, _, files in os.walk(cache)))
    rows = [{"what": label, "seconds": statistics.median(runs), "runs": runs}
            for label, runs in times.items()]
    return rows, cache_files


def format_table(rows, facts):
    lines = [f"{'measurement (fresh process, median)':<40} {'seconds':>8}", "-" * 49]
    lines += [f"{r['what']:<40} {r['seconds']:>8.3f}" for r in rows]
    lines.append("")
    lines += [f"{key}: {value}" for key, value in facts.items()]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subset", type=int, default=2048)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    rows = measure_imports(args.repeats)
    with tempfile.TemporaryDirectory(prefix="minigrad-start-time-") as workdir:
        train_rows, cache_files = measure_training(args.repeats, args.subset, workdir)
    rows += train_rows
    facts = {
        "numba imported by import minigrad": _probe(
            "import sys, minigrad; print('numba' in sys.modules)"),
        "numba kernels loaded": _probe(
            "from minigrad_kernels import numba_cpu; print(numba_cpu.LOADED)"),
        "files in the numba cache after a cold run": cache_files,
    }
    print(format_table(rows, facts))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "start_time.json"), "w") as f:
        json.dump({"rows": rows, "facts": facts, "repeats": args.repeats,
                   "subset": args.subset, "python": sys.version.split()[0],
                   "machine": platform.machine(), "cpu_count": os.cpu_count()}, f, indent=1)


if __name__ == "__main__":
    main()
