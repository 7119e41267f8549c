"""One GPU check for a lent machine: versions, correctness, then timings, in one call.

    python -m minigrad_benchmarks.gpu_check [--out DIR] [--budget SECONDS] [--quick]

(on a lent machine: ``timeout 480 python -m minigrad_benchmarks.gpu_check``; the default
budget, 420 s, fits a 15-minute lease with its start-up).

Order (issue 9, item 4; GPU.md "A lent GPU"): versions and device first; then each section
in its own try/except with its own deadline, so one failure or hang costs one section:

1. ``correctness``: every own kernel (SGEMM in all four transposes, softmax, log-softmax,
   layer norm forward/backward) on fresh random inputs, NaN-poisoned outputs where the
   kernel is launched directly, ragged and benchmark shapes, relative error against a
   float64 reference;
2. ``timing``: CUDA-event median of ~20 runs after warm-up (the first call, which JIT
   compiles, timed separately) of each kernel against its baseline on the same card:
   ``cupy.matmul`` (cuBLAS fp32, ``CUPY_TF32=0``) and torch (TF32 off) for SGEMM (the
   wrapper's aligned float4 variant at 1024³–4096³, and the ragged variant beside it), torch
   for softmax / log-softmax / layer norm; TFLOP/s or GB/s and the ratio;
3. ``conv`` (``gpu_check_conv.py``): the implicit-GEMM conv2d fwd/dgrad/wgrad and pooling
   wrappers against float64 on ragged shapes (NaN-poisoned outputs), then timed against
   cuDNN (TF32 off) on ResNet-50's 3×3 layers at batch 64, with cuDNN's kernel names;
4. ``attention_correctness``, ``attention_timing``, ``attention_memory``: the flash
   attention kernels (``kernels/cuda/attention.py``) on ragged shapes, causal, boolean,
   additive and key-padding masks and fully masked rows, forward and backward, against
   the float64 reference; then CUDA-event timing of forward and forward+backward at
   B=8, H=12, T=4096, d=64, causal, against torch ``scaled_dot_product_attention`` fp32
   (default choice, and each backend forced, with the backend torch picks); then the
   peak memory pool use of forward+backward at T = 1024, 2048, 4096 (O(T), not O(T²));
5. ``fused``: the fused kernels (cross-entropy forward/backward/fused, GELU, the one-launch
   Adam) against float64, then timed against torch on the same card;
6. ``gpt_step``: one eager training step (forward, backward, Adam) of the GPT at
   6 layers × 384, context 256, batch 64, minigrad on CUDA vs torch eager on CUDA
   (TF32 off): first step and median of the next ones;
7. ``cnn_epoch``: one epoch (60,000 images, batch 64 = 938 steps, Adam) of the seed CNN,
   minigrad on CUDA vs torch on the CPU, on MNIST-shaped random data (the lent machine
   has no network, and the values do not change the time).  Steps run until the epoch
   ends or the section's time share is spent; a cut epoch is extrapolated from the mean
   step time and marked ``extrapolated`` (``epoch_seconds``);
8. ``tests``: the simulator suite of the kernels against the real device, then
   ``pytest -m gpu`` (the op/nn/model suite on CuPy), as subprocesses.

JSON goes to ``$OUT/gpu_check.json`` (``--out``, default ``$OUT`` or ``.``) after every
section, so a timeout loses nothing finished; a table is printed last.  Without a usable
GPU it prints why, writes the versions, and exits 0 without running anything else.
Everything but the sections themselves (the deadline runner, statistics, the table, the
no-GPU exit) is tested on CPU in ``tests/benchmarks/test_gpu_check.py``.
"""
import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback

from . import gpu_check_conv
from .gpu_check_attention import attention_correctness, attention_memory, attention_timing
from .gpu_check_fused import fused
from .gpu_check_training import cnn_epoch, epoch_estimate, gpt_step, step_times  # noqa: F401 (re-exported)
from .gpu_measure import cuda_event_ms, median_ms, relative_error  # noqa: F401 (re-exported)

# cuBLAS in full fp32, as the SGEMM targets are stated (set before CuPy is imported).
os.environ.setdefault("CUPY_TF32", "0")

PACKAGES = ("numpy", "numba", "numba-cuda", "cupy-cuda13x", "cupy", "torch", "cuda-toolkit")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SectionTimeout(Exception):
    """Raised inside a section when its deadline passes."""


@contextlib.contextmanager
def deadline(seconds):
    """Raise ``SectionTimeout`` in the main thread after ``seconds`` (SIGALRM; a blocking
    CUDA call is interrupted when it returns to Python).  No-op off the main thread or
    where SIGALRM does not exist."""
    usable = hasattr(signal, "setitimer") and _in_main_thread()
    if not usable or seconds is None:
        yield
        return

    def expire(signum, frame):
        raise SectionTimeout(f"deadline of {seconds:.0f} s passed")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


def run_section(report, name, function, seconds, *args):
    """Run ``function(*args)`` under a deadline and record ``{status, seconds, result |
    error}`` as ``report["sections"][name]``; never raises (except KeyboardInterrupt)."""
    start = time.perf_counter()
    entry = dict(status="ok")
    try:
        with deadline(seconds):
            entry["result"] = function(*args)
    except SectionTimeout as error:
        entry.update(status="timeout", error=str(error))
    except Exception as error:                              # noqa: BLE001 (one section)
        entry.update(status="error", error=f"{type(error).__name__}: {error}",
                     traceback=traceback.format_exc(limit=6))
    entry["seconds"] = round(time.perf_counter() - start, 2)
    report.setdefault("sections", {})[name] = entry
    print(f"[{name}] {entry['status']} in {entry['seconds']} s"
          + (f": {entry.get('error')}" if entry["status"] != "ok" else ""), flush=True)
    return entry


def versions():
    """Python, platform and the versions of the GPU stack's packages (None: not installed)."""
    found = {}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return dict(python=platform.python_version(), platform=platform.platform(),
                packages=found, nvidia_smi=_nvidia_smi())


def _nvidia_smi():
    query = "name,driver_version,clocks.sm,clocks.max.sm,power.limit,memory.total"
    try:
        done = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable: {error}"
    return done.stdout.strip() or done.stderr.strip()


def probe_gpu():
    """``(cupy, description)`` for a usable GPU, or ``(None, reason)``: "no CuPy" and "no
    device" are told apart only in the reason."""
    try:
        import cupy
    except ImportError as error:
        return None, f"CuPy is not installed ({error})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            return None, "CuPy sees no CUDA device"
        cupy.zeros(1).sum().item()
        props = cupy.cuda.runtime.getDeviceProperties(0)
    except Exception as error:                              # noqa: BLE001
        return None, f"no usable CUDA device ({type(error).__name__}: {error})"
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return cupy, dict(name=name, sm_count=props["multiProcessorCount"],
                      compute_capability=f"{props['major']}.{props['minor']}",
                      memory_gib=round(props["totalGlobalMem"] / 2**30, 1),
                      runtime=cupy.cuda.runtime.runtimeGetVersion(),
                      driver=cupy.cuda.runtime.driverGetVersion())


# ------------------------------------------------------------------------- sections (GPU)
def _kernels():
    from minigrad_kernels.cuda import matmul, normalization, softmax
    return matmul, softmax, normalization


def correctness(cp, quick=False):
    """Relative errors of every kernel against float64 numpy; ``ok`` iff all ≤ 1e-5."""
    import numpy as np
    matmul, softmax, normalization = _kernels()
    rng = np.random.default_rng(0)
    rows = []

    def record(name, shape, got, want, bound=1e-5):
        err = relative_error(cp.asnumpy(got), want)
        rows.append(dict(kernel=name, shape=str(shape), relerr=err, ok=err <= bound))

    shapes = [(1, 37, 129, 65), (3, 130, 257, 129), (2, 256, 136, 384)] + (
        [] if quick else [(1, 1024, 1024, 1024)])
    for z, m, k, n in shapes:
        a = rng.standard_normal((z, m, k)).astype(np.float32)
        b = rng.standard_normal((z, k, n)).astype(np.float32)
        want = a.astype(np.float64) @ b
        for trans_a in (False, True):
            for trans_b in (False, True):
                a_dev = cp.asarray(np.ascontiguousarray(a.swapaxes(1, 2)) if trans_a else a)
                b_dev = cp.asarray(np.ascontiguousarray(b.swapaxes(1, 2)) if trans_b else b)
                kernel = matmul.default_kernel(trans_a, trans_b)
                c = cp.full((z, m, n), cp.nan, dtype=cp.float32)       # NaN-poisoned
                # The ragged variant always; the aligned one (float4, no bounds checks)
                # where the sizes are tile multiples, as the wrapper would launch it.
                variants = [("", kernel)]
                if matmul.is_aligned(kernel, m, n, k, a_dev, b_dev, c):
                    variants.append(("_aligned", matmul.default_kernel(trans_a, trans_b,
                                                                       aligned=True)))
                for suffix, kernel in variants:
                    c[...] = cp.nan
                    grid, threads = matmul.sgemm_launch(kernel, m, n, z)
                    kernel[grid, threads](a_dev, b_dev, c)
                    record(f"sgemm_{'t' if trans_a else 'n'}{'t' if trans_b else 'n'}{suffix}",
                           (z, m, k, n), c, want)
        record("matmul (wrapper)", (z, m, k, n), matmul.matmul(cp.asarray(a), cp.asarray(b)), want)
        for label, tiles in matmul.GPU_CANDIDATE_TILES.items():     # the timed candidates
            kernel = matmul.default_kernel(tiles=tiles)
            c = cp.full((z, m, n), cp.nan, dtype=cp.float32)
            if matmul.is_aligned(kernel, m, n, k):
                kernel = matmul.default_kernel(tiles=tiles, aligned=True)
            grid, threads = matmul.sgemm_launch(kernel, m, n, z)
            kernel[grid, threads](cp.asarray(a), cp.asarray(b), c)
            record(f"sgemm_{label}_nn{'_aligned' if kernel.aligned else ''}", (z, m, k, n),
                   c, want)

    for r, c_ in [(7, 3), (333, 1000), (64, 50257)][: 2 if quick else 3]:
        x = (rng.standard_normal((r, c_)) * 10).astype(np.float32)
        x64 = x.astype(np.float64)
        shifted = x64 - x64.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        for log in (False, True):
            kernel = softmax.make_softmax(softmax.GPU_THREADS, log)
            out = cp.full((r, c_), cp.nan, dtype=cp.float32)
            kernel[r, kernel.threads](cp.asarray(x), out)
            record("log_softmax" if log else "softmax", (r, c_), out,
                   shifted - lse if log else np.exp(shifted - lse))

    for r, n in [(5, 7), (4096, 768)]:
        x = (rng.standard_normal((r, n)) + 3).astype(np.float32)
        w, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
        dy = rng.standard_normal((r, n)).astype(np.float32)
        x64 = x.astype(np.float64)
        mean = x64.mean(axis=1, keepdims=True)
        rstd = 1 / np.sqrt(((x64 - mean) ** 2).mean(axis=1, keepdims=True) + 1e-5)
        x_hat = (x64 - mean) * rstd
        y, _, _ = normalization.layer_norm_forward_rows(cp.asarray(x), cp.asarray(w),
                                                        cp.asarray(b), 1e-5)
        record("layer_norm_forward", (r, n), y, x_hat * w + b)
        g = dy * w.astype(np.float64)
        dx_want = rstd * (g - g.mean(axis=1, keepdims=True)
                          - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
        dx, dw, db = normalization.layer_norm_backward_rows(
            cp.asarray(dy), cp.asarray(x), cp.asarray(w),
            cp.asarray(mean.astype(np.float32)), cp.asarray(rstd.astype(np.float32)))
        record("layer_norm_backward dx", (r, n), dx, dx_want, 1e-4)
        record("layer_norm_backward dweight", (r, n), dw, (dy * x_hat).sum(axis=0), 1e-4)
        record("layer_norm_backward dbias", (r, n), db, dy.astype(np.float64).sum(axis=0), 1e-4)
    return dict(ok=all(row["ok"] for row in rows), rows=rows)


def timing(cp, quick=False):
    """Own kernels against cuBLAS / torch on the same card; TFLOP/s, GB/s and ratios."""
    matmul, softmax, normalization = _kernels()
    try:
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch_ok = torch.cuda.is_available()
    except ImportError:
        torch, torch_ok = None, False
    rows = []
    sizes = [1024, 2048] if quick else [1024, 2048, 4096]
    for n in sizes:
        a = cp.random.standard_normal((n, n), dtype=cp.float32)
        b = cp.random.standard_normal((n, n), dtype=cp.float32)
        flop = 2.0 * n ** 3
        first, own = cuda_event_ms(cp, lambda: matmul.matmul(a, b))     # the aligned variant
        _, cublas = cuda_event_ms(cp, lambda: cp.matmul(a, b))
        row = dict(kernel="sgemm", shape=f"{n}^3", tiles=str(matmul.GPU_TILES),
                   candidates=list(matmul.GPU_CANDIDATE_TILES),
                   first_call_ms=first, own_ms=own,
                   own_tflops=round(flop / own / 1e9, 2), baseline="cupy.matmul (cuBLAS fp32)",
                   baseline_ms=cublas, ratio=round(cublas / own, 3))
        # The candidate beside it: the ragged variant (guarded scalar loads, 1 block/SM)
        # that odd sizes get, launched on the same sizes.
        ragged = matmul.default_kernel()
        c = cp.empty((1, n, n), dtype=cp.float32)
        grid, threads = matmul.sgemm_launch(ragged, n, n, 1)
        a3, b3 = a.reshape(1, n, n), b.reshape(1, n, n)
        launch = matmul.configured(ragged, grid, threads, cp)
        _, row["ragged_ms"] = cuda_event_ms(cp, lambda: launch(a3, b3, c))
        row["ragged_ratio"] = round(cublas / row["ragged_ms"], 3)
        # Smaller-tile candidates (more blocks for 132 SMs), aligned variant, nn.
        for label, tiles in matmul.GPU_CANDIDATE_TILES.items():
            kernel = matmul.default_kernel(tiles=tiles, aligned=True)
            launch = matmul.configured(kernel, *matmul.sgemm_launch(kernel, n, n, 1), cp)
            _, ms = cuda_event_ms(cp, lambda: launch(a3, b3, c))
            row[f"{label}_ms"], row[f"{label}_ratio"] = ms, round(cublas / ms, 3)
        if torch_ok:
            ta, tb = torch.as_tensor(a, device="cuda"), torch.as_tensor(b, device="cuda")
            _, row["torch_ms"] = cuda_event_ms(cp, lambda: torch.matmul(ta, tb))
        rows.append(row)
    for r, c in [(4096, 1024), (8192, 50257)][: 1 if quick else 2]:
        x = cp.random.standard_normal((r, c), dtype=cp.float32)
        gb = 2 * x.nbytes / 1e9
        for log in (False, True):
            first, own = cuda_event_ms(cp, lambda: softmax.softmax_rows(x, log))
            row = dict(kernel="log_softmax" if log else "softmax", shape=f"{r}x{c}",
                       first_call_ms=first, own_ms=own, own_gbs=round(gb / own * 1e3, 1))
            if torch_ok:
                tx = torch.as_tensor(x, device="cuda")
                fn = torch.log_softmax if log else torch.softmax
                _, base = cuda_event_ms(cp, lambda: fn(tx, 1))
                row.update(baseline="torch", baseline_ms=base, ratio=round(base / own, 3))
            rows.append(row)
    r, n = 16384, 768
    x = cp.random.standard_normal((r, n), dtype=cp.float32)
    w = cp.random.standard_normal(n, dtype=cp.float32)
    b = cp.random.standard_normal(n, dtype=cp.float32)
    first, own = cuda_event_ms(cp, lambda: normalization.layer_norm_forward_rows(x, w, b, 1e-5))
    row = dict(kernel="layer_norm_forward", shape=f"{r}x{n}", first_call_ms=first, own_ms=own,
               own_gbs=round(2 * x.nbytes / 1e9 / own * 1e3, 1))
    if torch_ok:
        tx, tw, tb = (torch.as_tensor(v, device="cuda") for v in (x, w, b))
        _, base = cuda_event_ms(cp, lambda: torch.nn.functional.layer_norm(tx, (n,), tw, tb))
        row.update(baseline="torch", baseline_ms=base, ratio=round(base / own, 3))
    rows.append(row)
    return dict(rows=rows)


def device_tests(seconds):
    """The kernels' simulator tests on the real device, then ``pytest -m gpu``."""
    env = dict(os.environ, MINIGRAD_REAL_CUDA="1")
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    results = {}
    for name, args in [("kernel tests", ["tests/kernels/test_cuda_kernels.py",
                                         "tests/kernels/test_cuda_attention_kernels.py",
                                         "tests/kernels/test_cuda_fused_kernels.py",
                                         "tests/kernels/test_cuda_conv_kernels.py"]),
                       ("pytest -m gpu", ["-m", "gpu"])]:
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                                   "no:cacheprovider", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=max(seconds / 2, 10))
            results[name] = dict(returncode=done.returncode, tail=done.stdout[-1500:])
        except subprocess.TimeoutExpired:
            results[name] = dict(returncode=None, tail="timed out")
        results[name]["seconds"] = round(time.perf_counter() - start, 1)
    return results


# ------------------------------------------------------------------------- report
def format_table(report):
    """The closing table: one line per section, then one per measured or checked kernel."""
    lines = [f"device: {report.get('device')}"]
    for name, entry in report.get("sections", {}).items():
        lines.append(f"{name:<12} {entry['status']:<8} {entry['seconds']:>7.1f} s")
    sections = report.get("sections", {})
    fused_result = sections.get("fused", {}).get("result") or {}
    for name in ("correctness", "conv", "attention_correctness"):
        correct = sections.get(name, {}).get("result") or {}
        for row in correct.get("rows", []):
            lines.append(f"  {'ok ' if row['ok'] else 'BAD'} {row['kernel']:<28} "
                         f"{row['shape']:<22} relerr {row['relerr']:.2e}")
    for row in fused_result.get("checks", []):
        lines.append(f"  {'ok ' if row['ok'] else 'BAD'} {row['kernel']:<28} {row['shape']:<22} "
                     f"relerr {row['relerr']:.2e}")
    timed_rows = [row for name in ("timing", "attention_timing", "fused")
                  for row in (sections.get(name, {}).get("result") or {}).get("rows", [])]
    timed_rows += (sections.get("conv", {}).get("result") or {}).get("timings", [])
    for row in timed_rows:
        speed = (f"{row['own_tflops']:.2f} TFLOP/s" if "own_tflops" in row
                 else f"{row.get('own_gbs', 0):.0f} GB/s")
        ratio = f"{row['ratio']:.2f}x of {row['baseline']}" if "ratio" in row else "no baseline"
        for label in ("ragged",) + tuple(row.get("candidates", ())):
            if f"{label}_ratio" in row:
                ratio += f"; {label} {row[label + '_ms']:.3f} ms, {row[label + '_ratio']:.2f}x"
        lines.append(f"  {row['kernel']:<20} {row['shape']:<12} {row['own_ms']:>9.3f} ms "
                     f"{speed:>16}  {ratio}")
    torch_sdpa = (sections.get("attention_timing", {}).get("result") or {}).get("torch", {})
    for label, entry in torch_sdpa.items():
        if isinstance(entry, dict) and "forward_ms" in entry:
            lines.append(f"  torch sdpa {label:<20} fwd {entry['forward_ms']:.3f} ms, "
                         f"fwd+bwd {entry['fwd_bwd_ms']:.3f} ms")
    memory = sections.get("attention_memory", {}).get("result") or {}
    for row in memory.get("rows", []):
        lines.append(f"  flash memory T={row['length']:<6} peak {row['peak_bytes'] / 2**20:9.1f} MiB"
                     f" (scores would be {row['scores_bytes'] / 2**20:.0f} MiB)")
    for name in ("gpt_step", "cnn_epoch"):
        result = sections.get(name, {}).get("result")
        if result:
            lines.append(format_training(result))
    return "\n".join(lines)


def format_training(result):
    """One line for a ``gpt_step`` or ``cnn_epoch`` result: minigrad vs torch."""
    mine, theirs = result["minigrad"], result["torch"]
    if "epoch_seconds" in mine:
        def show(side, device):
            cut = (f" (extrapolated from {side['steps_timed']} steps)" if side["extrapolated"]
                   else "")
            return f"{side['epoch_seconds']:.1f} s on {device}{cut}"
        return (f"  {result['model']}: minigrad {show(mine, result['minigrad_device'])}, torch "
                f"{show(theirs, result['torch_device'])}; ratio {result['ratio']:.2f}")
    return (f"  {result['model']} step on {result['device']}: minigrad {mine['median_ms']:.1f} ms "
            f"(first {mine['first_step_ms']:.0f} ms), torch eager {theirs['median_ms']:.1f} ms; "
            f"ratio {result['ratio']:.2f}")


def write(report, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "gpu_check.json")
    with open(path, "w") as handle:
        json.dump(report, handle, indent=1, default=str)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT", "."))
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for everything")
    parser.add_argument("--quick", action="store_true", help="smaller shapes")
    parser.add_argument("--no-tests", action="store_true", help="skip the pytest section")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = dict(started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    report["versions"] = versions()
    print(json.dumps(report["versions"], indent=1), flush=True)
    cp, device = probe_gpu()
    report["device"] = device
    if cp is None:
        report["status"] = "no-gpu"
        path = write(report, args.out)
        print(f"gpu_check: no GPU here: {device}. Nothing to check; versions written to {path}.")
        return 0

    def left(share):
        return max(5.0, min(share, args.budget - (time.perf_counter() - start)))

    run_section(report, "correctness", correctness, left(45), cp, args.quick)
    write(report, args.out)
    run_section(report, "timing", timing, left(60), cp, args.quick)
    write(report, args.out)
    run_section(report, "conv", gpu_check_conv.conv_section, left(60), cp, relative_error,
                cuda_event_ms, args.quick)
    write(report, args.out)
    run_section(report, "attention_correctness", attention_correctness, left(40), cp, args.quick)
    write(report, args.out)
    run_section(report, "attention_timing", attention_timing, left(70), cp, args.quick)
    write(report, args.out)
    run_section(report, "attention_memory", attention_memory, left(25), cp, args.quick)
    write(report, args.out)
    run_section(report, "fused", fused, left(40), cp, args.quick)
    write(report, args.out)
    # Each training section splits its share between minigrad and torch, keeping ~20 s
    # for building the models and the first (compiling) steps.
    share = left(60)
    run_section(report, "gpt_step", lambda: gpt_step(
        cp, args.quick, budget_s=max(2.0, (share - 20) / 2)), share)
    write(report, args.out)
    share = left(50)
    run_section(report, "cnn_epoch", lambda: cnn_epoch(
        cp, args.quick, budget_s=max(2.0, (share - 20) / 2)), share)
    write(report, args.out)
    if not args.no_tests:
        remaining = left(args.budget)
        run_section(report, "tests", device_tests, remaining + 5, remaining)
    ok = all((report["sections"][name].get("result") or {}).get("ok", False)
             for name in ("correctness", "conv", "attention_correctness", "fused"))
    report["status"] = "ok" if ok else "correctness-failed"
    path = write(report, args.out)
    print(f"JSON: {path}")
    print(format_table(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
