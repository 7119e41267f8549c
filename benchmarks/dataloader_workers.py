"""Does ``DataLoader(num_workers=2)`` beat ``num_workers=0`` on the MNIST pipeline?

    python -m minigrad_benchmarks.dataloader_workers [--batches 300] [--out benchmarks/results]

The pipeline of pytorch/examples' mnist: ``MNIST(transform=normalise)`` read one sample at
a time (``ds[i]``: uint8 → float32 (1, 28, 28) in [0, 1] → (x − 0.1307)/0.3081 → Tensor),
``default_collate`` stacking 64 samples, shuffled. Timed over ``--batches`` batches:

* ``loader``: iterating the loader alone (batches per second);
* ``loader+MLP`` / ``loader+CNN``: each batch also takes one SGD step of the seed MLP
  (784-256-128-10) or the seed CNN — work the main process does while the workers
  prepare the next batches;
* ``augmented``: as ``loader``, with a per-sample cost like torchvision's augmentations
  (a random shift by up to 2 pixels and 8 passes of a 3×3 box blur, numpy), the case
  workers exist for.

Each configuration runs once to warm up (and start the worker processes' first epoch),
then the median of ``--repeats`` timed runs is reported. Results: a table on stdout and
``dataloader_workers.json`` under ``--out``. Timings depend on the cores free at the time.

Measured on a 2-core machine shared with other jobs (load average 4.5–6.5), so the spread
between runs is wide; ``benchmarks/results/dataloader_workers.json`` has every run.
Medians of 3 runs of 200 batches, seconds (0 workers → 2 workers):

* ``loader`` alone: 0.17 → 0.27. The per-sample work (uint8 → float, normalise, one
  Tensor) is ~13 µs, about what it costs to pickle a batch back from a worker: workers
  do not pay for plain MNIST.
* ``loader+MLP``: 1.99 → 0.91 (runs 1.6–3.1 vs 0.6–2.2): loading overlaps the step.
* ``loader+CNN``: 11.4 → 23.5 (runs 5.6–62 vs 12–55): the CNN's BLAS threads need both
  cores; the workers compete with them. Inconclusive on this machine.
* ``augmented``: 4.84 → 2.36 (runs 4.0–5.7 vs 1.9–3.6): with ~0.1 ms of numpy per
  sample, 2 workers load about twice as fast — the case workers exist for.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.datasets import MNIST
from minigrad.utils.data import DataLoader
from minigrad_models.cnn import SeedCNN
from minigrad_models.mlp import SeedMLP


def normalise(image):
    return (image - np.float32(0.1307)) / np.float32(0.3081)


def augment(image):
    """A random shift and a few blur passes: ~0.1 ms of numpy per sample."""
    dy, dx = np.random.randint(-2, 3, size=2)
    image = np.roll(image, (dy, dx), axis=(1, 2))
    for _ in range(8):
        image = (image + np.roll(image, 1, axis=1) + np.roll(image, -1, axis=1)
                 + np.roll(image, 1, axis=2) + np.roll(image, -1, axis=2)) / np.float32(5)
    return normalise(image)


def run(dataset, workers, batches, model=None):
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers)
    opt = mg.optim.SGD(model.parameters(), lr=0.01) if model is not None else None
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if model is not None:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        if i + 1 == batches:
            break
    elapsed = time.perf_counter() - start
    del loader
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    mg.manual_seed(0)
    plain = MNIST(train=True, transform=normalise)
    augmented = MNIST(train=True, transform=augment)
    cases = [("loader", plain, None), ("loader+MLP", plain, SeedMLP()),
             ("loader+CNN", plain, SeedCNN()), ("augmented", augmented, None)]
    rows = []
    print(f"{'pipeline':<12} {'workers':>7} {'seconds':>8} {'batches/s':>10}")
    for name, dataset, model in cases:
        for workers in args.workers:
            run(dataset, workers, min(20, args.batches), model)            # warm-up
            times = [run(dataset, workers, args.batches, model) for _ in range(args.repeats)]
            seconds = statistics.median(times)
            rows.append(dict(pipeline=name, workers=workers, seconds=seconds,
                             batches_per_second=args.batches / seconds, runs=times))
            print(f"{name:<12} {workers:>7} {seconds:>8.2f} {args.batches / seconds:>10.1f}",
                  flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "dataloader_workers.json"), "w") as f:
        json.dump(dict(batches=args.batches, batch_size=64, cpus=len(os.sched_getaffinity(0)),
                       load_average=os.getloadavg(), python=platform.python_version(),
                       numpy=np.__version__, rows=rows),
                  f, indent=1)


if __name__ == "__main__":
    main()
