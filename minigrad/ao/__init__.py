"""``minigrad.ao``: architecture optimisation, PyTorch's ``torch.ao`` namespace —
``ao.quantization`` (observers, ``quantize_dynamic``, ``prepare``/``convert``) and
``ao.nn.quantized`` (the int8 modules they produce)."""
from . import nn, quantization

__all__ = ["nn", "quantization"]
