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
   ``cupy.matmul`` (cuBLAS fp32, ``CUPY_TF32=0``) and torch (TF32 off) for SGEMM, torch
   for softmax / log-softmax / layer norm; TFLOP/s or GB/s and the ratio;
3. ``attention_correctness``, ``attention_timing``, ``attention_memory``: the flash
   attention kernels (``kernels/cuda/attention.py``) on ragged shapes, causal, boolean,
   additive and key-padding masks and fully masked rows, forward and backward, against
   the float64 reference; then CUDA-event timing of forward and forward+backward at
   B=8, H=12, T=4096, d=64, causal, against torch ``scaled_dot_product_attention`` fp32
   (default choice, and each backend forced, with the backend torch picks); then the
   peak memory pool use of forward+backward at T = 1024, 2048, 4096 (O(T), not O(T²));
4. ``fused``: the fused kernels (cross-entropy forward/backward/fused, GELU, the one-launch
   Adam) against float64, then timed against torch on the same card;
5. ``gpt_step``: one eager training step (forward, backward, Adam) of the GPT at
   6 layers × 384, context 256, batch 64, minigrad on CUDA vs torch eager on CUDA
   (TF32 off): first step and median of the next ones;
6. ``cnn_epoch``: one epoch (60,000 images, batch 64 = 938 steps, Adam) of the seed CNN,
   minigrad on CUDA vs torch on the CPU, on MNIST-shaped random data (the lent machine
   has no network, and the values do not change the time).  Steps run until the epoch
   ends or the section's time share is spent; a cut epoch is extrapolated from the mean
   step time and marked ``extrapolated`` (``epoch_seconds``);
7. ``tests``: the simulator suite of the kernels against the real device, then
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

from .gpu_check_attention import attention_correctness, attention_memory, attention_timing
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

    shapes = [(1, 37, 129, 65), (3, 130, 257, 129)] + ([] if quick else [(1, 1024, 1024, 1024)])
    for z, m, k, n in shapes:
        a = rng.standard_normal((z, m, k)).astype(np.float32)
        b = rng.standard_normal((z, k, n)).astype(np.float32)
        want = a.astype(np.float64) @ b
        for trans_a in (False, True):
            for trans_b in (False, True):
                kernel = matmul.default_kernel(trans_a, trans_b)
                a_dev = cp.asarray(np.ascontiguousarray(a.swapaxes(1, 2)) if trans_a else a)
                b_dev = cp.asarray(np.ascontiguousarray(b.swapaxes(1, 2)) if trans_b else b)
                c = cp.full((z, m, n), cp.nan, dtype=cp.float32)       # NaN-poisoned
                grid, threads = matmul.sgemm_launch(kernel, m, n, z)
                kernel[grid, threads](a_dev, b_dev, c)
                record(f"sgemm_{'t' if trans_a else 'n'}{'t' if trans_b else 'n'}", (z, m, k, n),
                       c, want)
        record("matmul (wrapper)", (z, m, k, n), matmul.matmul(cp.asarray(a), cp.asarray(b)), want)

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
        first, own = cuda_event_ms(cp, lambda: matmul.matmul(a, b))
        _, cublas = cuda_event_ms(cp, lambda: cp.matmul(a, b))
        row = dict(kernel="sgemm", shape=f"{n}^3", first_call_ms=first, own_ms=own,
                   own_tflops=round(flop / own / 1e9, 2), baseline="cupy.matmul (cuBLAS fp32)",
                   baseline_ms=cublas, ratio=round(cublas / own, 3))
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


# Shapes of the fused-kernel checks: ragged ones and the benchmark ones (the CPU test
# shrinks them to run the checks under the CUDA simulator).
FUSED_SHAPES = dict(cross_entropy=[(7, 13), (16384, 65), (8192, 50257)], gelu=[77, 1 << 20],
                    adam=[61, 1 << 22])


def fused(cp, quick=False):
    """The fused kernels against float64 numpy (relative error ≤ 1e-5; Adam against the
    numpy reference bit for bit), then timed against torch: rows as ``correctness``'s and
    ``timing``'s, in one result."""
    result = fused_checks(cp, quick)
    result["rows"] = fused_timing(cp, quick)
    return result


def fused_checks(cp, quick=False):
    """``{ok, checks}``: each fused kernel on fresh random inputs against float64."""
    import numpy as np
    from minigrad_kernels.cuda import loss, optimizer, pointwise
    from minigrad_kernels.reference.optimizer import adam_update as adam_reference
    rng = np.random.default_rng(1)
    checks = []

    def record(name, shape, got, want, bound=1e-5):
        err = relative_error(cp.asnumpy(got), want)
        checks.append(dict(kernel=name, shape=str(shape), relerr=err, ok=err <= bound))

    for n, c in FUSED_SHAPES["cross_entropy"][: 2 if quick else None]:
        x = (rng.standard_normal((n, c)) * 3).astype(np.float32)
        t = rng.integers(0, c, n)
        t[::7] = -100
        x64 = x.astype(np.float64)
        lse = np.log(np.exp(x64 - x64.max(1, keepdims=True)).sum(1)) + x64.max(1)
        kept = t != -100
        rows_loss = np.where(kept, lse - x64[np.arange(n), np.where(kept, t, 0)], 0.0)
        p = np.exp(x64 - lse[:, None])
        p[np.arange(n)[kept], t[kept]] -= 1
        grad = p * kept[:, None] / kept.sum()
        got_loss, got_lse, got_dx = loss.cross_entropy_fused_rows(
            cp.asarray(x), cp.asarray(t), None, -100, 0.0, "mean")
        record("cross_entropy_fused loss", (n, c), got_loss, rows_loss.sum() / kept.sum())
        record("cross_entropy_fused lse", (n, c), got_lse, lse)
        record("cross_entropy_fused dx", (n, c), got_dx, grad)
        record("cross_entropy_backward", (n, c), loss.cross_entropy_backward(
            cp.asarray(x), cp.asarray(t), cp.ones((), cp.float32), None, -100, 0.0, "mean"), grad)
    import math
    erf = np.vectorize(math.erf)
    for size in FUSED_SHAPES["gelu"]:
        x = (rng.standard_normal(size) * 3).astype(np.float32)
        x64 = x.astype(np.float64)
        cdf = 0.5 * (1 + erf(x64 / math.sqrt(2)))
        record("gelu", size, pointwise.gelu(cp.asarray(x)), x64 * cdf)
        record("gelu_backward", size, pointwise.gelu_backward(cp.ones(size, cp.float32),
                                                              cp.asarray(x)),
               cdf + x64 * np.exp(-0.5 * x64 ** 2) / math.sqrt(2 * math.pi))
    for size in FUSED_SHAPES["adam"]:
        arrays = [rng.standard_normal(size).astype(np.float32) for _ in range(3)]
        arrays.append(np.abs(rng.standard_normal(size)).astype(np.float32) * 1e-2)
        theta, grad, m, v = arrays
        want = [a.copy() for a in (theta, m, v)]
        hyper = (7, 1e-3, 0.9, 0.999, 1e-8, 0.1, True, False)
        adam_reference(want[0], grad, want[1], want[2], None, *hyper)
        got = [cp.asarray(a) for a in (theta, m, v)]
        optimizer.adam_update(got[0], cp.asarray(grad), got[1], got[2], None, *hyper)
        same = all(np.array_equal(cp.asnumpy(g), w) for g, w in zip(got, want))
        checks.append(dict(kernel="adam_update (bit for bit)", shape=str(size),
                           relerr=0.0 if same else relative_error(cp.asnumpy(got[0]), want[0]),
                           ok=same))
    return dict(ok=all(check["ok"] for check in checks), checks=checks)


def fused_timing(cp, quick=False):
    """Rows as ``timing``'s: the fused kernels against torch on the same card."""
    from minigrad_kernels.cuda import loss, optimizer, pointwise
    rows = []
    try:
        import torch
        torch_ok = torch.cuda.is_available()
    except ImportError:
        torch, torch_ok = None, False
    n, c = (8192, 50257) if not quick else (4096, 8192)
    x = cp.random.standard_normal((n, c), dtype=cp.float32)
    t = cp.random.randint(0, c, n).astype(cp.int64)
    first, own = cuda_event_ms(cp, lambda: loss.cross_entropy_fused_rows(
        x, t, None, -100, 0.0, "mean"))
    row = dict(kernel="cross_entropy fwd+bwd", shape=f"{n}x{c}", first_call_ms=first, own_ms=own,
               own_gbs=round(2 * x.nbytes / 1e9 / own * 1e3, 1))
    if torch_ok:
        tx = torch.as_tensor(x, device="cuda").requires_grad_()
        tt = torch.as_tensor(t, device="cuda")

        def torch_ce():
            tx.grad = None
            torch.nn.functional.cross_entropy(tx, tt).backward()
        _, base = cuda_event_ms(cp, torch_ce)
        row.update(baseline="torch", baseline_ms=base, ratio=round(base / own, 3))
    rows.append(row)
    size = 64 * 256 * 4 * 384
    x = cp.random.standard_normal(size, dtype=cp.float32)
    first, own = cuda_event_ms(cp, lambda: pointwise.gelu(x))
    row = dict(kernel="gelu", shape=str(size), first_call_ms=first, own_ms=own,
               own_gbs=round(2 * x.nbytes / 1e9 / own * 1e3, 1))
    if torch_ok:
        tx = torch.as_tensor(x, device="cuda")
        _, base = cuda_event_ms(cp, lambda: torch.nn.functional.gelu(tx))
        row.update(baseline="torch", baseline_ms=base, ratio=round(base / own, 3))
    rows.append(row)
    size = 124_000_000 if not quick else 10_000_000
    theta, grad, m, v = (cp.random.standard_normal(size, dtype=cp.float32) for _ in range(4))
    v = cp.abs(v)
    first, own = cuda_event_ms(cp, lambda: optimizer.adam_update(
        theta, grad, m, v, None, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False))
    row = dict(kernel="adam_update", shape=str(size), first_call_ms=first, own_ms=own,
               own_gbs=round(7 * theta.nbytes / 1e9 / own * 1e3, 1))
    if torch_ok:
        tensors = [torch.as_tensor(a, device="cuda") for a in (theta, grad, m, v)]
        param = torch.nn.Parameter(tensors[0])
        param.grad = tensors[1]
        opt = torch.optim.Adam([param], lr=1e-3, fused=True)
        _, base = cuda_event_ms(cp, opt.step)
        row.update(baseline="torch Adam(fused=True)", baseline_ms=base, ratio=round(base / own, 3))
    rows.append(row)
    return rows


# ------------------------------------------------------------------------- training steps
GPT_SIZE = dict(n_layer=6, n_embd=384, n_head=6, block_size=256, batch=64, vocab=65)
CNN_EPOCH = dict(images=60000, batch=64)


def step_times(step, synchronize, steps, budget_s, warmup=2):
    """Run ``step`` ``warmup`` times (the first timed on its own: it compiles), then up to
    ``steps`` timed steps or until ``budget_s`` seconds are spent, whichever is first.
    Returns ``{first_step_ms, steps_timed, median_ms, mean_ms, total_s}``."""
    start = time.perf_counter()
    step()
    synchronize()
    first = (time.perf_counter() - start) * 1e3
    for _ in range(warmup - 1):
        step()
    synchronize()
    times = []
    began = time.perf_counter()
    while len(times) < steps and (not times or time.perf_counter() - began < budget_s):
        t0 = time.perf_counter()
        step()
        synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return dict(first_step_ms=round(first, 1), steps_timed=len(times),
                median_ms=round(statistics.median(times), 3),
                mean_ms=round(statistics.fmean(times), 3),
                total_s=round(time.perf_counter() - began, 2))


def epoch_estimate(timed, steps_per_epoch):
    """``timed`` (``step_times``'s dict) as an epoch: ``epoch_seconds`` measured when every
    step of the epoch ran, else the mean step × ``steps_per_epoch``, ``extrapolated``."""
    extrapolated = timed["steps_timed"] < steps_per_epoch
    seconds = (timed["mean_ms"] * steps_per_epoch / 1e3 if extrapolated else timed["total_s"])
    return dict(timed, steps_per_epoch=steps_per_epoch, epoch_seconds=round(seconds, 2),
                extrapolated=extrapolated)


def _libraries(device):
    import torch

    import minigrad as mg
    sync_mg = mg.cuda.synchronize if device == "cuda" else (lambda: None)
    sync_torch = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return mg, torch, sync_mg, sync_torch


def _train_step(lib, model, loss_fn, optimizer):
    def step():
        optimizer.zero_grad()
        loss_fn().backward()
        optimizer.step()
    return step


def gpt_step(cp=None, quick=False, device="cuda", size=None, steps=10, budget_s=40.0):
    """One eager training step (Adam lr 1e-3) of the GPT, minigrad and torch on ``device``
    (the same architecture, parameter counts checked equal), TF32 off in torch."""
    import numpy as np
    from minigrad_benchmarks.torch_twins import TorchGPT
    from minigrad_models.gpt import GPT, GPTConfig
    mg, torch, sync_mg, sync_torch = _libraries(device)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    size = dict(GPT_SIZE, **(size or {}))
    if quick:
        steps = min(steps, 3)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, size["vocab"], (size["batch"], size["block_size"] + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]
    mg.manual_seed(0)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=size["vocab"], block_size=size["block_size"],
                       n_layer=size["n_layer"], n_head=size["n_head"], n_embd=size["n_embd"])
    m_model = GPT(config).to(device)
    t_model = TorchGPT(size["vocab"], size["block_size"], size["n_layer"], size["n_head"],
                       size["n_embd"]).to(device)
    m_count = sum(int(np.prod(tuple(p.shape))) for p in m_model.parameters())
    t_count = sum(p.numel() for p in t_model.parameters())
    if m_count != t_count:
        raise RuntimeError(f"GPT parameter counts differ: minigrad {m_count}, torch {t_count}")
    mx, my = mg.tensor(x, device=device), mg.tensor(y, device=device)
    tx, ty = torch.tensor(x, device=device), torch.tensor(y, device=device)
    m_step = _train_step(mg, m_model, lambda: m_model(mx, my)[1],
                         mg.optim.Adam(m_model.parameters(), lr=1e-3))
    t_step = _train_step(torch, t_model, lambda: torch.nn.functional.cross_entropy(
        t_model(tx).flatten(0, 1), ty.flatten()), torch.optim.Adam(t_model.parameters(), lr=1e-3))
    minigrad = step_times(m_step, sync_mg, steps, budget_s)
    baseline = step_times(t_step, sync_torch, steps, budget_s)
    return dict(model=f"GPT {size['n_layer']}x{size['n_embd']} ctx {size['block_size']} "
                      f"batch {size['batch']}", params=m_count, device=device,
                minigrad=minigrad, torch=baseline,
                ratio=round(minigrad["median_ms"] / baseline["median_ms"], 3))


def cnn_epoch(cp=None, quick=False, device="cuda", torch_device="cpu", images=None,
              budget_s=60.0):
    """One epoch of the seed CNN (Adam lr 1e-3, batch 64): minigrad on ``device`` (each
    batch copied there from host memory, as a loader would) vs torch on ``torch_device``
    (all its threads), on MNIST-shaped random data; each side runs until the epoch ends
    or ``budget_s`` is spent, then ``epoch_estimate`` (extrapolated if cut)."""
    import numpy as np
    from minigrad_benchmarks.torch_twins import torch_seed_cnn
    from minigrad_models.cnn import SeedCNN
    mg, torch, sync_mg, _ = _libraries(device)
    sync_torch = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    images = images or CNN_EPOCH["images"]
    batch = CNN_EPOCH["batch"]
    steps = -(-images // batch)
    if quick:
        budget_s = min(budget_s, 10.0)
    rng = np.random.default_rng(0)
    data = rng.random((images, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, images)
    mg.manual_seed(0)
    torch.manual_seed(0)
    m_model, t_model = SeedCNN().to(device), torch_seed_cnn().to(torch_device)
    m_opt = mg.optim.Adam(m_model.parameters(), lr=1e-3)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
    position = {"mg": 0, "torch": 0}

    def batch_of(key):
        start = position[key] % images
        position[key] = start + batch
        return data[start:start + batch], labels[start:start + batch]

    def m_step():
        xb, yb = batch_of("mg")
        m_opt.zero_grad()
        mg.nn.functional.cross_entropy(m_model(mg.tensor(xb, device=device)),
                                       mg.tensor(yb, device=device)).backward()
        m_opt.step()

    def t_step():
        xb, yb = batch_of("torch")
        t_opt.zero_grad()
        torch.nn.functional.cross_entropy(t_model(torch.from_numpy(xb).to(torch_device)),
                                          torch.from_numpy(yb).to(torch_device)).backward()
        t_opt.step()

    minigrad = epoch_estimate(step_times(m_step, sync_mg, steps, budget_s), steps)
    baseline = epoch_estimate(step_times(t_step, sync_torch, steps, budget_s), steps)
    return dict(model="seed CNN, one MNIST-sized epoch (random data)", images=images,
                batch=batch, minigrad_device=device, torch_device=torch_device,
                torch_threads=torch.get_num_threads(), minigrad=minigrad, torch=baseline,
                ratio=round(minigrad["epoch_seconds"] / baseline["epoch_seconds"], 3))


def device_tests(seconds):
    """The kernels' simulator tests on the real device, then ``pytest -m gpu``."""
    env = dict(os.environ, MINIGRAD_REAL_CUDA="1")
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    results = {}
    for name, args in [("kernel tests", ["tests/kernels/test_cuda_kernels.py",
                                         "tests/kernels/test_cuda_attention_kernels.py",

                                          "tests/kernels/test_cuda_fused_kernels.py"]),
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
    for name in ("correctness", "attention_correctness"):
        correct = sections.get(name, {}).get("result") or {}
        for row in correct.get("rows", []):
            lines.append(f"  {'ok ' if row['ok'] else 'BAD'} {row['kernel']:<28} "
                         f"{row['shape']:<22} relerr {row['relerr']:.2e}")
    for row in fused_result.get("checks", []):
        lines.append(f"  {'ok ' if row['ok'] else 'BAD'} {row['kernel']:<28} {row['shape']:<22} "
                     f"relerr {row['relerr']:.2e}")
    timed_rows = [row for name in ("timing", "attention_timing", "fused")
                  for row in (sections.get(name, {}).get("result") or {}).get("rows", [])]
    for row in timed_rows:
        speed = (f"{row['own_tflops']:.2f} TFLOP/s" if "own_tflops" in row
                 else f"{row.get('own_gbs', 0):.0f} GB/s")
        ratio = f"{row['ratio']:.2f}x of {row['baseline']}" if "ratio" in row else "no baseline"
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

    run_section(report, "correctness", correctness, left(90), cp, args.quick)
    write(report, args.out)
    run_section(report, "timing", timing, left(120), cp, args.quick)
    write(report, args.out)
    run_section(report, "attention_correctness", attention_correctness, left(60), cp, args.quick)
    write(report, args.out)
    run_section(report, "attention_timing", attention_timing, left(120), cp, args.quick)
    write(report, args.out)
    run_section(report, "attention_memory", attention_memory, left(45), cp, args.quick)
    write(report, args.out)
    run_section(report, "fused", fused, left(60), cp, args.quick)
    write(report, args.out)
    # Each training section splits its share between minigrad and torch, keeping ~20 s
    # for building the models and the first (compiling) steps.
    share = left(90)
    run_section(report, "gpt_step", lambda: gpt_step(
        cp, args.quick, budget_s=max(2.0, (share - 20) / 2)), share)
    write(report, args.out)
    share = left(90)
    run_section(report, "cnn_epoch", lambda: cnn_epoch(
        cp, args.quick, budget_s=max(2.0, (share - 20) / 2)), share)
    write(report, args.out)
    if not args.no_tests:
        remaining = left(args.budget)
        run_section(report, "tests", device_tests, remaining + 5, remaining)
    ok = all(report["sections"][name].get("result", {}).get("ok", False)
             for name in ("correctness", "attention_correctness", "fused"))
    report["status"] = "ok" if ok else "correctness-failed"
    path = write(report, args.out)
    print(f"JSON: {path}")
    print(format_table(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
