"""Adam/AdamW in one numba.cuda launch per parameter group and dtype (the CUDA twin of
``reference/optimizer.py``).

Multi-tensor design.  numba.cuda cannot take a list of arrays, and a table of raw device
pointers would need a pointer-casting intrinsic the simulator cannot run.  Instead the
optimizer keeps every tensor the update touches as a *view into one flat buffer per group
and dtype* (``minigrad/optim/adam.py``, ``_FlatGroup``): the parameters' arrays are
re-bound, once, to slices of a flat θ buffer (the Tensor objects keep their identity), the
moments live in flat m, v (and v̄) buffers from the start, and the gradients, which
backward allocates anew each step, are gathered with one ``concatenate`` into a flat g
buffer.  The update is then one grid-stride elementwise kernel over n = Σ numel: 7 float32
streams (read θ g m v, write θ m v), 28 B per parameter, one launch whatever the number of
tensors (Apex's "multi-tensor apply" gets the same effect by packing pointer lists into
kernel parameters).

Bit-for-bit agreement with the CPU.  Every multiply, add, divide and square root goes
through libdevice's ``__fmul_rn``/``__fadd_rn``/``__fdiv_rn``/``__fsqrt_rn``, which the
compiler never contracts into FMAs, in exactly the order of ``Adam._array_step``, and every
scalar arrives rounded to float32 as numpy rounds a Python scalar against a float32 array.
So CPU and GPU trajectories agree bit for bit, not merely to rounding (the simulator uses
plain float32 arithmetic, which is the same IEEE operations).  float32 only; other dtypes
run the reference on CuPy.
"""
import math

from numba import cuda, float32

from ..catalogue import CATALOGUE, get_array_module
from ..reference.optimizer import adam_scalars
from ._launch import SIMULATED, configured, kernel_jit

GPU_THREADS = 256
SIMULATOR_THREADS = 16
GPU_MAX_BLOCKS = 132 * 8
SIMULATOR_MAX_BLOCKS = 3
ONE = float32(1.0)
ZERO = float32(0.0)

if SIMULATED:                      # the simulator's libdevice is not IEEE-exact: plain float32
    def _mul(a, b):
        return a * b

    def _add(a, b):
        return a + b

    def _sub(a, b):
        return a - b

    def _div(a, b):
        return a / b

    def _sqrt(a):
        return math.sqrt(a) if a >= 0 else math.nan

    def _f32(a):
        return float32(a)
else:
    from numba.cuda import libdevice

    _mul, _add, _sub = libdevice.fmul_rn, libdevice.fadd_rn, libdevice.fsub_rn
    _div, _sqrt = libdevice.fdiv_rn, libdevice.fsqrt_rn

    @cuda.jit(device=True, inline=True)
    def _f32(a):
        return a


def make_adam(threads=256):
    """``kernel[blocks, threads](param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad,
    maximize, l2, decay, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step)``
    over flat float32 arrays of one length (``max_exp_avg_sq`` 1 element when ``amsgrad``
    is 0); the scalars are ``adam_scalars``' as float32, flags int."""

    @kernel_jit(threads)
    def adam_flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, amsgrad, maximize, l2,
                  decay, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step):
        start = cuda.blockIdx.x * threads + cuda.threadIdx.x
        stride = cuda.gridDim.x * threads
        for i in range(start, param.shape[0], stride):
            theta = param[i]
            g = grad[i]
            if maximize:
                g = -g
            if l2 != ZERO:
                g = _add(g, _mul(theta, l2))
            if decay != ONE:
                theta = _mul(theta, decay)
            m = exp_avg[i]
            m = _add(m, _mul(_sub(g, m), one_minus_beta1))
            v = _mul(exp_avg_sq[i], beta2)
            s = _mul(g, g)
            if one_minus_beta2 != ONE:
                s = _mul(s, one_minus_beta2)
            v = _add(v, s)
            exp_avg[i] = m
            exp_avg_sq[i] = v
            if amsgrad:
                old = max_exp_avg_sq[i]
                if not (v > old or v != v):      # numpy's maximum: NaN wins, ties keep old
                    v = old
                max_exp_avg_sq[i] = v
            s = _add(_div(_f32(_sqrt(v)), bc2_sqrt), eps)
            s = _div(m, s)
            if neg_step != ONE:
                s = _mul(s, neg_step)
            param[i] = _add(theta, s)

    return adam_flat


_KERNELS = {}


def _kernel():
    threads = SIMULATOR_THREADS if SIMULATED else GPU_THREADS
    if threads not in _KERNELS:
        _KERNELS[threads] = make_adam(threads)
    return _KERNELS[threads]


def _flat_float32(a):
    return (getattr(a, "dtype", None) == "float32" and getattr(a, "ndim", 0) == 1
            and a.flags.c_contiguous)


def accepts_adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *scalars):
    """Flat, C-contiguous float32 arrays of one non-zero length (``max_exp_avg_sq`` or None)."""
    arrays = [param, grad, exp_avg, exp_avg_sq] + ([max_exp_avg_sq] if max_exp_avg_sq is not None
                                                   else [])
    return (all(_flat_float32(a) for a in arrays) and param.size > 0
            and all(a.shape == param.shape for a in arrays))


@CATALOGUE.register("adam_update", "cuda", accepts=accepts_adam)
def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, decoupled, maximize, kernel=None):
    """One Adam step in place on flat float32 buffers, one launch; returns None."""
    xp = get_array_module(param, grad, exp_avg, exp_avg_sq)
    kernel = kernel or _kernel()
    scalars = [xp.float32(value) for value in adam_scalars(step, lr, beta1, beta2, eps,
                                                            weight_decay, decoupled)]
    amsgrad = max_exp_avg_sq is not None
    max_sq = max_exp_avg_sq if amsgrad else xp.zeros(1, dtype=xp.float32)
    max_blocks = SIMULATOR_MAX_BLOCKS if SIMULATED else GPU_MAX_BLOCKS
    blocks = min(max_blocks, (param.size + kernel.threads - 1) // kernel.threads)
    configured(kernel, blocks, kernel.threads, xp)(
        param, grad, exp_avg, exp_avg_sq, max_sq, int(amsgrad), int(bool(maximize)), *scalars)
