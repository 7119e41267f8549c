"""``Bernoulli``: 1 with probability p (``probs``) or σ(ℓ) (``logits``), else 0.

    log_prob(x) = x·log p + (1 − x)·log(1 − p) = −BCEWithLogits(ℓ, x)
    entropy = −p·log p − (1 − p)·log(1 − p) = BCEWithLogits(ℓ, p)
    mean = p,  variance = p(1 − p);  sample: 1 where u < p, u ~ U(0, 1)"""
from ..autograd.grad_mode import no_grad
from ..creation import rand
from ..ops.activation import softplus
from ..ops.broadcast import broadcast_tensors
from ..ops.pointwise import log, log1p, sigmoid
from ..tensor import Size, Tensor
from .distribution import Distribution, as_float_tensor, clamp_probs

__all__ = ["Bernoulli"]


def _bce_with_logits(logits, target):
    """max(ℓ, 0) − ℓ·t + log(1 + e^{−|ℓ|}), elementwise (no reduction)."""
    return logits.clamp(min=0) - logits * target + softplus(-logits.abs())


class Bernoulli(Distribution):
    _param_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        super().__init__(validate_args=validate_args)
        if probs is not None:
            self.probs = as_float_tensor(probs)
            if self._validate_args:
                a = self.probs.detach().array
                if not bool(((a >= 0) & (a <= 1)).all()):
                    self._invalid("probs", self.probs, "Interval(lower_bound=0.0, "
                                  "upper_bound=1.0)")
            p = clamp_probs(self.probs)
            self.logits = log(p) - log1p(-p)
        else:
            self.logits = as_float_tensor(logits)
            self.probs = sigmoid(self.logits)
        self._batch_shape = Size(self.probs.shape)

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = tuple(sample_shape) + tuple(self._batch_shape)
        with no_grad():
            probs = self.probs.detach().expand(shape)
            u = rand(*shape, dtype=probs.dtype, device=probs.device)
            return (u < probs).to(probs.dtype)

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = as_float_tensor(value)
        if self._validate_args:
            a = value.array
            if not bool(((a == 0) | (a == 1)).all()):
                raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) to be within the support (Boolean()) "
                                 f"of the distribution {self!r}, but found invalid values:\n"
                                 f"{value}")
        logits, value = broadcast_tensors(self.logits, value.to(self.logits.dtype))
        return -_bce_with_logits(logits, value)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs)
