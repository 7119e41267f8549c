"""Observers: modules that watch the tensors passing through them during calibration and
then give quantisation parameters (PyTorch's ``torch.ao.quantization.observer`` names).

``MinMaxObserver`` keeps the running min and max of every tensor it sees (per tensor);
``PerChannelMinMaxObserver`` keeps them per slice along ``ch_axis`` (weights: per output
channel). ``calculate_qparams()`` → ``(scale, zero_point)`` tensors, by the formulas of
``qparams.choose_qparams``. An observer returns its input unchanged.
"""
import numpy as np

from ...nn.module import Module
from ...tensor import Tensor
from ..qparams import choose_qparams, per_channel_symmetric, per_tensor_affine, qint8, quint8

__all__ = ["ObserverBase", "MinMaxObserver", "PerChannelMinMaxObserver"]


class ObserverBase(Module):
    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, quant_min=None, quant_max=None):
        super().__init__()
        if dtype not in (qint8, quint8):
            raise ValueError(f"observers support qint8 and quint8, got {dtype}")
        self.dtype, self.qscheme = dtype, qscheme
        self.quant_min = dtype.quant_min if quant_min is None else quant_min
        self.quant_max = dtype.quant_max if quant_max is None else quant_max
        self.min_val = self.max_val = None

    def _update(self, low, high):
        self.min_val = low if self.min_val is None else np.minimum(self.min_val, low)
        self.max_val = high if self.max_val is None else np.maximum(self.max_val, high)

    def calculate_qparams(self):
        """``(scale, zero_point)`` as float32 and int32 tensors."""
        if self.min_val is None:
            raise RuntimeError(f"{type(self).__name__} has observed no tensor: run calibration "
                               "batches through the prepared model first")
        scale, zero = choose_qparams(self.min_val, self.max_val, self.dtype, self.qscheme,
                                     self.quant_min, self.quant_max)
        return Tensor._wrap(np.atleast_1d(scale)), Tensor._wrap(np.atleast_1d(zero))

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class MinMaxObserver(ObserverBase):
    """Running min/max over every tensor seen; per-tensor qparams."""

    def forward(self, x_orig):
        x = x_orig.detach().cpu().numpy()
        if x.size:
            self._update(np.float32(x.min()), np.float32(x.max()))
        return x_orig


class PerChannelMinMaxObserver(ObserverBase):
    """Running min/max per slice along ``ch_axis``; per-channel qparams."""

    def __init__(self, ch_axis=0, dtype=quint8, qscheme=per_channel_symmetric, quant_min=None,
                 quant_max=None):
        super().__init__(dtype, qscheme, quant_min, quant_max)
        self.ch_axis = ch_axis

    def forward(self, x_orig):
        x = np.moveaxis(x_orig.detach().cpu().numpy(), self.ch_axis, 0)
        x = x.reshape(x.shape[0], -1)
        self._update(x.min(axis=1).astype(np.float32), x.max(axis=1).astype(np.float32))
        return x_orig
