"""Peak memory of one training step (forward, backward, optimizer) per model, minigrad vs
PyTorch, and of attention forward+backward at a long sequence.

    python -m minigrad_benchmarks.memory [--threads 1] [--attention-length 2048]

Each measurement runs in a fresh process (so one library's pools and caches never count
against the other): build the model and a batch, run two warm-up steps (optimizer state,
caches, numba compiles), then reset the kernel's peak-RSS counter (``/proc/self/clear_refs``
with 5, Linux) and run one more step, with glibc told to return every block above 16 KiB
to the system when freed. The step's peak is VmHWM − VmRSS-before-the-step:
the memory the step itself needed on top of what was already resident (weights, optimizer
state, the batch). Both libraries are measured the same way; tracemalloc would miss
PyTorch's allocator. Writes ``memory.json`` under ``--out`` and prints a table.
"""
import argparse
import json
import os
import subprocess
import sys

CASES = ("mlp", "cnn", "gpt", "attention")


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _attention_step(lib, length):
    import numpy as np
    rng = np.random.default_rng(0)
    q, k, v = (lib.tensor(rng.standard_normal((1, 1, length, 64)).astype(np.float32),
                          requires_grad=True) for _ in range(3))
    return lambda: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True).sum().backward()


def _training_step(lib, case):
    """One step of model_step.py's case (the same models, batches and losses)."""
    import numpy as np
    import torch
    from minigrad_benchmarks.model_step import _cases
    rows = {"mlp": 0, "cnn": 1, "gpt": 2}
    _, build_mg, build_torch, make_loss, (x, y) = _cases(torch, np.random.default_rng(0))[rows[case]]
    lib.manual_seed(0)
    model = (build_mg if lib.__name__ == "minigrad" else build_torch)()
    loss = make_loss(model, lib, lib.tensor(x), lib.tensor(y))
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    return step


def measure(library, case, length):
    """Run in a child process: the step's peak memory above the resident set, in MiB."""
    import importlib
    lib = importlib.import_module(library)
    if library == "torch":
        lib.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    step = _attention_step(lib, length) if case == "attention" else _training_step(lib, case)
    step()
    step()
    before = _status_kib("VmRSS")
    _reset_peak()
    step()
    return (_status_kib("VmHWM") - before) / 1024


def _child(library, case, length, threads):
    # glibc serves blocks above MALLOC_MMAP_THRESHOLD_ with mmap and unmaps them on free, so
    # memory freed by the warm-up steps leaves the resident set instead of being reused
    # unseen from malloc's pool: RSS then tracks what the step really holds, for both.
    env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads,
               MALLOC_MMAP_THRESHOLD_="16384", MALLOC_TRIM_THRESHOLD_="0")
    code = (f"from minigrad_benchmarks.memory import measure; "
            f"print(measure({library!r}, {case!r}, {length}))")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"{library} {case}: {result.stderr.strip().splitlines()[-1]}")
    return float(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1")
    parser.add_argument("--attention-length", type=int, default=2048)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    rows = []
    print(f"{'case':<44} {'minigrad MiB':>13} {'torch MiB':>10}")
    for case in CASES:
        label = (f"attention T={args.attention_length}, D=64 (fwd+bwd, causal)"
                 if case == "attention" else f"{case} training step")
        row = {"case": label}
        for library in ("minigrad", "torch"):
            row[f"{library}_mib"] = round(_child(library, case, args.attention_length,
                                                 args.threads), 1)
        rows.append(row)
        print(f"{label:<44} {row['minigrad_mib']:>13.1f} {row['torch_mib']:>10.1f}", flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "memory.json")
    with open(path, "w") as f:
        json.dump({"threads": int(args.threads), "rows": rows}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
