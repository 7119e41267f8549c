"""``Normal(loc μ, scale σ)``:

    log_prob(x) = −(x − μ)²/(2σ²) − log σ − ½·log 2π
    entropy = ½ + ½·log 2π + log σ;   cdf(x) = ½·(1 + erf((x − μ)/(σ√2)))
    rsample = μ + σ·ε, ε ~ N(0, 1) (differentiable in μ and σ); sample = rsample, detached"""
import math

from ..autograd.grad_mode import no_grad
from ..creation import randn
from ..ops.broadcast import broadcast_tensors
from ..ops.pointwise import erf, log
from ..tensor import Size, Tensor
from .distribution import Distribution, as_float_tensor

__all__ = ["Normal"]


class Normal(Distribution):
    has_rsample = True
    _param_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        loc, scale = as_float_tensor(loc), as_float_tensor(scale)
        if loc.dtype != scale.dtype:
            dtype = (loc + scale).dtype
            loc, scale = loc.to(dtype), scale.to(dtype)
        self.loc, self.scale = broadcast_tensors(loc, scale)
        super().__init__(batch_shape=self.loc.shape, validate_args=validate_args)
        if self._validate_args and not bool((self.scale.detach().array > 0).all()):
            self._invalid("scale", self.scale, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = as_float_tensor(value)
        var = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * var) - log(self.scale)
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        if not isinstance(value, Tensor):
            value = as_float_tensor(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)
