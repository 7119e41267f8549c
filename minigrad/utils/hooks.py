"""``minigrad.utils.hooks`` (``torch.utils.hooks``): the handle every ``register_*hook``
returns, and the helper behind ``nn.Module``'s full backward hooks."""
from ..autograd.handle import RemovableHandle
from ..autograd.hooks import BackwardHook

__all__ = ["RemovableHandle", "BackwardHook"]
