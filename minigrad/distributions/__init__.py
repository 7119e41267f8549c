"""``minigrad.distributions`` (``torch.distributions``): ``Categorical``, ``Bernoulli`` and
``Normal``, with PyTorch's parameterisations, shapes and formulas. ``log_prob``,
``entropy``, ``mean`` and ``Normal.rsample`` are Tensor expressions of the parameters, so
they are differentiable (REINFORCE's ``-log_prob · return``, the VAE's reparameterised
sample). ``sample`` draws from minigrad's generator (``manual_seed``) and is not
differentiable."""
from .distribution import Distribution
from .categorical import Categorical
from .bernoulli import Bernoulli
from .normal import Normal

__all__ = ["Distribution", "Categorical", "Bernoulli", "Normal"]
