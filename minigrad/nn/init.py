"""``nn.init``: fill a tensor in place with values from a chosen distribution.

Why the scales are what they are. For a layer ``y = W x`` with ``fan_in`` inputs of unit
variance and independent zero-mean weights, ``Var(y_i) = fan_in · Var(W)``. Keeping
activations at unit variance forwards needs ``Var(W) = 1/fan_in``, keeping gradients at unit
variance backwards needs ``Var(W) = 1/fan_out``; a nonlinearity f rescales the variance by a
constant that ``calculate_gain`` undoes (its *gain* g). Hence

* Xavier/Glorot (2010), a compromise between both directions:
  ``std = g · √(2 / (fan_in + fan_out))``;
* Kaiming/He (2015), one direction (``mode``), for ReLU-like f:
  ``std = g / √fan``, with ``g = √(2 / (1 + a²))`` for leaky ReLU of slope a
  (so ``√2`` for ReLU, whose output keeps half the variance).

A normal distribution gets that std directly; a uniform one on ``[−b, b]`` has variance
``b²/3``, so ``b = √3 · std``. These are PyTorch's formulas exactly (uniform, normal and
Xavier initialisation, as docs/seeds.md#seed-000 lists).

Fans: for a weight of shape ``(out, in, *kernel)``, ``fan_in = in · Πkernel`` and
``fan_out = out · Πkernel`` (the weight is used as ``x Wᵀ``, PyTorch's layout).

Samples come from minigrad's seeded generator (``mg.manual_seed``) or the
``minigrad.Generator`` (or numpy Generator) passed as ``generator``; they are drawn on the host in float64, then cast and
copied into the tensor under ``no_grad``, so a parameter can be re-initialised and its
version counter records the write.
"""
import math
import warnings

import numpy as np

from .. import creation, random
from ..tensor import Tensor
from ..autograd.grad_mode import no_grad

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The gain g that restores unit variance after ``nonlinearity``.

    ======================  ==========================
    linear, conv*, sigmoid  1
    tanh                    5/3
    relu                    √2
    leaky_relu              √(2 / (1 + slope²)), slope = ``param`` (default 0.01)
    selu                    3/4
    ======================  ==========================
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(in · Πkernel, out · Πkernel)`` for a weight of shape ``(out, in, *kernel)``."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _generator(generator):
    return random.numpy_generator(generator)


def _fill_(tensor, values):
    """Copy host ``values`` (any float array of tensor's shape) into ``tensor`` in place."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init expects a minigrad Tensor, got {type(tensor).__name__}")
    with no_grad():
        tensor.copy_(Tensor._wrap(np.asarray(values).astype(tensor.dtype, copy=False)))
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b)."""
    return _fill_(tensor, _generator(generator).uniform(a, b, tuple(tensor.shape)))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std²)."""
    return _fill_(tensor, _generator(generator).normal(mean, std, tuple(tensor.shape)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) conditioned on [a, b] (PyTorch's rejection samplers).

    When [a, b] holds a good share p of the mass (p > 0.3) normal draws outside it are
    redrawn; otherwise candidates are uniform on [a, b] and accepted with probability
    ``pdf(x) / pdf(mode)``, so a far tail costs no more than a wide interval."""
    g = _generator(generator)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    shape = tuple(tensor.shape)

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        values = g.normal(mean, std, shape)
        pending = (values < a) | (values > b)
        while pending.any():
            values[pending] = g.normal(mean, std, int(pending.sum()))
            pending = (values < a) | (values > b)
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        values = np.empty(shape)
        pending = np.ones(shape, dtype=bool)
        while pending.any():
            n = int(pending.sum())
            candidates = g.uniform(a, b, n)
            accept = np.log(g.random(n)) <= -0.5 * ((candidates - mean) / std) ** 2 - log_peak
            index = np.flatnonzero(pending)
            values.flat[index[accept]] = candidates[accept]
            pending.flat[index[accept]] = False
    return _fill_(tensor, values)


def constant_(tensor, val):
    """Fill with the constant ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """The 2-D identity (ones on the main diagonal of a possibly rectangular matrix)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill_(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """The identity convolution kernel for 3-, 4- and 5-D weights: out channel i of each of
    ``groups`` groups copies in channel i (the kernel's centre is 1, the rest 0)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tuple(tensor.shape)
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = shape[0] // groups
    values = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill_(tensor, values)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(−b, b) with ``b = gain · √(6 / (fan_in + fan_out))`` (= √3 · Xavier std)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with ``std = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(−b, b) with ``b = √3 · gain / √fan`` (He et al. 2015). ``a`` is the leaky-ReLU
    slope after this layer. ``nn.Linear``'s default is this with ``a = √5``, which works out
    to ``b = 1/√fan_in``."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std²) with ``std = gain / √fan`` (He et al. 2015)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (Saxe et al. 2013): the Q of a QR decomposition of a
    Gaussian matrix, with the signs of R's diagonal folded in so Q is uniformly (Haar)
    distributed; trailing dimensions are flattened, as in PyTorch."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill_(tensor, gain * q.reshape(tuple(tensor.shape)))
