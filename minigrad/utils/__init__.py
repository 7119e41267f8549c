"""minigrad.utils: ``minigrad.utils.data`` (datasets, samplers, DataLoader), as in
``torch.utils``."""
from . import data, hooks

__all__ = ["data", "hooks"]
