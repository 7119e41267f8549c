"""Loop bodies the compiler can vectorise: exp, and row max/sum with independent lanes.

numba compiles ``math.exp`` to a call into libm, one element at a time (no SVML here), and
with ``fastmath=False`` LLVM may not reorder a ``total += v`` chain, so a naive row kernel
runs one exp and one dependent add per cycle-bound step and loses to numpy's SIMD ufuncs.
Two remedies, both exact enough for the parity tolerances and deterministic:

* ``exp(x)`` in plain arithmetic (Cody–Waite reduction ``x = n ln2 + r``, ``|r| ≤ ln2/2``,
  a Taylor polynomial for ``e^r``, and ``2^n`` built from its exponent bits), which LLVM
  vectorises like any other arithmetic (n is rounded by the 1.5·2^23 addition trick, as a
  float→int conversion would be scalarised).  float32: degree 7 in float32 (max relative
  error ~2e-7, 2 ulp); float64: degree 13 (~2 ulp).  ``2^n`` is applied as two halves,
  ``2^⌊n/2⌋ · 2^(n−⌊n/2⌋)``, so results that underflow into subnormals (x < −87.3 in
  float32) and the top of the range are still right; NaN, ±∞ follow ``numpy.exp``.
* row sums compiled with ``reassociate`` (``_jit``): LLVM splits them into SIMD lanes, as
  numpy's pairwise sum does, instead of one dependent add at a time;  ``row_max``, whose
  NaN propagation a fast-math max would lose, runs 8 independent running maxima.
"""
import math

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ..catalogue import get_array_module
from ._jit import jit

# numba kernels take numpy arrays only (dispatch sees to it), so xp is numpy here.
np = get_array_module()

LANES = 8


@intrinsic
def _int32_bits_as_float32(typingctx, bits):
    """Reinterpret an int32's bits as a float32 (a bitcast, which vectorises)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """Reinterpret an int64's bits as a float64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _float32_bits_as_int32(typingctx, value):
    """Reinterpret a float32's bits as an int32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _float64_bits_as_int64(typingctx, value):
    """Reinterpret a float64's bits as an int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


_F32 = np.float32
LOG2E_32, LN2_HI_32, LN2_LO_32 = _F32(1.4426950408889634), _F32(0.693359375), _F32(-2.12194440e-4)
# Beyond these exp is 0 (below the smallest subnormal) or +∞ in float32.
LOW_32, HIGH_32 = _F32(-103.972084), _F32(88.72283)
E32 = tuple(_F32(1.0 / math.factorial(k)) for k in range(8))
E32_0, E32_1, E32_2, E32_3, E32_4, E32_5, E32_6, E32_7 = E32
ZERO_32, INF_32 = _F32(0.0), _F32(np.inf)
# Adding 1.5·2^23 (2^52 in float64) rounds to an integer held in the low mantissa bits:
# n and its int bits without a float→int conversion, which LLVM would not vectorise.
ROUNDER_32, ROUNDER_64 = _F32(1.5 * 2.0 ** 23), 1.5 * 2.0 ** 52

LOG2E_64, LN2_HI_64, LN2_LO_64 = 1.4426950408889634, 6.93147180369123816490e-01, 1.90821492927058770002e-10
LOW_64, HIGH_64 = -745.1332191019412, 709.782712893384
E64 = tuple(1.0 / math.factorial(k) for k in range(14))
(E64_0, E64_1, E64_2, E64_3, E64_4, E64_5, E64_6, E64_7, E64_8, E64_9, E64_10, E64_11, E64_12,
 E64_13) = E64


@jit
def exp_float32(x):
    """e^x for a float32 ``x``, in float32 arithmetic without a libm call."""
    c = LOW_32 if x < LOW_32 else x               # selects, so the loop vectorises
    c = HIGH_32 if c > HIGH_32 else c
    t = c * LOG2E_32 + ROUNDER_32
    n = t - ROUNDER_32                            # round(c / ln2) as a float
    k = _float32_bits_as_int32(t) - _float32_bits_as_int32(ROUNDER_32)   # ... as an int
    r = (c - n * LN2_HI_32) - n * LN2_LO_32
    p = ((((((E32_7 * r + E32_6) * r + E32_5) * r + E32_4) * r + E32_3) * r + E32_2) * r
         + E32_1) * r + E32_0
    half = k >> np.int32(1)
    y = (p * _int32_bits_as_float32((half + np.int32(127)) << np.int32(23))
         * _int32_bits_as_float32((k - half + np.int32(127)) << np.int32(23)))
    y = ZERO_32 if x < LOW_32 else y
    y = INF_32 if x > HIGH_32 else y
    return y if x == x else x                     # NaN in, NaN out


@jit
def exp_float64(x):
    """e^x for a float64 ``x`` without a libm call."""
    c = LOW_64 if x < LOW_64 else x
    c = HIGH_64 if c > HIGH_64 else c
    t = c * LOG2E_64 + ROUNDER_64
    n = t - ROUNDER_64
    k = _float64_bits_as_int64(t) - _float64_bits_as_int64(ROUNDER_64)
    r = (c - n * LN2_HI_64) - n * LN2_LO_64
    p = ((((((((((((E64_13 * r + E64_12) * r + E64_11) * r + E64_10) * r + E64_9) * r + E64_8)
               * r + E64_7) * r + E64_6) * r + E64_5) * r + E64_4) * r + E64_3) * r + E64_2)
         * r + E64_1) * r + E64_0
    half = k >> np.int64(1)
    y = (p * _int64_bits_as_float64((half + np.int64(1023)) << np.int64(52))
         * _int64_bits_as_float64((k - half + np.int64(1023)) << np.int64(52)))
    y = 0.0 if x < LOW_64 else y
    y = math.inf if x > HIGH_64 else y
    return y if x == x else x


def vector_exp(x):
    """e^x in the precision of ``x`` (float32 or float64); see the module docstring."""
    raise NotImplementedError("vector_exp is only callable from numba-compiled code")


@overload(vector_exp, jit_options={"cache": True})
def _vector_exp(x):
    if x == types.float32:
        return lambda x: exp_float32(x)
    if x == types.float64:
        return lambda x: exp_float64(x)
    return None


@jit(reassociate=True)
def row_sum(row):
    """Σ row, accumulated in float64, in SIMD lanes (``reassociate``: see ``_jit``)."""
    total = 0.0
    for j in range(row.shape[0]):
        total += row[j]
    return total


@jit(reassociate=True)
def row_centred_square_sum(row, centre):
    """Σ (row − centre)², accumulated in float64, in SIMD lanes."""
    total = 0.0
    for j in range(row.shape[0]):
        d = row[j] - centre
        total += d * d
    return total


@jit(reassociate=True)
def row_dot(a, b):
    """Σ a ⊙ b, accumulated in float64, in SIMD lanes."""
    total = 0.0
    for j in range(a.shape[0]):
        total += np.float64(a[j]) * b[j]
    return total


@jit
def _nan_max(a, b):
    """max(a, b), NaN if either is (as ``numpy.max``)."""
    return a if (a > b or a != a) else b


@jit
def row_max(row):
    """max(row) with numpy's NaN propagation, over ``LANES`` independent running maxima."""
    n = row.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    j = 0
    while j + LANES <= n:
        m0 = _nan_max(m0, row[j])
        m1 = _nan_max(m1, row[j + 1])
        m2 = _nan_max(m2, row[j + 2])
        m3 = _nan_max(m3, row[j + 3])
        m4 = _nan_max(m4, row[j + 4])
        m5 = _nan_max(m5, row[j + 5])
        m6 = _nan_max(m6, row[j + 6])
        m7 = _nan_max(m7, row[j + 7])
        j += LANES
    m = _nan_max(_nan_max(_nan_max(m0, m1), _nan_max(m2, m3)),
                 _nan_max(_nan_max(m4, m5), _nan_max(m6, m7)))
    while j < n:
        m = _nan_max(m, row[j])
        j += 1
    return m


def cast_like(value, sample):
    """``value`` converted to the float type of the scalar ``sample`` (numba code only)."""
    raise NotImplementedError("cast_like is only callable from numba-compiled code")


@overload(cast_like, jit_options={"cache": True})
def _cast_like(value, sample):
    if sample == types.float32:
        return lambda value, sample: np.float32(value)
    return lambda value, sample: np.float64(value)
