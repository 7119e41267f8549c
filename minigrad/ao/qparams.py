"""Quantised dtypes, quantisation schemes, and the affine map between floats and integers.

An integer ``q`` of dtype ``qint8`` ([-128, 127]) or ``quint8`` ([0, 255]) stands for the
real number ``x̂ = scale · (q − zero_point)``; quantising is

    q = clamp(round(x / scale) + zero_point, quant_min, quant_max)

(``round`` half to even, as ``torch.quantize_per_tensor``). Inside the clamp range the
round-trip error is at most ``scale / 2``. Scale and zero point come from an observed range
``[min, max]`` (PyTorch's ``MinMaxObserver`` formulas, so the numbers equal torch's):

* affine: ``min ← min(min, 0)``, ``max ← max(max, 0)`` (0 must be exact),
  ``scale = (max − min)/(quant_max − quant_min)``, ``zero_point = quant_min − round(min/scale)``;
* symmetric: ``scale = max(|min|, |max|) / ((quant_max − quant_min)/2)``, zero point 0
  (qint8) or 128 (quint8);

``scale`` is at least float32's eps, so an all-zero tensor still has a usable scale.
"""
import numpy as np

__all__ = ["QDtype", "qint8", "quint8", "per_tensor_affine", "per_tensor_symmetric",
           "per_channel_affine", "per_channel_symmetric", "choose_qparams", "quantize_array",
           "dequantize_array"]

EPS = float(np.finfo(np.float32).eps)


class QDtype:
    """A quantised integer dtype: its name, numpy storage type and range."""

    def __init__(self, name, storage, quant_min, quant_max):
        self.name, self.storage = name, np.dtype(storage)
        self.quant_min, self.quant_max = quant_min, quant_max

    def __repr__(self):
        return f"minigrad.{self.name}"


qint8 = QDtype("qint8", np.int8, -128, 127)
quint8 = QDtype("quint8", np.uint8, 0, 255)
per_tensor_affine = "per_tensor_affine"
per_tensor_symmetric = "per_tensor_symmetric"
per_channel_affine = "per_channel_affine"
per_channel_symmetric = "per_channel_symmetric"
_SYMMETRIC = (per_tensor_symmetric, per_channel_symmetric)


def choose_qparams(min_val, max_val, dtype=qint8, qscheme=per_tensor_affine,
                   quant_min=None, quant_max=None):
    """``(scale float32, zero_point int32)`` arrays (shaped like ``min_val``) for the range."""
    qmin = dtype.quant_min if quant_min is None else quant_min
    qmax = dtype.quant_max if quant_max is None else quant_max
    min_neg = np.minimum(np.asarray(min_val, dtype=np.float32), 0)
    max_pos = np.maximum(np.asarray(max_val, dtype=np.float32), 0)
    if qscheme in _SYMMETRIC:
        bound = np.maximum(-min_neg, max_pos)
        scale = bound / np.float32((qmax - qmin) / 2)
        zero = np.full(scale.shape, 0 if dtype is qint8 else (qmin + qmax + 1) // 2, np.int32)
    else:
        scale = (max_pos - min_neg) / np.float32(qmax - qmin)
        scale = np.maximum(scale, np.float32(EPS))
        zero = np.clip(qmin - np.round(min_neg / scale), qmin, qmax).astype(np.int32)
    return np.maximum(scale, np.float32(EPS)).astype(np.float32), zero


def quantize_array(x, scale, zero_point, dtype=qint8, axis=None):
    """``clamp(round(x/scale + zero_point))`` as ``dtype.storage``; per channel along
    ``axis`` when scale/zero_point are 1-D."""
    xp = np
    scale, zero_point = np.asarray(scale, np.float32), np.asarray(zero_point, np.int32)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    # torch adds the zero point before rounding, in float32: at a tie such as
    # x/scale = −12.500003 with zero point −64, −76.500003 rounds to −76.5 in float32 and
    # then to −76 (even), where rounding first gives −13 − 64 = −77.
    scaled = x / scale
    q = xp.rint(scaled + zero_point.astype(scaled.dtype))
    return xp.clip(q, dtype.quant_min, dtype.quant_max).astype(dtype.storage)


def dequantize_array(q, scale, zero_point, axis=None):
    """``scale · (q − zero_point)`` in float32."""
    scale, zero_point = np.asarray(scale, np.float32), np.asarray(zero_point, np.int32)
    if axis is not None:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return ((q.astype(np.int32) - zero_point) * scale).astype(np.float32)
