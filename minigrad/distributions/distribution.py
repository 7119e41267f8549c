"""``Distribution``: the base class (shapes, argument validation, the shared interface)
and the conversions between probabilities and logits that several distributions use."""
import numpy as np

from ..ops.pointwise_piecewise import clamp
from ..tensor import Size, Tensor

__all__ = ["Distribution", "clamp_probs", "as_float_tensor"]


class Distribution:
    """A probability distribution with ``batch_shape`` (independent copies) and
    ``event_shape`` (the shape of one draw). ``validate_args`` (default on, as PyTorch's
    ``__debug__`` default) checks parameters at construction and values in ``log_prob``."""

    has_rsample = False
    _validate_default = True

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        self._validate_args = (self._validate_default if validate_args is None
                               else validate_args)

    @staticmethod
    def set_default_validate_args(value):
        if value not in (True, False):
            raise ValueError
        Distribution._validate_default = value

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} does not implement sample")

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def perplexity(self):
        return self.entropy().exp()

    def _invalid(self, name, value, constraint):
        raise ValueError(f"Expected parameter {name} ({type(value).__name__} of shape "
                         f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                         f"constraint {constraint}, but found invalid values:\n{value}")

    def __repr__(self):
        params = ", ".join(f"{name}: {tuple(getattr(self, name).shape)}"
                           for name in self._param_names if name in self.__dict__)
        return f"{type(self).__name__}({params})"

    _param_names = ()


def clamp_probs(probs):
    """Probabilities kept within [eps, 1 − eps] of their dtype (so their logs are finite)."""
    eps = float(np.finfo(probs.dtype).eps)
    return clamp(probs, min=eps, max=1 - eps)


def as_float_tensor(value):
    """A parameter as a floating-point Tensor (Python numbers become the default dtype)."""
    if isinstance(value, Tensor):
        return value
    from_numbers = Tensor(value)
    return from_numbers
