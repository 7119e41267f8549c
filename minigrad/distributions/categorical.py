"""``Categorical``: K classes with probabilities pₖ (``probs``, normalised over the last dim)
or unnormalised log-probabilities (``logits``; stored normalised: ℓ − logsumexp ℓ).

    log_prob(k) = ℓₖ                 entropy = −Σₖ pₖ ℓₖ
    sample: the first k with u < Σ_{j≤k} pⱼ, u ~ U(0, 1)   (not differentiable)

batch_shape is the parameters' shape without the last dim; event_shape is ()."""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import rand
from ..ops.broadcast import broadcast_tensors
from ..ops.pointwise import log
from ..ops.softmax import logsumexp, softmax
from ..tensor import Size, Tensor
from .distribution import Distribution, clamp_probs

__all__ = ["Categorical"]


class Categorical(Distribution):
    _param_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        super().__init__(validate_args=validate_args)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            if self._validate_args:
                a = probs.detach().array
                if not (bool((a >= 0).all()) and bool(a.sum(-1).all() > 0)):
                    self.probs = probs
                    self._invalid("probs", probs, "Simplex()")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = log(clamp_probs(self.probs))
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logsumexp(logits, dim=-1, keepdim=True)
            self.probs = softmax(self.logits, dim=-1)
        self._num_events = self.probs.shape[-1]
        self._batch_shape = Size(self.probs.shape[:-1])

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        return Tensor._wrap(self.probs.xp.full(self._batch_shape, np.nan,
                                               dtype=self.probs.dtype))

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return Tensor._wrap(self.probs.xp.full(self._batch_shape, np.nan,
                                               dtype=self.probs.dtype))

    def enumerate_support(self, expand=True):
        values = Tensor._wrap(self.probs.xp.arange(self._num_events, dtype=np.int64))
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    def sample(self, sample_shape=Size()):
        shape = tuple(sample_shape) + tuple(self._batch_shape)
        with no_grad():
            probs = self.probs.detach()
            xp = probs.xp
            cdf = xp.cumsum(probs.array, axis=-1)
            u = rand(*shape, dtype=probs.dtype, device=probs.device).array[..., None]
            index = (u * cdf[..., -1:] >= cdf).sum(-1)
            return Tensor._wrap(xp.minimum(index, self._num_events - 1).astype(np.int64))

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = Tensor._wrap(np.asarray(value))
        if self._validate_args:
            a = value.array
            if not bool(((a >= 0) & (a < self._num_events) & (a == a.round())).all()):
                raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) to be within the support "
                                 f"(IntegerInterval(lower_bound=0, upper_bound="
                                 f"{self._num_events - 1})) of the distribution {self!r}, but "
                                 f"found invalid values:\n{value}")
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        min_real = float(np.finfo(self.logits.dtype).min)
        p_log_p = self.logits.clamp(min=min_real) * self.probs
        return -p_log_p.sum(-1)
