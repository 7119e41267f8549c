"""Kernel table: each optimised kernel against its reference and PyTorch, same process.

    python -m minigrad_benchmarks.kernel_speed [--threads 1] [--repeats 15] [--only NAME]

Every module of this package other than ``case.py`` and ``_``-prefixed helpers is a kernel
family (``conv.py``, ``softmax.py``, …) defining ``cases()``, an iterable of
``KernelCase``. For each case the reference implementation (``CATALOGUE.reference_impl``),
every registered optimised implementation, and the PyTorch twin are timed (median of
``--repeats`` calls after one warm-up call, which also pays numba's compile), the
optimised results are checked against the reference, and a table goes to stdout and
``kernel_speed.json`` under ``--out``.
"""
import argparse
import importlib
import json
import os
import pkgutil
import statistics
import sys
import time


def _threads(argv):
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


if __name__ == "__main__":   # BLAS fixes its pool when numpy loads
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        os.environ[_var] = _threads(sys.argv[1:])

import numpy as np  # noqa: E402

import minigrad_kernels  # noqa: E402,F401  (registers every backend)
from minigrad_kernels.catalogue import CATALOGUE  # noqa: E402


def median_seconds(fn, repeats):
    fn()                                             # warm-up (and numba's compile)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def families():
    here = os.path.dirname(__file__)
    for info in pkgutil.iter_modules([here]):
        # A leading underscore marks a shared helper (e.g. the model sizes), not a family.
        if info.name not in ("case", "__main__") and not info.name.startswith("_"):
            yield importlib.import_module(f"{__package__}.{info.name}")


def _max_relative_error(result, expected):
    results = result if isinstance(result, tuple) else (result,)
    expecteds = expected if isinstance(expected, tuple) else (expected,)
    worst = 0.0
    for r, e in zip(results, expecteds):
        r, e = np.asarray(r, dtype=np.float64), np.asarray(e, dtype=np.float64)
        scale = max(float(np.abs(e).max()) if e.size else 0.0, 1e-30)
        worst = max(worst, float(np.abs(r - e).max()) / scale if e.size else 0.0)
    return worst


def run(repeats, only=None):
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ImportError:
        torch = None
    rows = []
    for family in families():
        for case in family.cases():
            if only and case.name != only:
                continue
            reference = CATALOGUE.reference_impl(case.name)
            expected = reference(*case.args, **case.kwargs)
            row = {"kernel": case.name, "size": case.label,
                   "reference_ms": 1e3 * median_seconds(
                       lambda: reference(*case.args, **case.kwargs), repeats)}
            for backend, fn, _ in CATALOGUE.implementations(case.name):
                row[f"{backend}_ms"] = 1e3 * median_seconds(
                    lambda: fn(*case.args, **case.kwargs), repeats)
                row[f"{backend}_max_rel_error"] = _max_relative_error(
                    fn(*case.args, **case.kwargs), expected)
            if torch is not None and case.torch_fn is not None:
                targs = (case.torch_args(torch) if case.torch_args else
                         tuple(torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                               for a in case.args))
                with torch.no_grad():
                    row["torch_ms"] = 1e3 * median_seconds(
                        lambda: case.torch_fn(torch, *targs), repeats)
            rows.append(row)
            print(_format(row), flush=True)
    return rows


def _format(row):
    parts = [f"{row['kernel']:<24} {row['size']:<28} ref {row['reference_ms']:9.3f} ms"]
    for key in row:
        if key.endswith("_ms") and key not in ("reference_ms", "torch_ms"):
            parts.append(f"{key[:-3]} {row[key]:9.3f} ms "
                         f"(×{row['reference_ms'] / row[key]:.1f} vs ref)")
    if "torch_ms" in row:
        parts.append(f"torch {row['torch_ms']:9.3f} ms")
    return "  ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", default=None, help="one kernel name")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    rows = run(args.repeats, args.only)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"kernel_speed_threads{args.threads}.json")
    with open(path, "w") as f:
        json.dump({"threads": int(args.threads), "rows": rows}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
