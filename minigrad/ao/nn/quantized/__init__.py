"""``minigrad.ao.nn.quantized``: int8 inference modules (static ``Linear``, ``Conv2d``;
``dynamic.Linear``), made by ``ao.quantization.convert`` / ``quantize_dynamic``."""
from . import dynamic
from .modules import Conv2d, Linear, quantize_weight

__all__ = ["Linear", "Conv2d", "dynamic", "quantize_weight"]
