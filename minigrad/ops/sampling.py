"""Sampling ops: ``normal``, ``bernoulli``, ``multinomial`` and the in-place fills
``normal_``, ``uniform_``, ``bernoulli_``; each takes ``generator=`` (``minigrad.random``).

Samples are drawn on the host from the generator and then moved to the input's device,
as everywhere in minigrad (``random.py``), so they are reproducible across devices.

Gradients, as PyTorch defines them: a sample is not a differentiable function of its
distribution's parameters here (no reparameterisation), and PyTorch's ``normal`` and
``bernoulli`` give mean, std and p a *zero* gradient rather than none. So does this
module: ``normal(μ, σ).sum().backward()`` leaves μ.grad = σ.grad = 0. (For a
reparameterised sample write ``μ + σ * randn_like(σ)``.) ``multinomial`` returns indices
(int64), which carry no gradient. The in-place fills overwrite the tensor, so what flowed
into it gets a zero gradient, as after ``fill_``.

``multinomial(input, n, replacement)`` draws n category indices per row of the
(unnormalised, non-negative) weights ``input`` (1-D: one row):

* with replacement: inverse-CDF sampling, u ~ U[0, 1) located in the cumulative weights
  (a zero-weight category spans an empty interval, so it is never drawn);
* without: the exponential race — with E_j ~ Exp(1) independent, the order of w_j / E_j
  (largest first) is a weighted sample without replacement (P(j first) = w_j / Σw, and
  so on recursively), which is PyTorch's method too. Zero-weight categories come last,
  so asking for more samples than positive weights returns them after the rest.
"""
import numpy as np   # multinomial's bookkeeping runs on the host, where samples are drawn

from .. import dtypes
from ..device import move_array, to_host
from ..random import numpy_generator
from ..tensor import Tensor
from ..autograd.function import Function
from .inplace import copy_
from .operands import broadcast_shapes, check_tensor

__all__ = ["normal", "bernoulli", "multinomial"]


class Normal(Function):
    """y = μ + σ·z with z ~ N(0, 1) drawn beforehand (μ, σ, z broadcast to y's shape);
    dμ = 0, dσ = 0 (PyTorch's: the sample is not differentiated through)."""

    def forward(self, mean, std, noise):
        self.shapes = mean.shape, std.shape
        return (mean.array + std.array * noise.array).astype(noise.dtype, copy=False)

    def backward(self, dy):
        return tuple(Tensor._wrap(dy.xp.zeros(shape, dtype=dy.dtype)) for shape in self.shapes) \
            + (None,)


class Bernoulli(Function):
    """y = 1[u < p] with u ~ U[0, 1) drawn beforehand (y has p's shape and dtype);
    dp = 0 (PyTorch's zero gradient)."""

    def forward(self, p, uniform):
        return (uniform.array < p.array).astype(p.dtype)

    def backward(self, dy):
        return Tensor._wrap(dy.xp.zeros(dy.shape, dtype=dy.dtype)), None


def _host_sample(method, shape, dtype, device, generator, *args):
    """``numpy_generator(generator).<method>(*args, shape)`` cast to dtype, on ``device``."""
    array = getattr(numpy_generator(generator), method)(*args, size=shape).astype(dtype)
    return Tensor._wrap(move_array(array, device))


def _broadcast_shape(a, b):
    """The broadcast shape of mean and std, or PyTorch's message for the first dimension
    (from the right) where they differ."""
    for dim in range(1, min(len(a), len(b)) + 1):
        if a[-dim] != b[-dim] and 1 not in (a[-dim], b[-dim]):
            raise RuntimeError(f"The size of tensor a ({a[-dim]}) must match the size of tensor "
                               f"b ({b[-dim]}) at non-singleton dimension "
                               f"{max(len(a), len(b)) - dim}")
    return broadcast_shapes(a, b)


def _check_std(std):
    if isinstance(std, Tensor):
        if std.numel() and bool((std.array < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Samples of N(mean, std²), elementwise: ``normal(mean_tensor, std_tensor_or_float)``,
    ``normal(mean_float, std_tensor)`` (shapes broadcast; dtype and device of the tensor
    operand), or ``normal(mean_float, std_float, size)`` (default dtype, or ``dtype``)."""
    if out is not None:
        raise TypeError("normal() does not support out=; assign the result instead")
    _check_std(std)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with "
                            "float mean and std, size is required")
        shape = tuple(size)
        dtype = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        noise = _host_sample("normal", shape, dtype, device, generator, mean, std)
        if requires_grad:
            noise.requires_grad = True
        return noise
    if size is not None:
        raise TypeError("normal() received an invalid combination of arguments: size is only "
                        "accepted with float mean and std")
    like = mean if isinstance(mean, Tensor) else std
    if not dtypes.is_floating(like.dtype):
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(like.dtype)}'")
    as_tensor = lambda v: v if isinstance(v, Tensor) else Tensor._wrap(  # noqa: E731
        like.xp.asarray(v, dtype=like.dtype))
    mean, std = as_tensor(mean), as_tensor(std)
    shape = _broadcast_shape(mean.shape, std.shape)
    noise = _host_sample("standard_normal", shape, like.dtype, like.device, generator)
    return Normal.apply(mean, std, noise)


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability ``input`` (or the float ``p``, in input's shape), else 0;
    input's dtype and device."""
    check_tensor(input, "bernoulli", "input")
    if out is not None:
        raise TypeError("bernoulli() does not support out=; assign the result instead")
    if not dtypes.is_floating(input.dtype):
        raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    if p is None:
        probability = input
        array = input.array
        outside = input.numel() and bool(((array < 0) | (array > 1) | (array != array)).any())
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        probability = Tensor._wrap(input.xp.full(input.shape, p, dtype=input.dtype))
        outside = False
    if outside:
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    uniform = _host_sample("random", input.shape, input.dtype, input.device, generator)
    return Bernoulli.apply(probability, uniform)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """``num_samples`` category indices per row of the weights ``input`` (1-D or 2-D,
    floating, non-negative, each row with a positive sum); int64, input's device."""
    check_tensor(input, "multinomial", "input")
    if out is not None:
        raise TypeError("multinomial() does not support out=; assign the result instead")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{dtypes.scalar_type_name(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if categories > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = to_host(input.array).astype("float64").reshape(-1, categories)
    rng = numpy_generator(generator)
    if weights.size:
        if not (weights >= 0).all() or not np.isfinite(weights).all():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (weights.sum(axis=1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = weights.shape[0]
    if replacement:
        cumulative = weights.cumsum(axis=1)
        uniform = rng.random((rows, num_samples)) * cumulative[:, -1:]
        samples = np.stack([np.searchsorted(cumulative[r], uniform[r], side="right")
                            for r in range(rows)]) if rows else np.empty((0, num_samples))
        # u·Σw rounds below Σw, but guard the last interval against rounding all the same.
        last_positive = categories - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
        samples = np.minimum(samples, last_positive[:, None])
    else:
        race = weights / rng.standard_exponential((rows, categories))
        samples = np.argsort(-race, axis=1, kind="stable")[:, :num_samples]
    samples = samples.astype("int64").reshape(*input.shape[:-1], num_samples)
    return Tensor._wrap(move_array(samples, input.device))


# ---------------------------------------------------------------- in-place fills
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples of N(mean, std²), in place."""
    _check_std(std)
    return copy_(self, _host_sample("normal", self.shape, self.dtype, self.device, generator,
                                    mean, std))


def uniform_(self, a=0.0, b=1.0, *, generator=None, **bounds):
    """Fill with samples of U[a, b) in place (PyTorch's ``from``/``to`` keywords too)."""
    a, b = bounds.pop("from", a), bounds.pop("to", b)
    if bounds:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(bounds))}'")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} "
                           f"> to={b}")
    return copy_(self, _host_sample("uniform", self.shape, self.dtype, self.device, generator,
                                    a, b))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``, a float or a tensor broadcast to self) or 0, in place;
    any dtype."""
    if isinstance(p, Tensor):
        p = to_host(p.detach().array).astype("float64")
        if not bool(np.all((0 <= p) & (p <= 1))):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    uniform = numpy_generator(generator).random(self.shape)
    ones = (uniform < p).astype(self.dtype)
    return copy_(self, Tensor._wrap(move_array(ones, self.device)))
