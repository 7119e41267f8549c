"""``nn.utils``: helpers around modules and their parameters (gradient clipping) and
``nn.utils.rnn`` (variable-length sequences for the recurrent layers) and
``nn.utils.prune`` (PyTorch's weight pruning: masks applied by forward pre-hooks)."""
from . import prune, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["prune", "rnn", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]
