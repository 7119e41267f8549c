"""``opt.step()`` alone, over the seed MLP's parameters: the array path against the Tensor-op
reference path, with PyTorch's CPU optimizers for scale.

    python -m minigrad_benchmarks.optimizer_step [--repeats 200] [--out benchmarks/results]

The parameters are those of ``SeedMLP`` (784-256-128-10, 235,146 values in six arrays,
float32) with fixed random gradients; each optimizer configuration is stepped a few times
to create its state, then the median of ``--repeats`` timed ``step()`` calls is reported
for ``foreach=False`` (minigrad: ``_reference_step``, ~30 Tensor in-place ops per
parameter, the implementation before the array path) and for the default (minigrad: the
array path; PyTorch: its CPU default, the per-tensor loop). The elementwise ufuncs use one
thread whatever the BLAS pool is, so no thread setting applies. Results: a table on stdout
and ``optimizer_step.json`` under ``--out``.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import minigrad as mg
from minigrad_models.mlp import SeedMLP

# (label, optimizer class name, keyword arguments): the CLI's choices, plus the options that
# add work per parameter (Nesterov, weight decay, amsgrad, centred RMSprop).
CONFIGS = [
    ("SGD lr 1e-3 momentum 0.9", "SGD", dict(lr=1e-3, momentum=0.9)),
    ("SGD nesterov wd 1e-4", "SGD", dict(lr=1e-3, momentum=0.9, nesterov=True,
                                         weight_decay=1e-4)),
    ("Adam", "Adam", dict(lr=1e-3)),
    ("Adam amsgrad", "Adam", dict(lr=1e-3, amsgrad=True)),
    ("AdamW wd 1e-2", "AdamW", dict(lr=1e-3, weight_decay=1e-2)),
    ("RMSprop", "RMSprop", dict(lr=1e-3)),
    ("RMSprop centred momentum 0.9", "RMSprop", dict(lr=1e-3, centered=True, momentum=0.9)),
]


def _median_step_us(optimizer, repeats, warmup=3):
    for _ in range(warmup):
        optimizer.step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        optimizer.step()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def _mlp_parameters(lib, arrays):
    """Parameters holding ``arrays`` with those arrays, scaled small, as their gradients (so
    many steps stay finite)."""
    params = []
    for array in arrays:
        p = lib.nn.Parameter(lib.tensor(array.copy()))
        p.grad = lib.tensor(array * 1e-3)
        params.append(p)
    return params


def run(repeats=200):
    mg.manual_seed(0)
    arrays = [p.detach().numpy().copy() for p in SeedMLP().parameters()]
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rows = []
    for label, name, kwargs in CONFIGS:
        row = {"config": label, "params": int(sum(a.size for a in arrays))}
        for key, flags in (("reference_us", dict(foreach=False)), ("array_us", {})):
            opt = getattr(mg.optim, name)(_mlp_parameters(mg, arrays), **kwargs, **flags)
            row[key] = _median_step_us(opt, repeats)
        if torch is not None:
            opt = getattr(torch.optim, name)(_mlp_parameters(torch, arrays), **kwargs)
            row["torch_us"] = _median_step_us(opt, repeats)
        row["speedup"] = row["reference_us"] / row["array_us"]
        rows.append(row)
    return rows


def format_table(rows):
    lines = [f"{'optimizer (seed MLP, 235k float32)':<34} {'reference us':>13} "
             f"{'array us':>9} {'speedup':>8} {'torch us':>9}", "-" * 77]
    for r in rows:
        torch_us = f"{r['torch_us']:>9.0f}" if "torch_us" in r else f"{'-':>9}"
        lines.append(f"{r['config']:<34} {r['reference_us']:>13.0f} {r['array_us']:>9.0f} "
                     f"{r['speedup']:>7.2f}x {torch_us}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    rows = run(args.repeats)
    print(format_table(rows))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "optimizer_step.json"), "w") as f:
        json.dump({"rows": rows, "repeats": args.repeats, "machine": platform.machine(),
                   "numpy": np.__version__, "cpu_count": os.cpu_count()}, f, indent=1)


if __name__ == "__main__":
    main()
