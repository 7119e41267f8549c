"""Reference smooth pointwise functions: erf, erfc, the stable sigmoid and GELU.

Each maps ``x (...)`` to an array of the same shape and dtype; minigrad's Functions own
the derivatives (written with Tensor ops so higher derivatives work):

    erf(x)   = (2/√π) ∫₀ˣ e^(−t²) dt                 erf′(x)  = (2/√π) e^(−x²)
    erfc(x)  = 1 − erf(x)  (accurate in the tail)     erfc′(x) = −(2/√π) e^(−x²)
    σ(x)     = 1 / (1 + e^(−x))                       σ′(x)    = σ(x)(1 − σ(x))
    gelu(x)  = x Φ(x),  Φ(x) = ½(1 + erf(x/√2))       gelu′(x) = Φ(x) + x φ(x)
    gelu_tanh(x) = ½ x (1 + tanh(k(x + 0.044715 x³))),  k = √(2/π)

How erf is computed.  float64: for |x| ≥ ½, erf = 1 − erfc(|x|) with
``erfc(z) = t·exp(−z² + ½c₀ + ty·d − dd)``, ``t = 2/(2+z)``, ``ty = 4t − 2`` and ``d, dd``
Clenshaw's recurrence over 28 Chebyshev coefficients (Numerical Recipes, 3rd ed.,
§6.2.2; relative error below 1.2e-16); below ½, where 1 − erfc would cancel, the Taylor
series ``2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n!(2n+1))`` with 13 terms.  float32/float16 (GELU's hot
path, ten times faster): ``x·P(x²)/Q(x²)`` on [−4, 4] and ±1 beyond (Eigen's
``generic_fast_erf_float``; |error| < 7e-8, ≤ 7 ulp in float32).  erfc of float32/float16
takes the float64 path with the terms above 1e-9 only.

σ never overflows: with ``e = exp(−|x|) ≤ 1``, σ = 1/(1+e) for x ≥ 0 and e/(1+e) below.
"""
import math

from ..catalogue import CATALOGUE, get_array_module

_ERFC_CHEBYSHEV = (
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
    5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12,
    -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15,
    -9.4e-17, 1.21e-16, -2.8e-17)
_ERF_TAYLOR = tuple((-1) ** n * 2.0 / math.sqrt(math.pi) / (math.factorial(n) * (2 * n + 1))
                    for n in range(13))
_ERF_P = (-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04,
          -5.69250639462346e-05, -2.10102402082508e-06, 2.77068142495902e-08,
          -2.72614225801306e-10)
_ERF_Q = (-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03,
          -2.13374055278905e-04, -1.45660718464996e-05)
_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)


def _polynomial(coefficients, x):
    """Σ cᵢ xⁱ by Horner's rule."""
    result = coefficients[-1]
    for c in coefficients[-2::-1]:
        result = result * x + c
    return result


def _erfc_nonnegative(xp, z, terms):
    """erfc(z) for z ≥ 0 from the first ``terms`` Chebyshev coefficients (Clenshaw)."""
    t = 2.0 / (2.0 + z)
    ty = 4.0 * t - 2.0
    d = dd = xp.zeros_like(z)
    for c in _ERFC_CHEBYSHEV[terms - 1:0:-1]:
        d, dd = ty * d - dd + c, d
    return t * xp.exp(-z * z + 0.5 * (_ERFC_CHEBYSHEV[0] + ty * d) - dd)


@CATALOGUE.reference("erf")
def erf(x):
    """``erf(x)`` elementwise; ``x (...)`` float, same shape and dtype out."""
    xp = get_array_module(x)
    if x.dtype.itemsize < 8:
        a = xp.clip(x.astype(xp.float32, copy=False), -4.0, 4.0)
        a2 = a * a
        return (a * _polynomial(_ERF_P, a2) / _polynomial(_ERF_Q, a2)).astype(x.dtype, copy=False)
    z = xp.abs(x)
    small = _polynomial(_ERF_TAYLOR, xp.minimum(z, 0.5) ** 2) * xp.minimum(z, 0.5)
    return xp.sign(x) * xp.where(z < 0.5, small, 1.0 - _erfc_nonnegative(xp, z, 28))


@CATALOGUE.reference("erfc")
def erfc(x):
    """``1 − erf(x)`` elementwise without cancellation for large x; same shape and dtype."""
    xp = get_array_module(x)
    full = x.dtype.itemsize >= 8
    work = x if full else x.astype(xp.float64)
    z = xp.abs(work)
    tail = _erfc_nonnegative(xp, z, 28 if full else 14)                 # erfc |x|
    small = _polynomial(_ERF_TAYLOR[:13 if full else 8], xp.minimum(z, 0.5) ** 2) * work
    out = xp.where(z < 0.5, 1.0 - small, xp.where(work < 0, 2.0 - tail, tail))
    return out.astype(x.dtype, copy=False)


@CATALOGUE.reference("sigmoid")
def sigmoid(x):
    """``σ(x) = 1/(1 + e^(−x))`` elementwise, finite for every x; same shape and dtype.

    The numerator ``max(e, [x ≥ 0])`` picks 1 or e without a (slow, branchy) ``where``.
    """
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return (xp.maximum(e, x >= 0) / (1.0 + e)).astype(x.dtype, copy=False)


@CATALOGUE.reference("gelu")
def gelu(x):
    """Exact GELU ``x Φ(x) = ½ x (1 + erf(x/√2))`` elementwise; same shape and dtype."""
    return 0.5 * x * (1.0 + erf(x * math.sqrt(0.5)))


@CATALOGUE.reference("gelu_tanh")
def gelu_tanh(x):
    """GELU's tanh approximation ``½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))``; same shape
    and dtype."""
    xp = get_array_module(x)
    return 0.5 * x * (1.0 + xp.tanh(_GELU_TANH_SCALE * (x + 0.044715 * x * x * x)))


@CATALOGUE.reference("gelu_backward")
def gelu_backward(dy, x):
    """VJP of exact GELU: ``dy · (Φ(x) + x φ(x))``, ``φ(x) = e^(−x²/2)/√(2π)``; ``dy, x``
    of one shape, that shape and dtype out."""
    xp = get_array_module(dy, x)
    cdf = 0.5 * (1.0 + erf(x * math.sqrt(0.5)))
    pdf = xp.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    return (dy * (cdf + x * pdf)).astype(x.dtype, copy=False)


@CATALOGUE.reference("gelu_tanh_backward")
def gelu_tanh_backward(dy, x):
    """VJP of tanh GELU: ``dy · (½(1 + t) + ½ x (1 − t²) k (1 + 3·0.044715 x²))``,
    ``t = tanh(k(x + 0.044715 x³))``; that shape and dtype out."""
    xp = get_array_module(dy, x)
    t = xp.tanh(_GELU_TANH_SCALE * (x + 0.044715 * x * x * x))
    inner = _GELU_TANH_SCALE * (1.0 + 3 * 0.044715 * x * x)
    return (dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)).astype(x.dtype, copy=False)
