"""minigrad.utils: ``minigrad.utils.data`` (datasets, samplers, DataLoader) and
``minigrad.utils.checkpoint`` (activation checkpointing), as in
``torch.utils``."""
from . import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
