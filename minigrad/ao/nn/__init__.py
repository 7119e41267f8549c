"""``minigrad.ao.nn``: quantised module classes (``ao.nn.quantized``)."""
from . import quantized

__all__ = ["quantized"]
