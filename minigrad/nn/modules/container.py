"""``nn.modules.container`` (PyTorch's path to the containers, defined in
``nn/containers.py``)."""
from ..containers import Sequential, ModuleList, ModuleDict

__all__ = ["Sequential", "ModuleList", "ModuleDict"]
