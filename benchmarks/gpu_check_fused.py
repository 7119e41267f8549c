"""The fused-kernel section of ``gpu_check`` (``kernels/cuda/loss.py``, ``pointwise.py``,
``optimizer.py`` on a lent GPU): the fused cross-entropy, GELU and one-launch Adam/AdamW
against float64 numpy (Adam against the numpy reference bit for bit), then timed with CUDA
events against torch on the same card.

Each function takes the CuPy module (``cp``) and returns JSON-able rows;
``gpu_check.main`` runs ``fused`` under its own deadline.  ``fused_checks`` only needs
``cp.asarray``/``cp.asnumpy``, so the CPU tests run it on numpy in the CUDA simulator with
``FUSED_SHAPES`` shrunk.
"""
from .gpu_measure import cuda_event_ms, relative_error

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
