"""``nn.modules.flatten`` (PyTorch's path to Flatten and Unflatten, defined in
``nn/modules/linear.py``)."""
from .linear import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
