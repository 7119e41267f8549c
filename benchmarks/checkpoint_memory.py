"""Peak memory of one GPT training step (forward + backward) with and without activation
checkpointing (``GPT(checkpoint=True)``: every block under ``minigrad.utils.checkpoint``).

    python -m minigrad_benchmarks.checkpoint_memory [--layers 2 8] [--batch 32] [--block 64]

Method: Python's ``tracemalloc``, which sees every numpy array buffer (numpy reports its
data allocations to it) and every Python object. The model, its gradients (one warm-up
step allocates them) and the batch exist before measuring; ``tracemalloc.reset_peak`` then
one forward + backward, and the figure is the peak minus what was allocated before the
step: the memory the step itself needed. Optimizer state is left out (it does not depend
on checkpointing). Each configuration runs in its own process. Prints a Markdown table.
"""
import argparse
import json
import subprocess
import sys


def measure(layers, batch, block, embd, checkpoint):
    import gc
    import time
    import tracemalloc

    import numpy as np
    import minigrad as mg
    from minigrad_models.gpt import GPT, GPTConfig

    mg.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=65, block_size=block, n_layer=layers, n_head=4,
                          n_embd=embd, dropout=0.1, checkpoint=checkpoint))
    rng = np.random.default_rng(0)
    idx = mg.tensor(rng.integers(0, 65, size=(batch, block)))
    targets = mg.tensor(rng.integers(0, 65, size=(batch, block)))

    def step():
        model.zero_grad(set_to_none=False)
        _, loss = model(idx, targets)
        loss.backward()
        return float(loss.item())
    step()                                          # gradients allocated, kernels compiled
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    loss = step()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return {"layers": layers, "batch": batch, "block": block, "embd": embd,
            "checkpoint": checkpoint, "peak_mib": (peak - before) / 2 ** 20,
            "seconds": seconds, "loss": loss,
            "grad_checksum": float(sum(np.abs(g).sum() for g in grads))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--embd", type=int, default=128)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(**json.loads(args.one))))
        return
    rows = []
    for layers in args.layers:
        for checkpoint in (False, True):
            spec = dict(layers=layers, batch=args.batch, block=args.block, embd=args.embd,
                        checkpoint=checkpoint)
            out = subprocess.run([sys.executable, "-m", "minigrad_benchmarks.checkpoint_memory",
                                  "--one", json.dumps(spec)], capture_output=True, text=True,
                                 check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| GPT (layers × width, batch × context) | checkpointing | peak step memory (MiB) "
          "| step time (s) | loss | Σ|grad| |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['layers']} × {r['embd']}, {r['batch']} × {r['block']} | "
              f"{'yes' if r['checkpoint'] else 'no'} | {r['peak_mib']:.1f} | "
              f"{r['seconds']:.2f} | {r['loss']:.6f} | {r['grad_checksum']:.6f} |")


if __name__ == "__main__":
    main()
