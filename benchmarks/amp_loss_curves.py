"""Float32 against mixed-precision (``--amp bf16``) training of the GPT and the CNN through
the CLI: loss curves, final losses and accuracy, with a float32 run from another seed as
the yardstick of run-to-run noise.

    python -m minigrad_benchmarks.amp_loss_curves [--out runs/amp] [--doc docs]

Each run is one ``minigrad train`` process (the exact command lines are printed and kept
in the JSON); each takes under 5 minutes on a 2-core CPU. Writes ``amp_loss_curves.png``
and ``amp_loss_curves.json`` under ``--doc`` and prints the Markdown table of docs/amp.md.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WINDOW = 25     # steps in the moving average the curves are compared on
MODELS = {
    "gpt": ["gpt", "--iters", "400", "--model-arg", "n_embd=64", "--batch-size", "32",
            "--eval-samples", "256"],
    "cnn": ["cnn", "--subset", "8000", "--epochs", "3"],
}
RUNS = [("float32", 0, []), ("bf16", 0, ["--amp", "bf16"]), ("float32", 1, [])]


def _smooth(values):
    values = np.asarray(values, dtype=np.float64)
    return np.convolve(values, np.ones(WINDOW) / WINDOW, mode="valid")


def run(model, precision, seed, extra, out):
    folder = Path(out) / f"{model}-{precision}-seed{seed}"
    argv = ["minigrad", "train", *MODELS[model], "--seed", str(seed), *extra, "--out",
            str(folder), "--no-progress"]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "minigrad_models.cli", *argv[1:]], check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    import minigrad as mg
    checkpoint = mg.load(folder / "checkpoints" / "last.ckpt")
    metrics = json.loads((folder / "metrics.json").read_text())
    return {"model": model, "precision": precision, "seed": seed, "command": " ".join(argv),
            "seconds": seconds, "step_losses": [float(v) for v in checkpoint["step_losses"]],
            "val_loss": metrics["history"][-1]["val_loss"],
            "test_loss": metrics["test"]["loss"], "test_accuracy": metrics["test"]["accuracy"]}


def table(results):
    lines = ["| model | run | steps | final train loss (last 25) | max \\|Δ\\| of the 25-step "
             "mean vs float32 seed 0 | val loss | test loss | test accuracy | wall (s) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for model in MODELS:
        rows = [r for r in results if r["model"] == model]
        base = _smooth(rows[0]["step_losses"])
        for r in rows:
            curve = _smooth(r["step_losses"])
            delta = "—" if r is rows[0] else f"{np.abs(curve - base).max():.4f}"
            lines.append(f"| {model} | {r['precision']} seed {r['seed']} | "
                         f"{len(r['step_losses'])} | {np.mean(r['step_losses'][-WINDOW:]):.4f} | "
                         f"{delta} | {r['val_loss']:.4f} | {r['test_loss']:.4f} | "
                         f"{r['test_accuracy']:.4f} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(MODELS), figsize=(11, 4))
    for ax, model in zip(axes, MODELS):
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
    args = parser.parse_args(argv)
    results = []
    for model in args.models:
        for precision, seed, extra in RUNS:
            result = run(model, precision, seed, extra, args.out)
            print(f"{result['command']}  ({result['seconds']:.0f} s)", flush=True)
            results.append(result)
    doc = Path(args.doc)
    (doc / "amp_loss_curves.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, doc / "amp_loss_curves.png")
    print(table(results))


if __name__ == "__main__":
    main()
