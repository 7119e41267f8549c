"""``minigrad.ao.quantization``: int8 post-training quantisation (PyTorch's names).

* ``quantize_dynamic(model, {nn.Linear}, dtype=qint8)`` — Linear layers with int8
  per-channel weights and activations quantised at run time;
* ``prepare(model)`` → calibrate → ``convert(prepared)`` — static quantisation of Conv2d
  and Linear with observed activation ranges;
* observers ``MinMaxObserver``, ``PerChannelMinMaxObserver``; dtypes ``qint8``,
  ``quint8``; schemes ``per_tensor_affine`` … ; ``quantize_per_tensor``/``dequantize``
  helpers on arrays (``qparams``).

The int8 matrix product is the kernel catalogue's ``int8_gemm`` (numba on the CPU). The
measured accuracy, size and latency against float32 are in docs/quantization.md.
"""
from .observer import MinMaxObserver, ObserverBase, PerChannelMinMaxObserver
from ..qparams import (QDtype, choose_qparams, dequantize_array, per_channel_affine,
                      per_channel_symmetric, per_tensor_affine, per_tensor_symmetric, qint8,
                      quantize_array, quint8)
from .quantize import convert, model_size_bytes, prepare, quantize_dynamic

__all__ = ["MinMaxObserver", "ObserverBase", "PerChannelMinMaxObserver", "QDtype",
           "choose_qparams", "dequantize_array", "per_channel_affine", "per_channel_symmetric",
           "per_tensor_affine", "per_tensor_symmetric", "qint8", "quantize_array", "quint8",
           "convert", "model_size_bytes", "prepare", "quantize_dynamic"]
