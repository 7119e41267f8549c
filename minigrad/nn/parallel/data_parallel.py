"""``DataParallel``: PyTorch splits each batch over several GPUs. minigrad drives one GPU,
so it does what PyTorch does with fewer than two: without a GPU it calls the wrapped
module as is; with one, it moves the tensor arguments to ``device_ids[0]`` and calls the
module there. The wrapped module is ``self.module`` (so state_dict keys get a ``module.``
prefix, as PyTorch's)."""
from ... import cuda
from ...device import Device
from ...tensor import Tensor
from ..module import Module

__all__ = ["DataParallel"]


def _to_device(value, device):
    """Tensors inside (nested tuples, lists, dicts of) ``value`` moved to ``device``."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, tuple):
        return tuple(_to_device(v, device) for v in value)
    if isinstance(value, list):
        return [_to_device(v, device) for v in value]
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _index(device):
    if isinstance(device, Device):
        return device.index or 0
    if isinstance(device, str):
        return Device(device).index or 0
    return int(device)


class DataParallel(Module):
    """Run ``module`` on the batch (one device: see the module docstring)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.dim = dim
        if not cuda.is_available():
            self.device_ids = []
            self.output_device = None
            self.src_device_obj = Device("cpu")
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.device_ids = [_index(d) for d in device_ids]
        self.output_device = _index(output_device if output_device is not None
                                    else self.device_ids[0])
        self.src_device_obj = Device(f"cuda:{self.device_ids[0]}")

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in (*self.module.parameters(), *self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device "
                                   f"{self.src_device_obj} (device_ids[0]) but found one of "
                                   f"them on device: {t.device}")
        inputs = _to_device(inputs, self.src_device_obj)
        kwargs = _to_device(kwargs, self.src_device_obj)
        output = self.module(*inputs, **kwargs)
        return _to_device(output, Device(f"cuda:{self.output_device}"))
