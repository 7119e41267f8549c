"""The attention sections of ``gpu_check`` (flash-attention kernels on a lent GPU):
correctness against the float64 reference, CUDA-event timing against torch
``scaled_dot_product_attention`` fp32, and the peak memory of forward+backward.

Each section function takes the CuPy module (``cp``) and returns a JSON-able dict;
``gpu_check.main`` runs each under its own deadline.  ``attention_correctness`` only needs
``cp.asarray``/``cp.asnumpy``, so the CPU tests run it on a numpy stand-in in the CUDA
simulator at tiny shapes; ``PeakCounter`` and ``memory_growth`` are tested there too.
"""
import contextlib

from .gpu_measure import cuda_event_ms, relative_error


# Causal attention at the benchmark size: 4·B·H·T²·d / 2 FLOP forward (QKᵀ and PV, half
# the matrix), backward ≈ 2.5× that (5 products in FA2; these kernels do 7, counted as 5).
ATTENTION_SIZE = dict(batch=8, heads=12, length=4096, dim=64)


def attention_flops(batch, heads, length, dim, causal=True):
    """``(forward, backward)`` FLOP of one attention at this size (backward = 2.5·forward)."""
    forward = 4.0 * batch * heads * length * length * dim / (2 if causal else 1)
    return forward, 2.5 * forward


def attention_cases(quick=False):
    """Correctness shapes: ``(name, batch, Lq, Lk, d, dv, masking)``; ragged lengths, the
    head dims the kernels compile for separately, every masking kind, and (unless quick)
    one shape at the benchmark's per-head size."""
    cases = [("ragged", (2, 3), 37, 53, 64, 64, "none"),
             ("causal", (2, 3), 129, 129, 64, 64, "causal"),
             ("causal-rect", (1, 2), 70, 33, 64, 64, "causal"),
             ("bool+dead rows", (2, 2), 65, 97, 64, 64, "bool"),
             ("additive", (2, 2), 31, 200, 64, 64, "float"),
             ("key padding", (3, 4), 50, 77, 64, 64, "padding"),
             ("d=40", (1, 3), 45, 46, 40, 40, "causal"),
             ("d=128", (1, 2), 33, 90, 128, 128, "bool")]
    if not quick:
        cases.append(("T=1024 causal", (1, 2), 1024, 1024, 64, 64, "causal"))
    return cases


def attention_inputs(rng, batch, lq, lk, d, dv, masking):
    """float32 q, k, v, dO and the mask (None, bool or float32) and causal flag."""
    import numpy as np
    q, k, v = (rng.standard_normal(batch + shape).astype(np.float32)
               for shape in ((lq, d), (lk, d), (lk, dv)))
    d_out = rng.standard_normal(batch + (lq, dv)).astype(np.float32)
    mask = None
    if masking == "bool":
        mask = rng.random((lq, lk)) < 0.5
        mask[::7] = False                                       # fully masked rows
    elif masking == "float":
        mask = rng.standard_normal(batch[:1] + (1, lq, lk)).astype(np.float32)
    elif masking == "padding":
        mask = np.ones(batch[:1] + (1, 1, lk), bool)
        mask[0, ..., lk // 2:] = False
    return q, k, v, d_out, mask, masking == "causal"


def attention_correctness(cp, quick=False, cases=None):
    """Relative errors of the flash-attention wrappers (forward out and lse, backward dq,
    dk, dv; outputs NaN-poisoned before each launch) against the float64 reference; ``ok`` iff all ≤ 1e-5 (out, lse) / 1e-4 (grads).
    ``cp`` needs ``asarray``/``asnumpy`` (CuPy; the CPU tests pass a numpy stand-in)."""
    import numpy as np
    from minigrad_kernels.cuda import attention
    from minigrad_kernels.reference import attention as reference
    rng = np.random.default_rng(0)
    rows = []
    for name, batch, lq, lk, d, dv, masking in cases or attention_cases(quick):
        q, k, v, d_out, mask, causal = attention_inputs(rng, batch, lq, lk, d, dv, masking)
        wide = [None if a is None else (a if a.dtype == bool else a.astype(np.float64))
                for a in (q, k, v, mask)]
        want_out, want_lse = reference.flash_attention_forward(*wide, None, causal)
        want_grads = reference.flash_attention_backward(*wide[:3], want_out, want_lse,
                                                        d_out.astype(np.float64), wide[3],
                                                        None, causal)
        dev = [None if a is None else cp.asarray(a) for a in (q, k, v, mask)]
        with attention.poisoned_outputs():             # an unwritten element reads NaN
            out, lse = attention.flash_attention_forward(*dev, None, causal)
            grads = attention.flash_attention_backward(*dev[:3], out, lse, cp.asarray(d_out),
                                                       dev[3], None, causal)
        shape = f"{batch}x{lq}x{lk}x{d}"
        live = ~np.isneginf(want_lse)
        got_lse = cp.asnumpy(lse)
        dead_ok = bool(np.isneginf(got_lse[~live]).all())
        for label, got, want, bound in [("out", out, want_out, 1e-5),
                                        ("lse", got_lse[live], want_lse[live], 1e-5),
                                        ("dq", grads[0], want_grads[0], 1e-4),
                                        ("dk", grads[1], want_grads[1], 1e-4),
                                        ("dv", grads[2], want_grads[2], 1e-4)]:
            err = relative_error(cp.asnumpy(got), want)
            ok = err <= bound and (label != "lse" or dead_ok)
            rows.append(dict(kernel=f"flash {label} {name}", shape=shape, relerr=err, ok=ok))
    return dict(ok=all(row["ok"] for row in rows), rows=rows)


def tile_candidates(d):
    """``[(label, tiles)]`` timed against each other: the production tiles first, then (for
    d ≤ 64) two threads per row, which halves the registers (213 → 127 at d = 64, ptxas)
    and doubles the threads per block, for a barrier and a shared-memory exchange per tile."""
    from minigrad_kernels.cuda import attention
    production = attention.gpu_tiles(d, d)
    candidates = [("production", production)]
    if d <= 64 and d % 2 == 0:
        candidates.append(("G=2", {part: dict(tiles, G=2) for part, tiles in production.items()}))
    return candidates


def _torch_sdpa_backends(torch):
    """``{label: context manager factory}``: torch's default choice and each backend forced."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    choices = {"default": contextlib.nullcontext}
    for label in ("FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "MATH"):
        backend = getattr(SDPBackend, label, None)
        if backend is not None:
            choices[label] = (lambda b=backend: sdpa_kernel(b))
    return choices


def _torch_kernel_names(torch, function):
    """Names of the CUDA kernels one call of ``function`` launches (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        function()
        torch.cuda.synchronize()
    names = {event.key[:120] for event in prof.key_averages()
             if "memcpy" not in event.key.lower() and "memset" not in event.key.lower()}
    return sorted(names)[:16]


def attention_timing(cp, quick=False, size=None):
    """Forward and forward+backward of the flash kernels against torch SDPA fp32 (TF32 off)
    at ``ATTENTION_SIZE`` (causal); TFLOP/s and ratios; which backend torch picks."""
    from minigrad_kernels.cuda import attention
    size = dict(size or ATTENTION_SIZE)
    if quick:
        size["length"] = 1024
    b, h, t, d = size["batch"], size["heads"], size["length"], size["dim"]
    q, k, v, d_out = (cp.random.standard_normal((b, h, t, d), dtype=cp.float32)
                      for _ in range(4))
    fwd_flop, bwd_flop = attention_flops(b, h, t, d)
    shape = f"{b}x{h}x{t}x{d} causal"
    state = {}

    def forward():
        state["out"], state["lse"] = attention.flash_attention_forward(q, k, v, None, None, True)

    def backward():
        attention.flash_attention_backward(q, k, v, state["out"], state["lse"], d_out, None,
                                           None, True)

    def both():
        forward()
        backward()

    rows = []
    first, own_fwd = cuda_event_ms(cp, forward, repeat=10)
    first_bwd, own_bwd = cuda_event_ms(cp, backward, repeat=10)
    _, own_both = cuda_event_ms(cp, both, repeat=10)
    rows.append(dict(kernel="flash forward", shape=shape, first_call_ms=first, own_ms=own_fwd,
                     own_tflops=round(fwd_flop / own_fwd / 1e9, 2)))
    rows.append(dict(kernel="flash backward", shape=shape, first_call_ms=first_bwd,
                     own_ms=own_bwd, own_tflops=round(bwd_flop / own_bwd / 1e9, 2)))
    both_row = dict(kernel="flash fwd+bwd", shape=shape, own_ms=own_both,
                    own_tflops=round((fwd_flop + bwd_flop) / own_both / 1e9, 2))
    rows.append(both_row)
    for label, tiles in tile_candidates(d)[1:]:        # the sweep: other tiles, same run
        out, lse = attention.flash_attention_forward(q, k, v, None, None, True, tiles=tiles)
        differs = float(abs(out - state["out"]).max())
        _, variant_fwd = cuda_event_ms(cp, lambda: attention.flash_attention_forward(
            q, k, v, None, None, True, tiles=tiles), warmup=1, repeat=5)
        _, variant_bwd = cuda_event_ms(cp, lambda: attention.flash_attention_backward(
            q, k, v, out, lse, d_out, None, None, True, tiles=tiles), warmup=1, repeat=5)
        rows.append(dict(kernel=f"flash fwd [{label}]", shape=shape, own_ms=variant_fwd,
                         own_tflops=round(fwd_flop / variant_fwd / 1e9, 2),
                         max_abs_diff_to_default=differs))
        rows.append(dict(kernel=f"flash bwd [{label}]", shape=shape, own_ms=variant_bwd,
                         own_tflops=round(bwd_flop / variant_bwd / 1e9, 2)))
    torch_rows = {}
    try:
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        tq, tk, tv = (torch.as_tensor(x, device="cuda").requires_grad_() for x in (q, k, v))
        tdo = torch.as_tensor(d_out, device="cuda")
        sdpa = torch.nn.functional.scaled_dot_product_attention
        for label, context in _torch_sdpa_backends(torch).items():
            try:
                with context():
                    def torch_forward():
                        with torch.no_grad():
                            sdpa(tq, tk, tv, is_causal=True)

                    def torch_both():
                        sdpa(tq, tk, tv, is_causal=True).backward(tdo)

                    _, base_fwd = cuda_event_ms(cp, torch_forward, warmup=1, repeat=5)
                    _, base_both = cuda_event_ms(cp, torch_both, warmup=1, repeat=5)
                    entry = dict(forward_ms=base_fwd, fwd_bwd_ms=base_both)
                    if label == "default":
                        entry["kernels"] = _torch_kernel_names(torch, torch_forward)
                torch_rows[label] = entry
            except Exception as error:                         # noqa: BLE001 (not usable)
                torch_rows[label] = dict(error=f"{type(error).__name__}: {str(error)[:200]}")
        default = torch_rows.get("default", {})
        if "forward_ms" in default:
            rows[0].update(baseline="torch sdpa fp32 (default)", baseline_ms=default["forward_ms"],
                           ratio=round(default["forward_ms"] / own_fwd, 3))
            both_row.update(baseline="torch sdpa fp32 (default)",
                            baseline_ms=default["fwd_bwd_ms"],
                            ratio=round(default["fwd_bwd_ms"] / own_both, 3))
    except ImportError:
        torch_rows["error"] = "torch is not installed"
    return dict(rows=rows, torch=torch_rows)


class PeakCounter:
    """Bytes in use and the peak, from ``malloc(bytes)`` / ``free(bytes)`` events."""

    def __init__(self):
        self.current = self.peak = 0

    def malloc(self, size):
        self.current += size
        self.peak = max(self.peak, self.current)

    def free(self, size):
        self.current -= size


def pool_peak_hook(cp):
    """A CuPy memory hook counting the memory pool's bytes in use (``.counter``): every
    ``malloc`` from and ``free`` to the pool, whatever its keyword names in this version."""

    class PeakHook(cp.cuda.MemoryHook):
        name = "PeakHook"

        def __init__(self):
            self.counter = PeakCounter()

        def malloc_postprocess(self, *args, **kwargs):
            self.counter.malloc(kwargs["mem_size"] if "mem_size" in kwargs else args[2])

        def free_postprocess(self, *args, **kwargs):
            self.counter.free(kwargs["mem_size"] if "mem_size" in kwargs else args[1])

    return PeakHook()


def attention_memory(cp, quick=False, lengths=(1024, 2048, 4096), batch=1, heads=12, dim=64):
    """Peak memory-pool bytes of forward+backward (causal) beyond the inputs at each T: grows
    like T (inputs, outputs, lse), where a materialised score matrix would grow like T²;
    torch SDPA's ``max_memory_allocated`` beside it."""
    from minigrad_kernels.cuda import attention
    rows = []
    for t in lengths[:2] if quick else lengths:
        q, k, v, d_out = (cp.random.standard_normal((batch, heads, t, dim), dtype=cp.float32)
                          for _ in range(4))
        cp.cuda.Device().synchronize()
        hook = pool_peak_hook(cp)
        with hook:
            out, lse = attention.flash_attention_forward(q, k, v, None, None, True)
            grads = attention.flash_attention_backward(q, k, v, out, lse, d_out, None, None, True)
            cp.cuda.Device().synchronize()
        del out, lse, grads
        row = dict(length=t, peak_bytes=hook.counter.peak,
                   scores_bytes=4 * batch * heads * t * t, inputs_bytes=4 * q.nbytes)
        try:
            import torch
            tq, tk, tv = (torch.as_tensor(x, device="cuda").requires_grad_() for x in (q, k, v))
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            torch.nn.functional.scaled_dot_product_attention(
                tq, tk, tv, is_causal=True).backward(torch.as_tensor(d_out, device="cuda"))
            torch.cuda.synchronize()
            row["torch_peak_bytes"] = torch.cuda.max_memory_allocated() - base
            del tq, tk, tv
        except Exception as error:                             # noqa: BLE001
            row["torch_error"] = f"{type(error).__name__}: {str(error)[:200]}"
        rows.append(row)
    return dict(rows=rows, growth=memory_growth(rows))


def memory_growth(rows):
    """``peak(T_last) / peak(T_first)`` against ``T_last / T_first``: ≈ 1 for O(T) memory,
    ≈ T ratio for O(T²)."""
    if len(rows) < 2 or not rows[0]["peak_bytes"]:
        return None
    length_ratio = rows[-1]["length"] / rows[0]["length"]
    return dict(length_ratio=length_ratio,
                peak_ratio=round(rows[-1]["peak_bytes"] / rows[0]["peak_bytes"], 3),
                linear=rows[-1]["peak_bytes"] / rows[0]["peak_bytes"] <= 1.25 * length_ratio)
