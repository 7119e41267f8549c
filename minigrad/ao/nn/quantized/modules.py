"""int8 Linear and Conv2d for inference (CPU, numpy arrays).

Weights are quantised once, per output channel, symmetric int8 (PyTorch's
``per_channel_symmetric`` qint8: ``s_w[o] = max|W[o]| / 127.5``, zero point 0). An input
``x`` is quantised per tensor to affine int8 with ``(s_x, z_x)``; the product runs in
integers through the kernel catalogue's ``int8_gemm`` (int8 × int8 → exact int32), and
one float rescale gives the output:

    y[n, o] = s_x · s_w[o] · ( Σ_k q_x[n, k] · q_w[o, k]  −  z_x · Σ_k q_w[o, k] ) + b[o]

(the second sum is precomputed per channel). A convolution is the same GEMM over the
im2col patches of the quantised image (padding with ``z_x``, which stands for 0.0).

``Linear``/``Conv2d`` here are the *static* modules: ``(s_x, z_x)`` were fixed by
calibration (``ao.quantization.prepare``/``convert``). ``dynamic.Linear`` computes them
from each input's own min and max at run time (``quantize_dynamic``). Unlike PyTorch's
quantised modules, which pass quantised tensors from layer to layer, these take and
return float32 tensors; between two of them the float activations are exactly the
dequantised values (ReLU and max-pooling commute with the monotone quantisation), so the
arithmetic of the conv/linear layers is the same int8 arithmetic.
"""
import numpy as np

import minigrad_kernels as kernels

from ....nn.module import Module
from ....tensor import Tensor
from ...qparams import (choose_qparams, per_channel_symmetric, per_tensor_affine,
                                     qint8, quantize_array)

__all__ = ["Linear", "Conv2d", "DynamicLinear", "quantize_weight"]


def quantize_weight(weight):
    """``(q int8 (O, …), scale float32 (O,))``: per-output-channel symmetric qint8."""
    w = weight.detach().cpu().numpy().astype(np.float32)
    rows = w.reshape(w.shape[0], -1)
    scale, zero = choose_qparams(rows.min(axis=1), rows.max(axis=1), qint8,
                                 per_channel_symmetric)
    return quantize_array(w, scale, zero, qint8, axis=0), scale


def _host_float(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.device.type != "cpu":
        raise RuntimeError(f"{name}: int8 modules run on the CPU; got an input on {x.device}")
    return np.asarray(x.array, dtype=np.float32)


class _QuantizedWeighted(Module):
    """Buffers ``weight`` (int8), ``weight_scale`` (O,), ``weight_row_sum`` (O,) int32,
    ``bias`` (O,) float32 or None, and, for the static modules, ``scale``/``zero_point``
    of the input."""

    def _set_weight(self, float_module, static_qparams):
        q, scale = quantize_weight(float_module.weight)
        self.register_buffer("weight", Tensor._wrap(q))
        self.register_buffer("weight_scale", Tensor._wrap(scale))
        self.register_buffer("weight_row_sum", Tensor._wrap(
            q.reshape(q.shape[0], -1).astype(np.int32).sum(axis=1)))
        bias = float_module.bias
        self.register_buffer("bias", None if bias is None else
                             Tensor._wrap(bias.detach().cpu().numpy().astype(np.float32)))
        if static_qparams is not None:
            scale_x, zero_x = static_qparams
            self.register_buffer("scale", Tensor._wrap(np.asarray(scale_x, np.float32).reshape(())))
            self.register_buffer("zero_point",
                                 Tensor._wrap(np.asarray(zero_x, np.int32).reshape(())))

    def _gemm(self, rows, scale_x, zero_x):
        """Float32 ``(R, O)`` output of quantised input rows ``(R, K)``."""
        q = quantize_array(rows, scale_x, zero_x, qint8)
        acc = kernels.int8_gemm(q, self.weight.array.reshape(self.weight.shape[0], -1))
        acc -= np.int32(zero_x) * self.weight_row_sum.array
        out = acc.astype(np.float32) * (np.float32(scale_x) * self.weight_scale.array)
        if self.bias is not None:
            out += self.bias.array
        return out


class Linear(_QuantizedWeighted):
    """Static int8 Linear: ``from_float(linear, (scale, zero_point))`` of the input."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features

    @classmethod
    def from_float(cls, mod, input_qparams):
        q = cls(mod.in_features, mod.out_features)
        q._set_weight(mod, input_qparams)
        return q

    def forward(self, x):
        a = _host_float(x, "quantized Linear")
        rows = a.reshape(-1, self.in_features)
        out = self._gemm(rows, self.scale.array, self.zero_point.array)
        return Tensor._wrap(out.reshape(a.shape[:-1] + (self.out_features,)))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={float(self.scale.array):.6g}, zero_point={int(self.zero_point.array)}")


class DynamicLinear(Linear):
    """Dynamic int8 Linear: each input is quantised with the qparams of its own
    ``[min, max]`` (per tensor, affine qint8) at run time; no calibration."""

    @classmethod
    def from_float(cls, mod, input_qparams=None):
        q = cls(mod.in_features, mod.out_features)
        q._set_weight(mod, None)
        return q

    def forward(self, x):
        a = _host_float(x, "dynamic quantized Linear")
        rows = a.reshape(-1, self.in_features)
        scale, zero = choose_qparams(rows.min() if rows.size else 0.0,
                                     rows.max() if rows.size else 0.0, qint8, per_tensor_affine)
        out = self._gemm(rows, scale, zero)
        return Tensor._wrap(out.reshape(a.shape[:-1] + (self.out_features,)))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                "dtype=qint8, qscheme=per_channel_symmetric")


class Conv2d(_QuantizedWeighted):
    """Static int8 Conv2d (groups=1, zero padding): im2col of the quantised input, then
    ``int8_gemm`` with the ``(O, C·kh·kw)`` int8 weight."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = tuple(kernel_size), tuple(stride)
        self.padding, self.dilation = tuple(padding), tuple(dilation)

    @classmethod
    def from_float(cls, mod, input_qparams):
        if mod.groups != 1 or mod.padding_mode != "zeros" or isinstance(mod.padding, str):
            raise NotImplementedError("quantized Conv2d supports groups=1 and numeric zero "
                                      f"padding, got groups={mod.groups}, padding={mod.padding!r}, "
                                      f"padding_mode={mod.padding_mode!r}")
        q = cls(mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride, mod.padding,
                mod.dilation)
        q._set_weight(mod, input_qparams)
        return q

    def forward(self, x):
        a = _host_float(x, "quantized Conv2d")
        if a.ndim != 4 or a.shape[1] != self.in_channels:
            raise RuntimeError(f"quantized Conv2d: expected input (N, {self.in_channels}, H, W), "
                               f"got {tuple(a.shape)}")
        scale, zero = self.scale.array, self.zero_point.array
        q = quantize_array(a, scale, zero, qint8)
        ph, pw = self.padding
        if ph or pw:   # pad with the code of 0.0
            q = np.pad(q, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=q.dtype.type(zero))
        n, (kh, kw) = a.shape[0], self.kernel_size
        oh = (q.shape[2] - self.dilation[0] * (kh - 1) - 1) // self.stride[0] + 1
        ow = (q.shape[3] - self.dilation[1] * (kw - 1) - 1) // self.stride[1] + 1
        cols = kernels.im2col(q, self.kernel_size, self.stride, (0, 0), self.dilation)
        rows = np.ascontiguousarray(cols.transpose(0, 2, 1)).reshape(n * oh * ow, -1)
        acc = kernels.int8_gemm(rows, self.weight.array.reshape(self.out_channels, -1))
        acc -= np.int32(zero) * self.weight_row_sum.array
        out = acc.astype(np.float32) * (np.float32(scale) * self.weight_scale.array)
        if self.bias is not None:
            out += self.bias.array
        return Tensor._wrap(np.ascontiguousarray(
            out.reshape(n, oh, ow, self.out_channels).transpose(0, 3, 1, 2)))

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, "
                f"scale={float(self.scale.array):.6g}, zero_point={int(self.zero_point.array)}")
