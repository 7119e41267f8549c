"""Throughput and all-reduce bandwidth of minigrad's DDP (mpi backend) at 1, 2 and 4 ranks,
beside PyTorch's DDP over gloo, on this machine.

    python -m minigrad_benchmarks.distributed_scaling [--ranks 1 2 4] [--steps 30]
        [--model mlp|cnn] [--batch 64] [--out benchmarks/results]

For each world size N the driver starts N processes with ``python -m
minigrad.distributed.run -n N`` (mpirun; N > cores is oversubscribed) twice: minigrad
workers (``init_process_group("mpi")``), then PyTorch workers (``init_process_group
("gloo")`` with rank and size from mpirun's environment, so both get the same launcher
and the same one thread per process). Each worker measures:

* ``allreduce``: the median time of ``all_reduce(SUM)`` on float32 buffers of 1 and 16
  MiB, as algorithm bandwidth (bytes / time) and bus bandwidth (2(N−1)/N · bytes /
  time, the ring all-reduce's traffic per rank: docs/distributed.md);
* ``train``: DDP training steps (forward, cross-entropy, backward with the bucketed
  all-reduce, SGD step) of the seed MLP (784-256-128-10, 235,146 parameters) or the seed
  CNN on random MNIST-shaped data, ``--batch`` samples per rank (weak scaling: the global
  batch is N × batch); samples/s of the whole job after 3 warm-up steps.

Results: a table on stdout and ``distributed_scaling.json`` under ``--out``. On a 2-core
machine, 2 ranks is the most that can run in parallel, and 4 ranks share 2 cores, so the
numbers say what the overheads cost, not how the method scales (docs/distributed.md has
the model for many nodes).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES_MIB = (1, 16)


def _time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _minigrad_worker(args):
    import minigrad as mg
    import minigrad.distributed as dist
    from minigrad import nn
    from minigrad.nn.parallel import DistributedDataParallel as DDP
    from minigrad_models.cnn import SeedCNN
    from minigrad_models.mlp import SeedMLP
    mg.set_num_threads(1)            # as torch.set_num_threads(1) in the torch workers
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    result = {"allreduce": {}}
    for mib in SIZES_MIB:
        buffer = mg.zeros(mib * 2 ** 18)
        result["allreduce"][mib] = _time(lambda: dist.all_reduce(buffer), 10)
    mg.manual_seed(0)
    model = DDP(SeedMLP() if args.model == "mlp" else SeedCNN(dense=64))
    opt = mg.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 10, args.batch))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    result["train"] = _steps(step, args.steps, lambda: dist.barrier())
    result["parameters"] = sum(p.numel() for p in model.parameters())
    return rank, world, result


def _torch_worker(args):
    import torch
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel as TDDP
    from minigrad_benchmarks.torch_twins import TorchSeedMLP, torch_seed_cnn
    torch.set_num_threads(1)
    rank, world = int(os.environ["OMPI_COMM_WORLD_RANK"]), int(os.environ["OMPI_COMM_WORLD_SIZE"])
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29571")
    tdist.init_process_group("gloo", rank=rank, world_size=world)
    result = {"allreduce": {}}
    for mib in SIZES_MIB:
        buffer = torch.zeros(mib * 2 ** 18)
        result["allreduce"][mib] = _time(lambda: tdist.all_reduce(buffer), 10)
    torch.manual_seed(0)
    model = TDDP(TorchSeedMLP() if args.model == "mlp" else torch_seed_cnn(64))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(rank)
    x = torch.randn(args.batch, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (args.batch,), generator=gen)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    result["train"] = _steps(step, args.steps, tdist.barrier)
    result["parameters"] = sum(p.numel() for p in model.parameters())
    tdist.destroy_process_group()
    return rank, world, result


def _steps(step, steps, barrier):
    for _ in range(3):
        step()
    barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    barrier()
    return time.perf_counter() - start


def worker(args):
    rank, world, result = (_minigrad_worker if args.worker == "minigrad" else _torch_worker)(args)
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def _row(engine, world, args, result):
    row = {"engine": engine, "ranks": world, "model": args.model, "batch_per_rank": args.batch,
           "steps": args.steps, "parameters": result["parameters"],
           "samples_per_s": world * args.batch * args.steps / result["train"]}
    for mib, seconds in result["allreduce"].items():
        size = int(mib) * 2 ** 20
        row[f"allreduce_{mib}MiB_ms"] = seconds * 1e3
        row[f"algbw_{mib}MiB_GBps"] = size / seconds / 1e9
        row[f"busbw_{mib}MiB_GBps"] = 2 * (world - 1) / world * size / seconds / 1e9
    return row


def drive(args):
    rows = []
    for world in args.ranks:
        for engine in ("minigrad", "torch-gloo"):
            command = [sys.executable, "-m", "minigrad.distributed.run", "-n", str(world),
                       "-m", "minigrad_benchmarks.distributed_scaling", "--worker",
                       "minigrad" if engine == "minigrad" else "torch", "--model", args.model,
                       "--batch", str(args.batch), "--steps", str(args.steps)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                print(f"{engine} at {world} ranks failed:\n{done.stderr[-2000:]}")
                continue
            rows.append(_row(engine, world, args, json.loads(lines[0][7:])))
            r = rows[-1]
            print(f"{engine:10s} ranks {world}: {r['samples_per_s']:7.0f} samples/s | "
                  + " | ".join(f"all_reduce {m} MiB {r[f'allreduce_{m}MiB_ms']:7.2f} ms "
                               f"busbw {r[f'busbw_{m}MiB_GBps']:.2f} GB/s" for m in SIZES_MIB),
                  flush=True)
    record = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "load_average": os.getloadavg(), "rows": rows,
              "command": " ".join(["python -m minigrad_benchmarks.distributed_scaling",
                                   *sys.argv[1:]])}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "distributed_scaling.json").write_text(json.dumps(record, indent=2) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--worker", choices=("minigrad", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
    else:
        drive(args)


if __name__ == "__main__":
    main()
