"""Float32 against mixed-precision (``--amp bf16``) training of the GPT and the CNN through
the CLI: loss curves, final losses and accuracy, with a float32 run from another seed as
the yardstick of run-to-run noise.

    python -m minigrad_benchmarks.amp_loss_curves [--out runs/amp] [--doc docs] [--models gpt cnn]
    python -m minigrad_benchmarks.amp_loss_curves --render A.json B.json --doc docs

Each run is one ``minigrad train`` process (the exact command lines are printed and kept
in the JSON); each takes under 5 minutes of CPU time. Writes ``amp_loss_curves.png`` and
``amp_loss_curves.json`` under ``--doc`` (the JSON after every run, so a cut-short
benchmark keeps what finished) and prints the Markdown table of docs/amp.md. ``--render``
redraws the table and plot from the JSON files of earlier invocations (e.g. one per model
run side by side).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WINDOW = 25     # steps in the moving average the curves are compared on
MODELS = {
    "gpt": ["gpt", "--iters", "300", "--model-arg", "n_embd=64", "--batch-size", "32",
            "--eval-samples", "256"],
    "cnn": ["cnn", "--subset", "6400", "--epochs", "3"],
}
RUNS = [("float32", 0, []), ("bf16", 0, ["--amp", "bf16"]), ("float32", 1, [])]


def _smooth(values):
    values = np.asarray(values, dtype=np.float64)
    return np.convolve(values, np.ones(WINDOW) / WINDOW, mode="valid")


def run(model, precision, seed, extra, out):
    folder = Path(out) / f"{model}-{precision}-seed{seed}"
    argv = ["minigrad", "train", *MODELS[model], "--seed", str(seed), *extra, "--out",
            str(folder), "--no-progress"]
    start, cpu = time.perf_counter(), os.times()
    subprocess.run([sys.executable, "-m", "minigrad_models.cli", *argv[1:]], check=True,
                   stdout=subprocess.DEVNULL)
    seconds, after = time.perf_counter() - start, os.times()
    cpu_seconds = (after.children_user - cpu.children_user
                   + after.children_system - cpu.children_system)
    import minigrad as mg
    checkpoint = mg.load(folder / "checkpoints" / "last.ckpt")
    metrics = json.loads((folder / "metrics.json").read_text())
    return {"model": model, "precision": precision, "seed": seed, "command": " ".join(argv),
            "seconds": seconds, "cpu_seconds": cpu_seconds,
            "step_losses": [float(v) for v in checkpoint["step_losses"]],
            "val_loss": metrics["history"][-1]["val_loss"],
            "test_loss": metrics["test"]["loss"], "test_accuracy": metrics["test"]["accuracy"]}


def table(results):
    lines = ["| model | run | steps | final train loss (last 25) | max \\|Δ\\| of the 25-step "
             "mean vs float32 seed 0 | val loss | test loss | test accuracy | CPU (s) | wall (s) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for model in MODELS:
        rows = [r for r in results if r["model"] == model]
        if not rows:
            continue
        base = _smooth(rows[0]["step_losses"])
        for r in rows:
            curve = _smooth(r["step_losses"])
            delta = "—" if r is rows[0] else f"{np.abs(curve - base).max():.4f}"
            lines.append(f"| {model} | {r['precision']} seed {r['seed']} | "
                         f"{len(r['step_losses'])} | {np.mean(r['step_losses'][-WINDOW:]):.4f} | "
                         f"{delta} | {r['val_loss']:.4f} | {r['test_loss']:.4f} | "
                         f"{r['test_accuracy']:.4f} | {r['cpu_seconds']:.0f} | "
                         f"{r['seconds']:.0f} |")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = [m for m in MODELS if any(r["model"] == m for r in results)]
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        for r in (r for r in results if r["model"] == model):
            curve = _smooth(r["step_losses"])
            ax.plot(np.arange(len(curve)) + WINDOW, curve,
                    label=f"{r['precision']} seed {r['seed']}",
                    linestyle="--" if r["precision"] == "bf16" else "-")
        ax.set_title(f"{model}: training loss ({WINDOW}-step mean)")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("cross-entropy")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/amp", help="run folders")
    parser.add_argument("--doc", default="docs", help="where the plot and JSON go")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--render", nargs="+", metavar="JSON", help="only redraw from these")
    args = parser.parse_args(argv)
    doc = Path(args.doc)
    doc.mkdir(parents=True, exist_ok=True)
    results = []
    if args.render:
        for path in args.render:
            results += json.loads(Path(path).read_text())
    else:
        for model in args.models:
            for precision, seed, extra in RUNS:
                result = run(model, precision, seed, extra, args.out)
                print(f"{result['command']}  ({result['seconds']:.0f} s wall, "
                      f"{result['cpu_seconds']:.0f} s CPU)", flush=True)
                results.append(result)
                (doc / "amp_loss_curves.json").write_text(json.dumps(results, indent=1) + "\n")
    (doc / "amp_loss_curves.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, doc / "amp_loss_curves.png")
    print(table(results))


if __name__ == "__main__":
    main()
