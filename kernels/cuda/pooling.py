"""2-D max and average pooling, forward and backward, in numba.cuda (CUDA twins of
``reference/pooling.py``, whose docstring carries the formulas and PyTorch's rules).

Every kernel views ``x (N, C, H, W)`` as ``P = N·C`` independent planes and runs one thread
per output element, over a grid-stride loop on the flat index (consecutive threads take
consecutive output columns, so a warp reads neighbouring input pixels and writes one
contiguous run):

* ``max_pool2d_forward``: per output, the running maximum over the window's *real* taps in
  row-major order, starting from the first real one.  A NaN replaces whatever is held and
  later NaNs replace it again (the last NaN wins), a strictly larger number replaces the
  held one (ties keep the first maximum), nothing replaces a NaN (``v > NaN`` is false):
  the reference's (PyTorch's CPU) rule, so values *and* indices match exactly.  Padding
  is −∞, never beats a real tap, so skipping it changes neither.  Windows holding no real
  pixel are found from the geometry on the host and rejected as the reference does.
* ``max_pool2d_backward``: ``dx[p, indices[p, l]] += dy[p, l]``, one ``atomicAdd`` per
  gradient into a zeroed ``dx`` (overlapping windows may pick the same pixel; float32
  atomics make the order of such sums, and so their last bit, run-dependent).  Indices
  outside the plane are skipped, never written.
* ``avg_pool2d_forward``: the sum over the window clipped to the input (padding adds
  zeros), accumulated in float32, divided by the reference's own divisor table
  ``D (OH, OW)`` (``avg_pool_divisor``: count_include_pad, ceil_mode, divisor_override).
* ``avg_pool2d_backward``: a *gather* per input pixel, no atomics:
  ``dx[p, h, v] = Σ_{a, b} dy[p, a, b] / D[a, b]`` over the windows covering ``(h, v)``,
  ``a ∈ [⌈(h + ph − kh + 1)/sh⌉, ⌊(h + ph)/sh⌋] ∩ [0, OH)`` (the same for ``b``).

All memory-bound: the target is bandwidth, ≈ (reads + writes) / time against a copy.
float32 only; other dtypes go to the reference.
"""
import math

from numba import cuda, float32, int32, int64

from ..catalogue import CATALOGUE, get_array_module
from ..reference.pooling import _check_padding, avg_pool_divisor
from ..reference.windows import output_shape
from ._launch import SIMULATED, configured, kernel_jit

GPU_THREADS = 256
SIMULATOR_THREADS = 32
GPU_MAX_BLOCKS = 65535           # grid-stride beyond this: every SM stays busy
SIMULATOR_MAX_BLOCKS = 16        # ≤ 512 simulated threads per launch
NAN = float32(math.nan)
MAX_INDEX = 2**31 - 1            # sizes and offsets are int32 (fewer registers, no 64-bit math)

host = get_array_module()        # numpy: int32 scalar arguments


def make_max_pool_forward(threads=GPU_THREADS):
    """``kernel[blocks, threads](x, y, indices, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)``
    on flat C-order ``x (P·H·W)``, ``y (P·OH·OW)`` float32 and ``indices`` int64."""

    @kernel_jit(threads)
    def max_pool_forward(x, y, indices, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw):
        L = OH * OW
        size = y.shape[0]
        step = cuda.gridsize(1)
        flat = cuda.grid(1)
        while flat < size:            # grid-stride (a range() here unrolls, spills)
            p = flat // L
            q = flat - p * L
            a = q // OW
            top = a * sh - ph
            left = (q - a * OW) * sw - pw
            plane = p * H * W
            best = NAN
            best_index = int64(-1)
            for i in range(kh):
                row = top + i * dh
                if row >= 0 and row < H:
                    for j in range(kw):
                        col = left + j * dw
                        if col >= 0 and col < W:
                            value = x[plane + row * W + col]
                            if best_index < 0 or value != value or value > best:
                                best = value
                                best_index = row * W + col
            y[flat] = best
            indices[flat] = best_index
            flat += step

    return max_pool_forward


def make_max_pool_backward(threads=GPU_THREADS):
    """``kernel[blocks, threads](dy, indices, dx, L, HW)``: ``dx (P·HW)`` zeroed by the
    caller, ``dy``, ``indices (P·L)`` flat."""

    @kernel_jit(threads)
    def max_pool_backward(dy, indices, dx, L, HW):
        size = dy.shape[0]
        step = cuda.gridsize(1)
        flat = cuda.grid(1)
        while flat < size:            # grid-stride (a range() here unrolls, spills)
            target = indices[flat]
            if target >= 0 and target < HW:
                cuda.atomic.add(dx, (flat // L) * HW + target, dy[flat])
            flat += step

    return max_pool_backward


def make_avg_pool_forward(threads=GPU_THREADS):
    """``kernel[blocks, threads](x, divisor, y, H, W, OH, OW, kh, kw, sh, sw, ph, pw)``;
    ``divisor (OH·OW)`` float32, the rest flat as for max pooling."""

    @kernel_jit(threads)
    def avg_pool_forward(x, divisor, y, H, W, OH, OW, kh, kw, sh, sw, ph, pw):
        L = OH * OW
        size = y.shape[0]
        step = cuda.gridsize(1)
        flat = cuda.grid(1)
        while flat < size:            # grid-stride (a range() here unrolls, spills)
            p = flat // L
            q = flat - p * L
            a = q // OW
            top = a * sh - ph
            left = (q - a * OW) * sw - pw
            plane = p * H * W
            total = float32(0.0)
            for i in range(max(top, 0), min(top + kh, H)):
                for col in range(max(left, 0), min(left + kw, W)):
                    total += x[plane + i * W + col]
            y[flat] = total / divisor[q]
            flat += step

    return avg_pool_forward


def make_avg_pool_backward(threads=GPU_THREADS):
    """``kernel[blocks, threads](dy, divisor, dx, H, W, OH, OW, kh, kw, sh, sw, ph, pw)``:
    one thread per input pixel of ``dx (P·H·W)``, gathering from ``dy (P·OH·OW)``."""

    @kernel_jit(threads)
    def avg_pool_backward(dy, divisor, dx, H, W, OH, OW, kh, kw, sh, sw, ph, pw):
        HW = H * W
        L = OH * OW
        size = dx.shape[0]
        step = cuda.gridsize(1)
        flat = cuda.grid(1)
        while flat < size:            # grid-stride (a range() here unrolls, spills)
            p = flat // HW
            rest = flat - p * HW
            h = rest // W
            v = rest - h * W
            # Windows a with a·sh − ph ≤ h < a·sh − ph + kh (floor division of possibly
            # negative numerators: numba's // floors like Python's).
            a_lo = max(-((kh - 1 - h - ph) // sh), 0)
            a_hi = min((h + ph) // sh, OH - 1)
            b_lo = max(-((kw - 1 - v - pw) // sw), 0)
            b_hi = min((v + pw) // sw, OW - 1)
            total = float32(0.0)
            for a in range(a_lo, a_hi + 1):
                for b in range(b_lo, b_hi + 1):
                    total += dy[p * L + a * OW + b] / divisor[a * OW + b]
            dx[flat] = total
            flat += step

    return avg_pool_backward


_FACTORIES = dict(max_forward=make_max_pool_forward, max_backward=make_max_pool_backward,
                  avg_forward=make_avg_pool_forward, avg_backward=make_avg_pool_backward)
_KERNELS = {}


def default_kernel(name, threads=None):
    threads = threads or (SIMULATOR_THREADS if SIMULATED else GPU_THREADS)
    if (name, threads) not in _KERNELS:
        _KERNELS[name, threads] = _FACTORIES[name](threads)
    return _KERNELS[name, threads]


def _launch(name, size, xp, *args):
    kernel = default_kernel(name)
    limit = SIMULATOR_MAX_BLOCKS if SIMULATED else GPU_MAX_BLOCKS
    blocks = max(1, min(-(-size // kernel.threads), limit))
    configured(kernel, blocks, kernel.threads, xp)(*args)


def _ints(xp, *values):
    """int32 kernel scalars (``xp`` unused: scalars go by value)."""
    return tuple(host.int32(v) for v in values)


def _flat(x, xp):
    return xp.ascontiguousarray(x).reshape(-1)


def _has_empty_window(size, out, kernel, stride, padding, dilation):
    """True if some window along this axis holds only padding."""
    for o in range(out):
        start = o * stride - padding
        if not any(0 <= start + i * dilation < size for i in range(kernel)):
            return True
    return False


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``x (N, C, H, W) -> (y (N, C, OH, OW), indices (N, C, OH, OW) int64)``."""
    xp = get_array_module(x)
    _check_padding(kernel_size, padding)
    n, c, h, w = x.shape
    oh, ow = output_shape(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    if any(_has_empty_window(x.shape[2 + a], (oh, ow)[a], kernel_size[a], stride[a],
                             padding[a], dilation[a]) for a in range(2)):
        raise ValueError("a pooling window covers only padding (dilation too large for the input)")
    y = xp.empty((n, c, oh, ow), dtype=xp.float32)
    indices = xp.empty((n, c, oh, ow), dtype=xp.int64)
    if y.size:
        _launch("max_forward", y.size, xp, _flat(x, xp), y.reshape(-1), indices.reshape(-1),
                *_ints(xp, h, w, oh, ow, *kernel_size, *stride, *padding, *dilation))
    return y, indices


def max_pool2d_backward(dy, indices, x_shape):
    """``dy, indices (N, C, OH, OW) -> dx x_shape``: each gradient added onto its argmax."""
    xp = get_array_module(dy, indices)
    n, c, h, w = x_shape
    dx = xp.zeros(tuple(x_shape), dtype=xp.float32)
    if dy.size and dx.size:
        _launch("max_backward", dy.size, xp, _flat(dy, xp), _flat(indices, xp), dx.reshape(-1),
                *_ints(xp, dy.shape[2] * dy.shape[3], h * w))
    return dx


def _divisor(xp, x_shape, out_hw, kernel_size, stride, padding, count_include_pad,
             divisor_override):
    table = avg_pool_divisor(xp, x_shape, out_hw, kernel_size, stride, padding,
                             count_include_pad, divisor_override, xp.float32)
    return xp.ascontiguousarray(table).reshape(-1)


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override=None):
    """``y = (window sum of zero-padded x) / D``.  ``x (N, C, H, W) -> y (N, C, OH, OW)``."""
    xp = get_array_module(x)
    _check_padding(kernel_size, padding)
    n, c, h, w = x.shape
    oh, ow = output_shape(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    y = xp.empty((n, c, oh, ow), dtype=xp.float32)
    if y.size:
        divisor = _divisor(xp, x.shape, (oh, ow), kernel_size, stride, padding,
                           count_include_pad, divisor_override)
        _launch("avg_forward", y.size, xp, _flat(x, xp), divisor, y.reshape(-1),
                *_ints(xp, h, w, oh, ow, *kernel_size, *stride, *padding))
    return y


def avg_pool2d_backward(dy, x_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override=None):
    """``dx = Aᵀ dy``, gathered per input pixel.  ``dy (N, C, OH, OW) -> dx x_shape``."""
    xp = get_array_module(dy)
    _check_padding(kernel_size, padding)
    n, c, h, w = x_shape
    out_hw = output_shape(x_shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    if tuple(dy.shape[2:]) != out_hw:
        raise ValueError(f"avg_pool2d_backward: dy has spatial shape {tuple(dy.shape[2:])}, "
                         f"expected {out_hw}")
    dx = xp.empty(tuple(x_shape), dtype=xp.float32)
    if dx.size == 0:
        return dx
    if dy.size == 0:
        dx[...] = 0
        return dx
    divisor = _divisor(xp, x_shape, out_hw, kernel_size, stride, padding, count_include_pad,
                       divisor_override)
    _launch("avg_backward", dx.size, xp, _flat(dy, xp), divisor, dx.reshape(-1),
            *_ints(xp, h, w, *out_hw, *kernel_size, *stride, *padding))
    return dx


def compile_plan():
    """``[(name, kernel, signature, threads, shared_bytes)]`` at the GPU block size, with
    the int32 scalars the wrappers pass (``_compile.py``)."""
    flat, index = float32[::1], int64[::1]
    signatures = dict(max_forward=(flat, flat, index) + (int32,) * 12,
                      max_backward=(flat, index, flat, int32, int32),
                      avg_forward=(flat, flat, flat) + (int32,) * 10,
                      avg_backward=(flat, flat, flat) + (int32,) * 10)
    names = dict(max_forward="max_pool2d_forward", max_backward="max_pool2d_backward",
                 avg_forward="avg_pool2d_forward", avg_backward="avg_pool2d_backward")
    return [(names[key], _FACTORIES[key](GPU_THREADS), signature, GPU_THREADS, 0)
            for key, signature in signatures.items()]


def _float32_image(x):
    return (getattr(x, "dtype", None) == "float32" and getattr(x, "ndim", 0) == 4
            and x.size <= MAX_INDEX)


def accepts_max_pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    return _float32_image(x)


def accepts_max_pool_backward(dy, indices, x_shape):
    size = 1
    for d in x_shape:
        size *= d
    return (_float32_image(dy) and size <= MAX_INDEX and getattr(indices, "dtype", None) == "int64"
            and tuple(indices.shape) == tuple(dy.shape))


def accepts_avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override=None):
    return _float32_image(x)


def accepts_avg_pool_backward(dy, x_shape, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override=None):
    size = 1
    for d in x_shape:
        size *= d
    return _float32_image(dy) and size <= MAX_INDEX


CATALOGUE.register("max_pool2d_forward", "cuda", max_pool2d_forward, accepts=accepts_max_pool)
CATALOGUE.register("max_pool2d_backward", "cuda", max_pool2d_backward,
                   accepts=accepts_max_pool_backward)
CATALOGUE.register("avg_pool2d_forward", "cuda", avg_pool2d_forward, accepts=accepts_avg_pool)
CATALOGUE.register("avg_pool2d_backward", "cuda", avg_pool2d_backward,
                   accepts=accepts_avg_pool_backward)
