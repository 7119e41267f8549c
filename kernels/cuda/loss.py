"""Fused cross-entropy from logits in numba.cuda (CUDA twin of ``reference/loss.py``),
for ``x (N, C)`` float32 logits, int64 targets ``t (N,)``, optional class weights ``w (C,)``,
``ignore_index``, label smoothing ε and every reduction.

One block of ``threads`` threads per row, striding over the classes, shared-memory trees
(no warp shuffles, so the simulator runs the GPU's path).  With ``w_i = m_i w[t_i]``
(``m_i = 0`` for an ignored target), ``W = Σ_c w_c`` and ``lse = m + log Σ_j e^(x_j − m)``:

    ℓ_i  = (1 − ε) w_i (lse − x_{t_i}) + (ε/C) m_i (W·lse − Σ_c w_c x_c)
    dx_ij = g_i (A_i p_ij − a_ij),  p = e^(x − lse),  a_ij = (1 − ε) w_i [j = t_i] + (ε/C) m_i w_j,
    A_i = (1 − ε) w_i + (ε/C) m_i W

(the reference's docstring derives them).  One kernel factory, three modes:

* ``forward``: ℓ_i, lse_i, written per row (2 reads of the row, 3 with smoothing);
* ``backward``: dx for given per-row ``g`` (recomputes m and lse: 3 reads, 1 write);
* ``fused``: both in one pass, Liger-Kernel style (the loss's gradient is written while
  the logits are in cache, so the backward never reads them again): ``g_i`` is then the
  gradient of the reduced loss for an upstream gradient of 1, which the wrapper knows
  before the launch (1, or ``1/Σ w_i`` for 'mean').

The reductions ('sum', 'mean' = Σ ℓ / Σ w_i, NaN when every target is ignored) run on the
per-row losses with the array module (one small sum).  float32 only; other shapes and
dtypes run the reference.  Targets must be valid class ids or ``ignore_index`` (the op
checks the range, as for the reference).
"""
import math

from numba import cuda, float32

from ..catalogue import CATALOGUE, get_array_module
from ..reference.loss import REDUCTIONS, _safe_divide, cross_entropy_gradient_scale
from ._launch import NEG_INF, SIMULATED, configured, kernel_jit, make_block_reductions

GPU_THREADS = 256
SIMULATOR_THREADS = 4
MAX_GRID_X = 2**31 - 1
ONE = float32(1.0)
ZERO = float32(0.0)
MODES = ("forward", "backward", "fused")


def make_cross_entropy(threads=256, mode="forward"):
    """``kernel[N, threads](x, target, weight, has_weight, ignore_index, smoothing,
    class_weight_sum, g, loss, lse, dx)``: ``x, dx (N, C)`` float32, ``target (N,)`` int64,
    ``weight (C,)`` (1 element when ``has_weight`` is 0), ``class_weight_sum (1,)`` = W,
    ``g, loss, lse (N,)``.  ``mode`` picks what is computed and written (module docstring);
    arguments a mode does not use may be 1-element dummies."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    block_max, block_sum = make_block_reductions(threads)
    forward = mode in ("forward", "fused")
    backward = mode in ("backward", "fused")

    # Full occupancy (2048 threads per SM): the fused mode alone would take 40 registers;
    # capped at 32 it still neither spills nor needs a stack frame (ptxas, sm_90).
    @kernel_jit(threads, blocks_per_sm=2048 // threads)
    def cross_entropy_rows(x, target, weight, has_weight, ignore_index, smoothing,
                           class_weight_sum, g, loss, lse_out, dx):
        scratch = cuda.shared.array(threads, float32)
        r = cuda.blockIdx.x
        t = cuda.threadIdx.x
        cols = x.shape[1]
        m = NEG_INF
        for j in range(t, cols, threads):
            m = max(m, x[r, j])
        m = block_max(scratch, m)
        total = ZERO
        for j in range(t, cols, threads):
            total += math.exp(x[r, j] - m)
        total = block_sum(scratch, total)
        lse = m + math.log(total)
        label = target[r]
        kept = label != ignore_index
        safe = label if kept else 0
        w_i = ZERO
        m_i = ZERO
        if kept:
            m_i = ONE
            w_i = weight[safe] if has_weight else ONE
        smooth = smoothing / float32(cols)
        big_w = class_weight_sum[0]
        if forward:
            ell = (ONE - smoothing) * w_i * (lse - x[r, safe])
            if smoothing > ZERO:
                weighted = ZERO
                for j in range(t, cols, threads):
                    weighted += (weight[j] if has_weight else ONE) * x[r, j]
                weighted = block_sum(scratch, weighted)
                ell += smooth * m_i * (big_w * lse - weighted)
            if t == 0:
                loss[r] = ell
                lse_out[r] = lse
        if backward:
            # dx_ij = g_i A_i p_ij − g_i (ε/C) m_i w_j − [j = t_i] g_i (1 − ε) w_i, with the
            # three row factors hoisted (fewer live registers in the loop).
            g_i = g[r]
            scaled_a = g_i * ((ONE - smoothing) * w_i + smooth * m_i * big_w)
            scaled_smooth = g_i * smooth * m_i
            scaled_target = g_i * (ONE - smoothing) * w_i
            j = t
            while j < cols:
                v = scaled_a * math.exp(x[r, j] - lse)
                if has_weight:
                    v -= scaled_smooth * weight[j]
                else:
                    v -= scaled_smooth
                dx[r, j] = v
                j += threads
            if t == safe % threads:            # the thread that wrote dx[r, t_i]: no race
                dx[r, safe] -= scaled_target

    return cross_entropy_rows


_KERNELS = {}


def _kernel(mode):
    threads = SIMULATOR_THREADS if SIMULATED else GPU_THREADS
    key = (threads, mode)
    if key not in _KERNELS:
        _KERNELS[key] = make_cross_entropy(threads, mode)
    return _KERNELS[key]


def _row_weights(xp, target, weight, ignore_index, dtype):
    """``w_i`` (N,) on the device: ``m_i · w[t_i]``."""
    ignored = target == ignore_index
    kept = (~ignored).astype(dtype)
    if weight is None:
        return kept
    return weight[xp.where(ignored, 0, target)] * kept


def cross_entropy_rows(x, target, weight, ignore_index, label_smoothing, mode="forward", g=None,
                       kernel=None):
    """Run the kernel on ``x (N, C)`` float32 in ``mode``: returns ``(loss (N,), lse (N,),
    dx (N, C))`` with None for what the mode does not write; ``g (N,)`` float32 is needed by
    'backward' and 'fused'.  Outputs allocated with ``x``'s array module."""
    xp = get_array_module(x, target, weight, g)
    kernel = kernel or _kernel(mode)
    x = xp.ascontiguousarray(x)
    n, classes = x.shape
    target = xp.ascontiguousarray(target).astype(xp.int64, copy=False)
    if weight is None:
        w, has_w = xp.zeros(1, dtype=xp.float32), 0
        class_sum = xp.full(1, classes, dtype=xp.float32)
    else:
        w, has_w = xp.ascontiguousarray(weight).astype(xp.float32, copy=False), 1
        class_sum = w.sum(keepdims=True)
    dummy = xp.zeros(1, dtype=xp.float32)
    loss = xp.empty(n, dtype=xp.float32) if mode != "backward" else dummy
    lse = xp.empty(n, dtype=xp.float32) if mode != "backward" else dummy
    dx = xp.empty_like(x) if mode != "forward" else xp.zeros((1, 1), dtype=xp.float32)
    g = dummy if g is None else xp.ascontiguousarray(g).astype(xp.float32, copy=False)
    configured(kernel, n, kernel.threads, xp)(
        x, target, w, has_w, xp.int64(ignore_index), xp.float32(label_smoothing), class_sum, g,
        loss, lse, dx)
    return (None if mode == "backward" else loss, None if mode == "backward" else lse,
            None if mode == "forward" else dx)


def _reduce(xp, loss, w, reduction):
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else _safe_divide(xp, total, w.sum())


def cross_entropy_fused_rows(x, target, weight, ignore_index, label_smoothing, reduction):
    """``(loss reduced as reduction, lse (N,), dx)`` in one launch; ``dx`` is the gradient of
    the reduced loss for an upstream gradient of 1 (all ones for 'none')."""
    xp = get_array_module(x, target, weight)
    w = _row_weights(xp, target, weight, ignore_index, xp.float32)
    g = xp.ones_like(w) * cross_entropy_gradient_scale(w, reduction).astype(xp.float32)
    loss, lse, dx = cross_entropy_rows(x, target, weight, ignore_index, label_smoothing,
                                       "fused", g)
    return _reduce(xp, loss, w, reduction), lse, dx


def accepts_cross_entropy(x, target, weight, ignore_index, label_smoothing, reduction, *more):
    """float32 logits ``(N, C)`` with N, C ≥ 1, int targets ``(N,)``, float32 weights ``(C,)``
    or None, a known reduction."""
    if getattr(x, "dtype", None) != "float32" or getattr(x, "ndim", 0) != 2 or x.size == 0:
        return False
    if getattr(target, "ndim", None) != 1 or target.shape[0] != x.shape[0]:
        return False
    if getattr(target, "dtype", None) is None or target.dtype.kind not in "iu":
        return False
    if weight is not None and (getattr(weight, "dtype", None) != "float32"
                               or tuple(weight.shape) != (x.shape[1],)):
        return False
    return reduction in REDUCTIONS and x.shape[0] <= MAX_GRID_X


def accepts_backward(x, target, d_loss, weight, ignore_index, label_smoothing, reduction):
    """As the forward, with a float32 ``d_loss`` of the forward's output shape."""
    if not accepts_cross_entropy(x, target, weight, ignore_index, label_smoothing, reduction):
        return False
    want = (x.shape[0],) if reduction == "none" else ()
    return getattr(d_loss, "dtype", None) == "float32" and tuple(d_loss.shape) == want


@CATALOGUE.register("cross_entropy_forward", "cuda", accepts=accepts_cross_entropy)
def cross_entropy_forward(x, target, weight, ignore_index, label_smoothing, reduction):
    """``ℓ`` reduced as ``reduction``: ``(N,)`` for 'none', ``()`` otherwise; float32."""
    xp = get_array_module(x, target, weight)
    loss, _, _ = cross_entropy_rows(x, target, weight, ignore_index, label_smoothing)
    w = _row_weights(xp, target, weight, ignore_index, xp.float32)
    return _reduce(xp, loss, w, reduction)


@CATALOGUE.register("cross_entropy_forward_backward", "cuda", accepts=accepts_cross_entropy)
def cross_entropy_forward_backward(x, target, weight, ignore_index, label_smoothing, reduction):
    """``(ℓ, dx₁)`` from one fused launch (``cross_entropy_fused_rows`` without the lse)."""
    loss, _, dx = cross_entropy_fused_rows(x, target, weight, ignore_index, label_smoothing,
                                           reduction)
    return loss, dx


@CATALOGUE.register("cross_entropy_backward", "cuda", accepts=accepts_backward)
def cross_entropy_backward(x, target, d_loss, weight, ignore_index, label_smoothing, reduction):
    """``dx = g (A softmax(x) − a)``, ``(N, C)`` float32, ``g`` from ``d_loss`` and the
    reduction as in the reference."""
    xp = get_array_module(x, target, d_loss, weight)
    w = _row_weights(xp, target, weight, ignore_index, xp.float32)
    g = (d_loss * cross_entropy_gradient_scale(w, reduction)).astype(xp.float32, copy=False)
    g = g * xp.ones_like(w)
    _, _, dx = cross_entropy_rows(x, target, weight, ignore_index, label_smoothing, "backward", g)
    return dx
