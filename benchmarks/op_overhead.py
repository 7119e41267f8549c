"""Per-op overhead: forward + backward of single ops on tiny and small tensors, minigrad
against PyTorch (CPU, eager) in the same process, same thread count.

    python -m benchmarks.op_overhead [--repeats 7] [--number 2000] [--json PATH]

For each op and size n ∈ {1, 1000} it times ``loss = op(x...).sum(); loss.backward()``
(one forward op, the sum, the backward of both), takes the median over repeats, and prints
µs per iteration with the ratio minigrad / PyTorch. At these sizes the arithmetic is
negligible, so the numbers measure the framework: node creation, dispatch, the engine.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np

import minigrad as mg


def _ops(lib):
    F = lib
    return {
        "add": (2, lambda a, b: a + b),
        "mul": (2, lambda a, b: a * b),
        "div": (2, lambda a, b: a / b),
        "pow 2": (1, lambda a: a ** 2),
        "exp": (1, lambda a: F.exp(a)),
        "sigmoid": (1, lambda a: F.sigmoid(a)),
        "tanh": (1, lambda a: F.tanh(a)),
        "relu": (1, lambda a: F.relu(a)),
        "softmax": (1, lambda a: F.softmax(a, dim=-1)),
        "reshape": (1, lambda a: a.reshape(-1, 1)),
        "getitem": (1, lambda a: a[1:]),
        "matmul": (2, lambda a, b: a.reshape(1, -1) @ b.reshape(-1, 1)),
    }


def _time(fn, number, repeats):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples)


def _step(lib, op, arrays):
    """One timed iteration: forward of ``op`` on fresh-graph leaves, sum, backward."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]

    def step():
        loss = op(*inputs).sum()
        loss.backward()
    step()  # warm-up (first-call imports, caches)
    return step


def run(repeats=7, number=2000, sizes=(1, 1000)):
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = []
    mg_ops, torch_ops = _ops(mg), _ops(torch)
    for name, (arity, mg_op) in mg_ops.items():
        torch_op = torch_ops[name][1]
        for n in sizes:
            size = max(n, 2) if name in ("getitem",) else n
            arrays = [rng.random(size).astype(np.float32) + 0.5 for _ in range(arity)]
            mg_us = _time(_step(mg, mg_op, arrays), number, repeats)
            torch_us = _time(_step(torch, torch_op, arrays), number, repeats)
            rows.append({"op": name, "n": size,
                         "minigrad_us": mg_us, "torch_us": torch_us, "ratio": mg_us / torch_us})
    return rows


def format_table(rows):
    lines = [f"{'op':<10} {'n':>6} {'minigrad µs':>12} {'torch µs':>10} {'ratio':>7}",
             "-" * 49]
    for r in rows:
        lines.append(f"{r['op']:<10} {r['n']:>6} {r['minigrad_us']:>12.1f} {r['torch_us']:>10.1f} "
                     f"{r['ratio']:>7.2f}")
    ratios = [r["ratio"] for r in rows]
    lines.append("-" * 49)
    lines.append(f"median ratio minigrad/torch: {statistics.median(ratios):.2f}  "
                 f"(max {max(ratios):.2f})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = run(args.repeats, args.number)
    print(format_table(rows))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "numpy": np.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
