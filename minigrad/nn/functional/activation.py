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
    selu(x)        = s·elu(x, α), fixed s, α             f′ = s or s α eˣ
    celu(x)        = x if x > 0 else α(e^(x/α) − 1)     f′ = 1 or e^(x/α)
    mish(x)        = x tanh(softplus(x))                f′ = t + x σ(x)(1 − t²)
    hardswish(x)   = x relu6(x + 3)/6                   f′ = 0, x/3 + ½, 1
    hardsigmoid(x) = relu6(x + 3)/6                     f′ = 1/6 inside (−3, 3)
    softsign(x)    = x/(1 + |x|)                        f′ = 1/(1 + |x|)²
    tanhshrink(x)  = x − tanh x                         f′ = tanh² x
    soft/hardshrink, threshold: piecewise linear (``ops/activation_hard.py``)
    prelu(x, w)    = x if x > 0 else w_c x  (per channel)   dx = 1 or w_c; dw_c = Σ x [x ≤ 0]
    glu(x)         = a σ(b), (a, b) the halves of x along ``dim``
    rrelu(x)       = x if x > 0 else r x, r ~ U(lower, upper) per element in training,
                     r = (lower + upper)/2 in evaluation          dx = 1 or r
    softmax(x)     = eˣ/Σ eˣ (max-shifted)              VJP y ⊙ (dy − Σ dy ⊙ y)
    log_softmax(x) = x − logsumexp(x)                   VJP dy − softmax(x) Σ dy

(ReLU max(0, x), sigmoid 1/(1 + e⁻ˣ), tanh (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ) in exact arithmetic).
"""
from ...ops import activation as smooth, activation_hard as hard, pointwise
from ...ops import pointwise_piecewise
from ... import creation
from ...ops.joining import chunk
from ...tensor import Tensor
from ...ops.operands import check_tensor
from ...ops.softmax import softmax as _softmax, log_softmax as _log_softmax
from ...amp.autocast_mode import autocast_op

__all__ = ["relu", "relu_", "relu6", "hardtanh", "leaky_relu", "elu", "sigmoid", "tanh", "silu",
           "gelu", "softplus", "logsigmoid", "softmax", "log_softmax", "softmin", "selu", "celu",
           "mish", "hardswish", "hardsigmoid", "softsign", "tanhshrink", "softshrink",
           "hardshrink", "threshold", "threshold_", "prelu", "glu", "hardtanh_", "elu_",
           "leaky_relu_", "selu_", "celu_", "rrelu", "rrelu_", "gumbel_softmax"]


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


@autocast_op("softplus")
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx))/β, returning x itself where βx > threshold."""
    return smooth.softplus(input, beta, threshold)


def logsigmoid(input):
    """log σ(x) = −softplus(−x), finite for every x (no log of an underflowed σ)."""
    return -smooth.softplus(-input, 1.0, 20.0)


@autocast_op("softmax")
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """eˣ / Σ_dim eˣ along ``dim`` (max-shifted); ``dtype`` casts the input first."""
    return _softmax(input, dim, dtype)


@autocast_op("log_softmax")
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x − logsumexp_dim(x): never the log of a softmax, so it stays finite for large x."""
    return _log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(−x) along ``dim``."""
    check_tensor(input, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, inplace=True)


def elu_(input, alpha=1.0):
    """In-place elu."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, inplace=True)


def selu(input, inplace=False):
    """scale·elu(x, α) with α = 1.6732…, scale = 1.0507… (self-normalising)."""
    return smooth.selu(input, inplace)


def selu_(input):
    """In-place selu."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, else α(e^(x/α) − 1) (continuously differentiable elu)."""
    return smooth.celu(input, alpha, inplace)


def celu_(input, alpha=1.0):
    """In-place celu."""
    return celu(input, alpha, inplace=True)


def mish(input, inplace=False):
    """x·tanh(softplus(x))."""
    return smooth.mish(input, inplace)


def hardswish(input, inplace=False):
    """x·relu6(x + 3)/6."""
    return hard.hardswish(input, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3)/6."""
    return hard.hardsigmoid(input, inplace)


def softsign(input):
    """x / (1 + |x|); integer input gives a float result."""
    check_tensor(input, "softsign")
    return input / (pointwise.abs(input) + 1)


def tanhshrink(input):
    """x − tanh(x)."""
    check_tensor(input, "tanhshrink")
    return input - pointwise.tanh(input)


def softshrink(input, lambd=0.5):
    """x − λ above λ, x + λ below −λ, 0 on [−λ, λ]."""
    return hard.softshrink(input, lambd)


def hardshrink(input, lambd=0.5):
    """x outside [−λ, λ], 0 inside."""
    return hard.hardshrink(input, lambd)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    return hard.threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    """In-place threshold."""
    return hard.threshold(input, threshold, value, inplace=True)


@autocast_op("prelu")
def prelu(input, weight):
    """x for x > 0, else w_c·x with one learned slope per channel (dim 1), or a single
    slope (``weight`` of one element)."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = {channels}.")
    if weight.numel() == 1:
        slope = weight.reshape(())
    else:
        slope = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return pointwise.where(input > 0, input, slope * input)


def glu(input, dim=-1):
    """a·σ(b) where a, b are the first and second halves of ``input`` along ``dim``."""
    check_tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} "
                           f"is size {input.shape[dim]}")
    a, b = chunk(input, 2, dim)
    return a * pointwise.sigmoid(b)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each x ≤ 0 is scaled by its own r ~ U(lower,
    upper) (a constant to autograd, so dx = r dy there); in evaluation leaky_relu with
    slope (lower + upper)/2."""
    check_tensor(input, "rrelu")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if input.dtype.kind not in "fV":
        raise NotImplementedError(f"rrelu is not implemented for dtype {input.dtype}")
    uniform = creation.rand(tuple(input.shape), dtype=input.dtype, device=input.device)
    slope = uniform.array * (upper - lower) + lower
    noise = Tensor._wrap(input.xp.where(input.array <= 0, slope, 1).astype(input.dtype))
    return input.mul_(noise) if inplace else input * noise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g)/τ) along ``dim`` with Gumbel noise g = −log E, E ~ Exp(1)
    (drawn as −log(1 − U) from the global generator).  ``hard=True`` returns the one-hot of
    its arg-max with the soft sample's gradient (straight-through: y_hard − sg(y) + y).
    ``eps`` is unused, as in PyTorch."""
    check_tensor(logits, "gumbel_softmax")
    uniform = creation.rand_like(logits)
    gumbels = -pointwise.log(-pointwise.log(1 - uniform))
    y_soft = _softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = creation.zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
