"""Pointwise erf, erfc, σ and GELU in one loop each (numba twins of ``reference/pointwise.py``).

The references chain numpy ufuncs (the float32 erf alone is ~25 passes: a clip, two
Horner polynomials and a division, each a temporary); here every element is read once and
written once, the whole formula evaluated in registers:

    erf(x)   float32: x·P(x²)/Q(x²) on x clipped to [−4, 4], the reference's (Eigen's)
             rational approximation, evaluated in float32 in the same order, so GELU's hot
             path agrees with the reference to the last bit or two;
             float64: libm's ``erf`` (numba's ``math.erf``), correctly rounded to ~1 ulp
             where the reference's Chebyshev series is good to 1.2e-16 relative
    erfc(x)  libm's ``erfc`` in float64 (rounded once to float32 for float32 input)
    σ(x)     e = exp(−|x|);  1/(1+e) for x ≥ 0, e/(1+e) below  (never overflows)
    gelu(x)  ½ x (1 + erf(x/√2))
    gelu_tanh(x) = ½ x (1 + tanh(u)) = x / (1 + e^(−2u)),  u = √(2/π)(x + 0.044715 x³)

exp is ``_vector_math.vector_exp`` (plain arithmetic, so the loops vectorise), in the
input's precision, as numpy's float32 ufuncs compute.

Elements are independent, so the flat loop is a ``prange`` (compiled serially unless
``_jit.FUSED_PARALLEL``).  float16 is left to the reference.  Each function here beats its reference
at every size the kernel table measures (``benchmarks/kernel_speed/pointwise.py``).
"""
import math

from ..catalogue import CATALOGUE, get_array_module
from ..reference.pointwise import _ERF_P, _ERF_Q, _GELU_TANH_SCALE
from ._jit import FUSED_PARALLEL, jit, prange
from ._vector_math import cast_like, vector_exp

# numba kernels take numpy arrays only (dispatch sees to it), so xp is numpy here.
np = get_array_module()

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_SQRT_HALF = math.sqrt(0.5)
# The reference's float32 coefficients, lowest power first, as float32 constants.
P0, P1, P2, P3, P4, P5, P6 = (np.float32(c) for c in _ERF_P)
Q0, Q1, Q2, Q3, Q4 = (np.float32(c) for c in _ERF_Q)
FOUR, HALF, ONE, SQRT_HALF_32 = (np.float32(c) for c in (4.0, 0.5, 1.0, _SQRT_HALF))


@jit
def erf_float32(x):
    """The reference's float32 erf: ``a P(a²)/Q(a²)``, ``a = clip(x, −4, 4)`` (|error| < 7e-8)."""
    # Selects, not branches, so the loop vectorises; a NaN fails both tests and passes
    # through, as numpy.clip lets it.
    a = FOUR if x > FOUR else x
    a = -FOUR if a < -FOUR else a
    a2 = a * a
    p = (((((P6 * a2 + P5) * a2 + P4) * a2 + P3) * a2 + P2) * a2 + P1) * a2 + P0
    q = (((Q4 * a2 + Q3) * a2 + Q2) * a2 + Q1) * a2 + Q0
    return a * p / q


# float32 and float64 use different formulas, so each is its own kernel (picked by dtype).
@jit(parallel=FUSED_PARALLEL)
def erf_float32_flat(x, out):
    for i in prange(x.shape[0]):
        out[i] = erf_float32(x[i])


@jit(parallel=FUSED_PARALLEL)
def erf_float64_flat(x, out):
    for i in prange(x.shape[0]):
        out[i] = math.erf(x[i])


@jit(parallel=FUSED_PARALLEL)
def erfc_flat(x, out):
    for i in prange(x.shape[0]):
        out[i] = math.erfc(np.float64(x[i]))


@jit(parallel=FUSED_PARALLEL)
def sigmoid_flat(x, out):
    for i in prange(x.shape[0]):
        v = x[i]
        e = vector_exp(-abs(v))
        out[i] = (cast_like(1.0, v) if v >= 0 else e) / (cast_like(1.0, v) + e)


@jit(parallel=FUSED_PARALLEL)
def gelu_float32_flat(x, out):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = HALF * v * (ONE + erf_float32(v * SQRT_HALF_32))


@jit(parallel=FUSED_PARALLEL)
def gelu_float64_flat(x, out):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * _SQRT_HALF))


@jit(parallel=FUSED_PARALLEL)
def gelu_tanh_flat(x, out):
    # ½(1 + tanh u) = σ(2u) = 1/(1 + e^(−2u)): one exp, no libm tanh, no cancellation;
    # for u → −∞, e^(−2u) → ∞ and the quotient goes to 0 as it should.
    for i in prange(x.shape[0]):
        v = x[i]
        u = cast_like(_GELU_TANH_SCALE, v) * (v + cast_like(0.044715, v) * v * v * v)
        out[i] = v / (cast_like(1.0, v) + vector_exp(cast_like(-2.0, v) * u))


def accepts_float(x):
    """A non-empty float32/float64 numpy array (0-d included)."""
    return isinstance(x, np.ndarray) and x.dtype in _FLOATS and x.size > 0


def _elementwise(kernel, x):
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    kernel(flat, out)
    return out.reshape(x.shape)


@CATALOGUE.register("erf", "numba", accepts=accepts_float)
def erf(x):
    """``erf(x)`` elementwise; ``x (...)`` → same shape and dtype."""
    return _elementwise(erf_float32_flat if x.dtype == np.float32 else erf_float64_flat, x)


@CATALOGUE.register("erfc", "numba", accepts=accepts_float)
def erfc(x):
    """``1 − erf(x)`` without cancellation in the tail; same shape and dtype."""
    return _elementwise(erfc_flat, x)


@CATALOGUE.register("sigmoid", "numba", accepts=accepts_float)
def sigmoid(x):
    """``1/(1 + e^(−x))`` finite for every x; same shape and dtype."""
    return _elementwise(sigmoid_flat, x)


@CATALOGUE.register("gelu", "numba", accepts=accepts_float)
def gelu(x):
    """``½ x (1 + erf(x/√2))``; same shape and dtype."""
    return _elementwise(gelu_float32_flat if x.dtype == np.float32 else gelu_float64_flat, x)


@CATALOGUE.register("gelu_tanh", "numba", accepts=accepts_float)
def gelu_tanh(x):
    """``½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))``; same shape and dtype."""
    return _elementwise(gelu_tanh_flat, x)
