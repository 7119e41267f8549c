"""``minigrad.ao.nn.quantized.dynamic``: modules whose activations are quantised at run
time (PyTorch's ``torch.ao.nn.quantized.dynamic``)."""
from .modules import DynamicLinear as Linear

__all__ = ["Linear"]
