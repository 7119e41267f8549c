"""A vectorisable exp for numba loops: ``exp_shifted(row, n, shift, exp_table(dtype))``.

numba lowers ``np.exp`` on a scalar to a call into libm, which LLVM cannot vectorise (no
SVML here), so a loop of exps runs one at a time: 8 M float32 exps took ~46 ms here, and
~5 ms (float32) / ~8 ms (float64) with this version, plain arithmetic that LLVM turns
into SIMD code, with the accuracy of libm (≤ 1 ulp in float64, measured; the test allows 2):

    k = ⌊x·log₂e + ½⌋,   r = x − k·ln2_hi − k·ln2_lo     (|r| ≤ ½ ln 2; Cody–Waite split,
                                                         k·ln2_hi exact)
    exp(x) = 2ᵏ · Σ_{n≤13} rⁿ/n!                          (Taylor error ≤ 0.35¹⁴/14! ≈ 7e-18)

2ᵏ is built from its bits, ``(k + bias) << mantissa_bits``, through ``_float_from_bits``
(an LLVM bitcast; numba has no scalar bit reinterpretation of its own).  Inputs below
``lo`` (where 2ᵏ would leave the normal range, so the true value is below the smallest
normal float) give 0, −∞ included; above ``hi`` the
argument is clamped (attention only calls this with x ≤ 0, up to rounding); NaN stays
NaN.

The loop lives here, over a buffer, rather than in a scalar ``exp(x)``: a jitted scalar
function called from a loop keeps numba's error-status branch after each call, which
stops LLVM vectorising the caller's loop.

Every constant sits in ``table``, an array of the input's dtype, because a Python float
literal would silently promote float32 arithmetic to float64.
"""
import math

import numba  # noqa: F401  (first: a machine without numba skips the backend, not llvmlite)
from llvmlite import ir
from numba.extending import intrinsic

from ..catalogue import get_array_module
from ._jit import jit

np = get_array_module()         # numba kernels take numpy arrays only (dispatch sees to it)

# (lo, hi, ln2_hi, ln2_lo, bias, mantissa bits) per dtype; ln2_hi has trailing zero bits
# so that k·ln2_hi is exact for every k in range (fdlibm's split for float64).
_CONSTANTS = {
    np.dtype(np.float64): (-708.3964, 709.0, 6.93147180369123816490e-01,
                           1.90821492927058770002e-10, 1023, 52),
    np.dtype(np.float32): (-87.3365, 88.0, 0.693145751953125, 1.428606765330187045e-06, 127, 23),
}
_TERMS = 14


def exp_table(dtype):
    """The constants ``exp_with`` reads, as an array of ``dtype`` (float32 or float64)."""
    lo, hi, ln2_hi, ln2_lo, bias, bits = _CONSTANTS[np.dtype(dtype)]
    head = [lo, hi, 1 / math.log(2), ln2_hi, ln2_lo, 0.5, 0.0, bias, bits]
    return np.array(head + [1 / math.factorial(n) for n in range(_TERMS)], dtype=dtype)


@intrinsic
def _float_from_bits(typingctx, bits, like):
    """The float of ``like``'s type whose bit pattern is the integer ``bits``."""
    def codegen(context, builder, signature, args):
        target = context.get_value_type(signature.return_type)
        width = 32 if target == ir.FloatType() else 64
        value = args[0]
        if value.type.width > width:       # numba widens integer arithmetic to int64
            value = builder.trunc(value, ir.IntType(width))
        return builder.bitcast(value, target)
    return like(bits, like), codegen


@jit
def exp_shifted(row, count, shift, table):
    """``row[j] = exp(row[j] − shift)`` for ``j < count``, in place; ``table`` is
    ``exp_table(row.dtype)``."""
    lo, hi, log2e, ln2_hi, ln2_lo = table[0], table[1], table[2], table[3], table[4]
    half, zero, bias, bits = table[5], table[6], np.int64(table[7]), np.int64(table[8])
    for j in range(count):
        x = row[j] - shift
        clamped = x if x >= lo else lo     # NaN and −∞ both take ``lo`` here (fixed below)
        clamped = clamped if clamped <= hi else hi
        k = np.floor(clamped * log2e + half)
        r = (clamped - k * ln2_hi) - k * ln2_lo
        p = table[9 + _TERMS - 1]
        for n in range(_TERMS - 2, -1, -1):   # Horner; a constant trip count LLVM unrolls
            p = p * r + table[9 + n]
        value = p * _float_from_bits((np.int64(k) + bias) << bits, x)
        row[j] = value if x >= lo else (zero if x < lo else x)   # below range 0, NaN NaN
