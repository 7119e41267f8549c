"""minigrad.utils: ``minigrad.utils.data`` (datasets, samplers, DataLoader), as in
``torch.utils``."""
from . import data

__all__ = ["data"]
