"""Activation functions, ``F.relu`` … ``F.softmax``, with PyTorch's signatures.

Every activation here is an elementwise map z = f(x) (softmax and its relatives act on one
slice along ``dim``), whose VJP is dx = dz ⊙ f′(x).  The Functions and their derivative
formulas live in the tensor op catalogue (``minigrad/ops/pointwise*.py``, ``ops/softmax.py``);
this module gives them the ``nn.functional`` names, argument lists and ``inplace`` flags:

    relu(x)        = max(x, 0)                         f′ = [x > 0]
    hardtanh(x)    = clamp(x, lo, hi)                  f′ = [lo < x < hi]
    leaky_relu(x)  = x if x > 0 else s·x               f′ = 1 or s
    elu(x)         = x if x > 0 else α(eˣ − 1)          f′ = 1 or α eˣ
    sigmoid(x)     = 1/(1 + e⁻ˣ)                        f′ = σ(1 − σ)
    tanh(x)        = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)              f′ = 1 − tanh²
    silu(x)        = x σ(x)                             f′ = σ(1 + x(1 − σ))
    gelu(x)        = x Φ(x)  (or the tanh approximation) f′ = Φ + x φ
    softplus(x)    = log(1 + e^(βx))/β, x above the threshold      f′ = σ(βx)
    logsigmoid(x)  = −softplus(−x)                      f′ = σ(−x)
    softmax(x)     = eˣ/Σ eˣ (max-shifted)              VJP y ⊙ (dy − Σ dy ⊙ y)
    log_softmax(x) = x − logsumexp(x)                   VJP dy − softmax(x) Σ dy

(ReLU max(0, x), sigmoid 1/(1 + e⁻ˣ), tanh (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ) in exact arithmetic).
"""
from ...ops import activation as smooth, pointwise
from ...ops import pointwise_piecewise
from ...ops.operands import check_tensor
from ...ops.softmax import softmax as _softmax, log_softmax as _log_softmax

__all__ = ["relu", "relu_", "relu6", "hardtanh", "leaky_relu", "elu", "sigmoid", "tanh", "silu",
           "gelu", "softplus", "logsigmoid", "softmax", "log_softmax", "softmin"]


def relu(input, inplace=False):
    """max(x, 0) elementwise; ``inplace=True`` overwrites ``input`` (float tensors)."""
    check_tensor(input, "relu")
    if inplace:
        return pointwise_piecewise.apply_activation(pointwise_piecewise.Relu, input, "relu",
                                                    inplace=True)
    return pointwise.relu(input)


def relu_(input):
    """In-place relu."""
    return relu(input, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val) with gradient 1 strictly inside (min_val, max_val)."""
    check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return pointwise_piecewise.apply_activation(pointwise_piecewise.Hardtanh, input, "hardtanh",
                                                min_val, max_val, inplace=inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope·x (the slope also at x = 0, as PyTorch)."""
    return pointwise.leaky_relu(input, negative_slope, inplace)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else α(eˣ − 1)."""
    return smooth.elu(input, alpha, inplace)


def sigmoid(input):
    """1 / (1 + e⁻ˣ), computed without overflow."""
    return pointwise.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent."""
    return pointwise.tanh(input)


def silu(input, inplace=False):
    """x σ(x) (a.k.a. swish)."""
    return smooth.silu(input, inplace)


def gelu(input, approximate="none"):
    """x Φ(x) with Φ the standard normal CDF (``approximate='none'``), or
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (``approximate='tanh'``)."""
    return smooth.gelu(input, approximate)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx))/β, returning x itself where βx > threshold."""
    return smooth.softplus(input, beta, threshold)


def logsigmoid(input):
    """log σ(x) = −softplus(−x), finite for every x (no log of an underflowed σ)."""
    return -smooth.softplus(-input, 1.0, 20.0)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """eˣ / Σ_dim eˣ along ``dim`` (max-shifted); ``dtype`` casts the input first."""
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x − logsumexp_dim(x): never the log of a softmax, so it stays finite for large x."""
    return _log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(−x) along ``dim``."""
    check_tensor(input, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)
