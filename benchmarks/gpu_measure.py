"""Measuring helpers shared by ``gpu_check`` and ``gpu_check_attention``: the median of
timings, CUDA-event timing after warm-up, and the relative error against a reference."""
import statistics
import time


def median_ms(samples):
    """Median of a list of milliseconds, rounded to the microsecond."""
    if not samples:
        raise ValueError("no timing samples")
    return round(statistics.median(samples), 3)


def relative_error(got, want):
    """``max|got − want| / max|want|`` (``want``'s scale, so near-zero entries do not
    dominate); NaN anywhere in ``got`` gives inf."""
    import numpy as np
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise ValueError(f"shape {got.shape} != reference {want.shape}")
    if not np.isfinite(got).all():
        return float("inf")
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
    return float(np.abs(got - want).max(initial=0.0) / scale)


def cuda_event_ms(cp, function, warmup=3, repeat=20):
    """``(first_call_ms, median_ms)``: the first call by the host clock (it JIT compiles),
    then the CUDA-event median of ``repeat`` calls after ``warmup``."""
    start = time.perf_counter()
    function()
    cp.cuda.Device().synchronize()
    first = (time.perf_counter() - start) * 1e3
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeat):
        begin, end = cp.cuda.Event(), cp.cuda.Event()
        begin.record()
        function()
        end.record()
        end.synchronize()
        samples.append(cp.cuda.get_elapsed_time(begin, end))
    return round(first, 1), median_ms(samples)
