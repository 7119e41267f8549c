"""One training step (forward, backward, optimizer) of the seed models, minigrad vs PyTorch.

    python -m minigrad_benchmarks.model_step [--repeats 20] [--threads 1 2] [--update-readme]

Models: the seed-004 MLP 784-256-128-10 and the seed-001 CNN at batch 64 on MNIST-shaped
input, and the character GPT (vocabulary 65) at 2 layers × 128, context 64, batch 16 on the
CPU, or 6 layers × 384, context 256, batch 64 with ``--device cuda``. Each library builds the same architecture (the
PyTorch twins in ``benchmarks/torch_twins.py`` mirror ``models/``; parameter counts are
checked equal), runs a few
warm-up steps, then the median of ``--repeats`` timed steps is reported, in the same
process, both libraries held to the same thread count (``--threads``, default 1, set with
``torch.set_num_threads`` and ``minigrad.set_num_threads``: on a shared 2-core machine a
multi-threaded BLAS that competes with other work can run 10-30× slower than one thread,
which would measure the neighbours, not the library). Results: a table on stdout,
``model_step.json`` and a bar chart ``model_step.png`` under ``--out``.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import minigrad as mg
from minigrad_models.cnn import SeedCNN
from minigrad_models.gpt import GPT, GPTConfig
from minigrad_models.mlp import SeedMLP

VOCAB, BLOCK, BATCH_LM = 65, 64, 16


# (layers, width, heads, context, batch) of the GPT row: a CPU size and the GPU size.
GPT_SIZES = {"cpu": (2, 128, 4, BLOCK, BATCH_LM), "cuda": (6, 384, 6, 256, 64)}


def _cases(torch, rng, device="cpu"):
    from minigrad_benchmarks.torch_twins import TorchGPT, TorchSeedMLP, torch_seed_cnn
    images = rng.random((64, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 64)
    layers, width, heads, block, batch = GPT_SIZES[device]
    tokens = rng.integers(0, VOCAB, (batch, block + 1))
    gpt_config = GPTConfig(vocab_size=VOCAB, block_size=block, n_layer=layers, n_head=heads,
                           n_embd=width)

    def classifier(model, lib, x, y):
        return lambda: lib.nn.functional.cross_entropy(model(x), y)

    def gpt_loss(model, lib, x, y):
        if lib is mg:
            return lambda: model(x, y)[1]  # minigrad's GPT returns (logits, loss)
        return lambda: torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())

    return [
        ("seed MLP (batch 64)", lambda: SeedMLP(), TorchSeedMLP, classifier, (images, labels)),
        ("seed CNN (batch 64)", lambda: SeedCNN(), torch_seed_cnn, classifier, (images, labels)),
        (f"GPT {layers}x{width} ctx {block} (batch {batch})", lambda: GPT(gpt_config),
         lambda: TorchGPT(VOCAB, block, layers, heads, width), gpt_loss,
         (tokens[:, :-1], tokens[:, 1:])),
    ]


def _median_step_ms(loss_fn, optimizer, repeats, warmup=3, synchronize=lambda: None):
    def step():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        synchronize()  # a GPU step counts when its kernels have finished
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def _count(params):
    return int(sum(np.prod(tuple(p.shape)) for p in params))


def run(repeats=20, threads=1, device="cpu"):
    import torch
    torch.set_num_threads(threads)
    # After torch's import, so the BLAS and OpenMP it loaded are resized too.
    mg.set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    sync_mg = mg.cuda.synchronize if device == "cuda" else (lambda: None)
    sync_torch = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for name, build_mg, build_torch, make_loss, (x, y) in _cases(torch, rng, device):
        mg.manual_seed(0)
        torch.manual_seed(0)
        m_model, t_model = build_mg().to(device), build_torch().to(device)
        m_params, t_params = list(m_model.parameters()), list(t_model.parameters())
        if _count(m_params) != _count(t_params):
            raise RuntimeError(f"{name}: parameter counts differ ({_count(m_params)} vs {_count(t_params)})")
        m_loss = make_loss(m_model, mg, mg.tensor(x, device=device), mg.tensor(y, device=device))
        t_loss = make_loss(t_model, torch, torch.tensor(x, device=device),
                           torch.tensor(y, device=device))
        m_opt = mg.optim.Adam(m_params, lr=1e-3)
        t_opt = torch.optim.Adam(t_params, lr=1e-3)
        m_ms = _median_step_ms(m_loss, m_opt, repeats, synchronize=sync_mg)
        t_ms = _median_step_ms(t_loss, t_opt, repeats, synchronize=sync_torch)
        rows.append({"model": name, "params": _count(m_params), "minigrad_ms": m_ms,
                     "torch_ms": t_ms, "ratio": m_ms / t_ms})
    return rows, threads


def format_table(rows):
    lines = [f"{'model':<30} {'params':>9} {'minigrad ms':>12} {'torch ms':>10} {'ratio':>7}",
             "-" * 72]
    for r in rows:
        lines.append(f"{r['model']:<30} {r['params']:>9,} {r['minigrad_ms']:>12.2f} "
                     f"{r['torch_ms']:>10.2f} {r['ratio']:>7.2f}")
    return "\n".join(lines)


def save_chart(runs, path):
    """One panel per thread count: minigrad and PyTorch ms per step, per model."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 3.5), squeeze=False)
    for ax, run_ in zip(axes[0], runs):
        rows = run_["rows"]
        y = np.arange(len(rows))
        ax.barh(y - 0.2, [r["minigrad_ms"] for r in rows], height=0.4, label="minigrad")
        ax.barh(y + 0.2, [r["torch_ms"] for r in rows], height=0.4,
                label="PyTorch (CPU, eager)")
        ax.set_yticks(y, [r["model"] for r in rows])
        ax.set_xlabel("ms per training step (median)")
        ax.set_xscale("log")
        ax.set_title(f"{run_['threads']} thread{'s' if run_['threads'] > 1 else ''}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


README_BEGIN, README_END = "<!-- model_step table: begin -->", "<!-- model_step table: end -->"


def readme_block(runs, repeats):
    """The README's speed table (between the markers), from a run's results."""
    parts = [README_BEGIN, f"One training step, median of {repeats}, both libraries at the "
             f"same thread count, same process (`benchmarks/results/model_step.json`):", ""]
    for run_ in runs:
        parts += [f"{run_['threads']} thread{'s' if run_['threads'] > 1 else ''}:", "", "```",
                  format_table(run_["rows"]), "```", ""]
    return "\n".join(parts + [README_END])


def update_readme(runs, repeats, path="README.md"):
    text = open(path, encoding="utf-8").read()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + readme_block(runs, repeats) + text[end:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="thread counts to run, each for both libraries "
                             "(torch/minigrad.set_num_threads), e.g. --threads 1 2")
    parser.add_argument("--update-readme", action="store_true",
                        help="rewrite the speed table in README.md from this run")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda: the GPU sizes (GPT 6 layers x 384, context 256, batch 64)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    if args.device == "cuda" and not mg.cuda.is_available():
        parser.error("--device cuda needs a GPU with CuPy (pip install -e '.[gpu]')")
    runs = []
    for threads in args.threads:
        rows, _ = run(args.repeats, threads, args.device)
        print(f"{threads} thread(s):\n{format_table(rows)}\n", flush=True)
        runs.append({"threads": threads, "rows": rows})
    os.makedirs(args.out, exist_ok=True)
    stem = "model_step" if args.device == "cpu" else "model_step_cuda"
    with open(os.path.join(args.out, f"{stem}.json"), "w") as f:
        json.dump({"runs": runs, "device": args.device, "machine": platform.machine(),
                   "processor": platform.processor(), "numpy": np.__version__}, f, indent=1)
    save_chart(runs, os.path.join(args.out, f"{stem}.png"))
    if args.update_readme:
        update_readme(runs, args.repeats)


if __name__ == "__main__":
    main()
