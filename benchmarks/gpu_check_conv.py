"""The conv section of ``gpu_check.py``: the implicit-GEMM conv2d kernels (and pooling) of
``kernels/cuda/`` against float64, then against cuDNN on ResNet-50's 3×3 layers.

1. correctness: forward, input gradient and weight gradient wrappers (and the four
   pooling wrappers) on fresh random inputs with ragged shapes (odd sizes, stride,
   dilation, groups, depthwise) plus one benchmark-sized layer, outputs NaN-poisoned (the
   wrappers' ``empty`` is swapped for a NaN fill), relative error against the float64
   reference (``CATALOGUE.reference_impl`` on the host);
2. timings: CUDA-event medians (first call separately: it JIT compiles) of own fwd /
   dgrad / wgrad against torch's ``conv2d`` and ``aten.convolution_backward`` (cuDNN,
   ``benchmark=True``, TF32 off) on the stride-1 3×3 layers 64→64 at 56², 128→128 at 28²,
   256→256 at 14², 512→512 at 7², batch 64 (16 with ``--quick``); TFLOP/s (2·N·O·OH·OW·C/g·KH·KW
   FLOP, direct-conv count, also for cuDNN whatever algorithm it picks) and ratio
   ``cudnn_ms / own_ms`` (≥ 0.6 is the target); cuDNN's kernel names from ``torch.profiler``
   (a ``winograd`` name means cuDNN does fewer real FLOPs than counted).

Everything but the timing is CPU-testable (``tests/benchmarks/test_gpu_check.py``: the
correctness pass runs in the CUDA simulator on tiny shapes, the torch baselines on CPU).
"""
import contextlib
import types

import numpy

# (N, C, H, W, O, (kh, kw), stride, padding, dilation, groups)
RAGGED_CASES = [
    (3, 37, 29, 31, 45, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (2, 24, 33, 17, 40, (3, 5), (2, 1), (2, 0), (1, 2), 4),
    (2, 32, 19, 23, 32, (3, 3), (2, 2), (1, 1), (1, 1), 32),
    (5, 67, 9, 11, 129, (1, 1), (1, 1), (0, 0), (1, 1), 1),
]
BENCHMARK_CASE = (8, 128, 28, 28, 128, (3, 3), (1, 1), (1, 1), (1, 1), 1)
TINY_CASES = [(2, 3, 7, 6, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1),
              (1, 4, 7, 8, 4, (3, 3), (2, 2), (1, 0), (2, 1), 2)]
# ResNet-50's stride-1 3×3 convolutions (channels, spatial side).
RESNET_3X3 = [(64, 56), (128, 28), (256, 14), (512, 7)]
POOL_WINDOWS = [("max", ((3, 3), (2, 2), (1, 1), (1, 1), False)),
                ("max", ((2, 3), (1, 2), (1, 0), (2, 1), True)),
                ("avg", ((3, 3), (2, 2), (1, 1), False, True, None)),
                ("avg", ((2, 3), (1, 2), (1, 0), True, False, 5))]


def conv_flop(case):
    """2·N·O·OH·OW·(C/g)·KH·KW: multiply-adds of the direct convolution, counted twice."""
    from minigrad_kernels.reference.windows import output_shape
    n, c, h, w, o, kernel, stride, padding, dilation, groups = case
    oh, ow = output_shape((n, c, h, w), kernel, stride, padding, dilation)
    return 2.0 * n * o * oh * ow * (c // groups) * kernel[0] * kernel[1]


def resnet_cases(batch):
    return [(batch, c, side, side, c, (3, 3), (1, 1), (1, 1), (1, 1), 1) for c, side in RESNET_3X3]


@contextlib.contextmanager
def poisoned_outputs(modules, xp):
    """Within the block the wrappers of ``modules`` allocate with a NaN-filling ``empty``
    (integers: −7), so an output element no thread writes shows up as NaN."""
    def empty(shape, dtype=float, **kwargs):
        dtype = numpy.dtype(dtype)
        return xp.full(shape, numpy.nan if dtype.kind == "f" else -7, dtype=dtype)

    shim = types.SimpleNamespace(**{name: getattr(xp, name) for name in dir(xp)
                                    if not name.startswith("__")})
    shim.__name__, shim.empty = xp.__name__, empty
    saved = [(module, module.get_array_module) for module in modules]
    try:
        for module, _ in saved:
            module.get_array_module = lambda *arrays: shim
        yield
    finally:
        for module, original in saved:
            module.get_array_module = original


def _operands(case, rng):
    x_shape, w_shape, y_shape = conv_shapes(case)
    x, w, dy = (rng.standard_normal(shape).astype(numpy.float32)
                for shape in (x_shape, w_shape, y_shape))
    return x, w, dy, case[6:]


def conv_correctness(xp, to_host, cases, relative_error, bound=1e-5, pool_shape=(3, 5, 17, 20)):
    """Rows ``{kernel, shape, relerr, ok}`` for the three conv wrappers on ``cases`` and the
    pooling wrappers on a ``pool_shape`` image, outputs NaN-poisoned, against float64
    references on the host."""
    from minigrad_kernels.catalogue import CATALOGUE
    from minigrad_kernels.cuda import conv, pooling
    rng = numpy.random.default_rng(0)
    rows = []

    def record(name, shape, got, want):
        err = relative_error(to_host(got), want)
        rows.append(dict(kernel=name, shape=str(shape), relerr=err, ok=err <= bound))

    def wide(args):
        return [a.astype(numpy.float64) if isinstance(a, numpy.ndarray) and a.dtype.kind == "f"
                else a for a in args]

    def run(name, args, device_args):
        with poisoned_outputs((conv, pooling), xp):
            got = getattr(conv if name.startswith("conv") else pooling, name)(*device_args)
        return got, CATALOGUE.reference_impl(name)(*wide(args))

    for case in cases:
        x, w, dy, geometry = _operands(case, rng)
        dev = {id(a): xp.asarray(a) for a in (x, w, dy)}
        for name, args in (("conv2d_forward", (x, w)), ("conv2d_backward_input", (dy, w, x.shape)),
                           ("conv2d_backward_weight", (dy, x, w.shape))):
            args = args + geometry
            got, want = run(name, args, [dev.get(id(a), a) for a in args])
            record(name, case, got, want)
    x = rng.standard_normal(pool_shape).astype(numpy.float32)
    x[0, 0, 2, 3] = x[0, 0, 2, 4] = 9.0                    # a tie: the first maximum wins
    for kind, window in POOL_WINDOWS:
        got, want = run(f"{kind}_pool2d_forward", (x,) + window, (xp.asarray(x),) + window)
        if kind == "max":
            (y, indices), (want_y, want_indices) = got, want
            record("max_pool2d_forward", window, y, want_y)
            exact = bool((to_host(indices) == want_indices).all())
            rows.append(dict(kernel="max_pool2d_forward indices", shape=str(window),
                             relerr=0.0 if exact else float("inf"), ok=exact))
            dy = rng.standard_normal(want_y.shape).astype(numpy.float32)
            backward = (dy, want_indices, x.shape)
        else:
            record("avg_pool2d_forward", window, got, want)
            dy = rng.standard_normal(want.shape).astype(numpy.float32)
            backward = (dy, x.shape) + window
        device_args = [xp.asarray(a) if isinstance(a, numpy.ndarray) else a for a in backward]
        got, want = run(f"{kind}_pool2d_backward", backward, device_args)
        record(f"{kind}_pool2d_backward", window, got, want)
    return rows


def torch_baselines(torch, x, w, dy, stride, padding, dilation, groups):
    """``{mode: callable}``: torch's conv2d and the two halves of its convolution_backward
    (the cuDNN calls autograd makes) on torch tensors."""
    aten = torch.ops.aten

    def backward(mask):
        return aten.convolution_backward(dy, x, w, None, list(stride), list(padding),
                                         list(dilation), False, [0, 0], groups, mask)

    return dict(forward=lambda: torch.nn.functional.conv2d(x, w, None, stride, padding,
                                                           dilation, groups),
                backward_input=lambda: backward([True, False, False])[0],
                backward_weight=lambda: backward([False, True, False])[1])


def own_calls(conv, x, w, dy, stride, padding, dilation, groups):
    """``{mode: callable}`` for the own wrappers on device arrays."""
    geometry = (stride, padding, dilation, groups)
    return dict(forward=lambda: conv.conv2d_forward(x, w, *geometry),
                backward_input=lambda: conv.conv2d_backward_input(dy, w, x.shape, *geometry),
                backward_weight=lambda: conv.conv2d_backward_weight(dy, x, w.shape, *geometry))


def _cudnn_kernel_names(torch, calls):
    """The three longest CUDA kernels torch.profiler sees in one call of each baseline."""
    from torch.profiler import ProfilerActivity, profile
    names = {}
    for mode, call in calls.items():
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            call()
            torch.cuda.synchronize()
        kernels = [event for event in prof.key_averages() if event.device_type.name == "CUDA"]

        def device_us(event):
            return getattr(event, "self_device_time_total",
                           getattr(event, "self_cuda_time_total", 0))

        names[mode] = [event.key for event in sorted(kernels, key=device_us, reverse=True)[:3]]
    return names


def conv_timing(cp, cuda_event_ms, batch, repeat, rows, names):
    """Own fwd/dgrad/wgrad against cuDNN (TF32 off) on ResNet-50's 3×3 layers, appended to
    ``rows`` (and cuDNN's kernel names to ``names``) as they are measured, so a deadline
    keeps what was done."""
    import torch
    from minigrad_kernels.cuda import conv
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    with contextlib.suppress(AttributeError):                 # torch ≥ 2.9 spelling
        torch.backends.cudnn.conv.fp32_precision = "ieee"
    for case in resnet_cases(batch):
        x, w, dy = (cp.random.standard_normal(shape, dtype=cp.float32)
                     for shape in conv_shapes(case))
        geometry = case[6:]
        own = own_calls(conv, x, w, dy, *geometry)
        tx, tw, tdy = (torch.as_tensor(a, device="cuda") for a in (x, w, dy))
        base = torch_baselines(torch, tx, tw, tdy, *geometry)
        flop = conv_flop(case)
        label = f"{case[1]}->{case[4]} {case[2]}^2 N={case[0]}"
        for mode in ("forward", "backward_input", "backward_weight"):
            first, own_ms = cuda_event_ms(cp, own[mode], repeat=repeat)
            _, base_ms = cuda_event_ms(cp, base[mode], repeat=repeat)
            rows.append(dict(kernel=f"conv2d_{mode}", shape=label, first_call_ms=first,
                             own_ms=own_ms, own_tflops=round(flop / own_ms / 1e9, 2),
                             baseline="cuDNN fp32", baseline_ms=base_ms,
                             baseline_tflops=round(flop / base_ms / 1e9, 2),
                             ratio=round(base_ms / own_ms, 3)))
        with contextlib.suppress(Exception):
            names[label] = _cudnn_kernel_names(torch, base)


def conv_shapes(case):
    """The ``x``, ``w`` and ``dy`` shapes of ``case``."""
    from minigrad_kernels.reference.windows import output_shape
    n, c, h, w, o, kernel, stride, padding, dilation, groups = case
    oh, ow = output_shape((n, c, h, w), kernel, stride, padding, dilation)
    return (n, c, h, w), (o, c // groups) + kernel, (n, o, oh, ow)


def conv_section(cp, relative_error, cuda_event_ms, quick=False):
    """The whole section: ``{ok, rows (correctness), timings, cudnn_kernels}``; a timing
    failure (no torch, no cuDNN) is recorded without losing the correctness rows."""
    cases = RAGGED_CASES + ([] if quick else [BENCHMARK_CASE])
    rows = conv_correctness(cp, cp.asnumpy, cases, relative_error)
    result = dict(ok=all(row["ok"] for row in rows), rows=rows, timings=[], cudnn_kernels={})
    try:
        conv_timing(cp, cuda_event_ms, 16 if quick else 64, 10 if quick else 20,
                    result["timings"], result["cudnn_kernels"])
    except Exception as error:              # noqa: BLE001 (a deadline too: keep the rows)
        result["timing_error"] = f"{type(error).__name__}: {error}"
    return result
