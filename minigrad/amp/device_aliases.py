"""PyTorch's per-device spellings ``torch.cpu.amp`` and ``torch.cuda.amp``: ``autocast`` and
``GradScaler`` with the device fixed, deprecated there (FutureWarning) in favour of
``torch.amp.autocast(device_type, ...)`` / ``torch.amp.GradScaler(device, ...)``;
``minigrad.cpu.amp`` and ``minigrad.cuda.amp`` are the two namespaces below."""
import types
import warnings

from .. import dtypes
from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def _namespace(device, default_dtype):
    class autocast(_autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            warnings.warn(f"`minigrad.{device}.amp.autocast(args...)` is deprecated. Please use "
                          f"`minigrad.amp.autocast('{device}', args...)` instead.",
                          FutureWarning, stacklevel=2)
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            warnings.warn(f"`minigrad.{device}.amp.GradScaler(args...)` is deprecated. Please "
                          f"use `minigrad.amp.GradScaler('{device}', args...)` instead.",
                          FutureWarning, stacklevel=2)
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval,
                             enabled)

    for cls in (autocast, GradScaler):
        cls.__module__ = f"minigrad.{device}.amp"
        cls.__qualname__ = cls.__name__
    return types.SimpleNamespace(autocast=autocast, GradScaler=GradScaler)


cpu = _namespace("cpu", dtypes.bfloat16)
cuda = _namespace("cuda", dtypes.float16)
