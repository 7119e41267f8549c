"""Normalisation: ``F.batch_norm``, ``F.layer_norm``, ``F.group_norm``, ``F.instance_norm``
and ``F.local_response_norm``.

The first four standardise x over a set of axes A and then apply a per-feature affine map:

    μ = mean_A(x),   σ² = mean_A((x − μ)²)   (biased),   x̂ = (x − μ)/√(σ² + ε),
    y = γ x̂ + β.

batch_norm  A = every axis but the channel axis 1 (batch and spatial), γ, β of shape (C,);
            in training the batch statistics are used and the running statistics updated
            in place:  r_μ ← (1 − m) r_μ + m μ,  r_σ² ← (1 − m) r_σ² + m σ²·n/(n − 1)
            (the *unbiased* variance, n = |A|, as PyTorch); in evaluation x̂ uses r_μ, r_σ².
layer_norm  A = the last len(normalized_shape) axes, γ, β of that shape.
group_norm  A = each group of C/G channels together with the spatial axes.
instance_norm  A = the spatial axes of each (sample, channel); running statistics (C,)
            are updated with the batch-average of the per-instance statistics (PyTorch
            runs batch_norm on an (1, N·C, *) view and averages the N updated copies).

local_response_norm divides by a power of the local energy across channels:
    y_c = x_c / (k + α/n Σ_{c' ∈ window(c)} x_{c'}²)^β,   window = [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]
(zero-padded at the ends), an average pool of x² along the channel axis.

batch_norm and group_norm are composites of mean/var/rsqrt, so their VJP is autograd's.
layer_norm is one Function over the ``kernels.layer_norm_forward/backward`` entry points
(so a fused kernel can replace them); its VJP is
dx = rstd (dx̂ − mean_A(dx̂) − x̂ mean_A(dx̂ ⊙ x̂)) with dx̂ = dy ⊙ γ, rstd = 1/√(σ² + ε),
dγ = Σ dy ⊙ x̂, dβ = Σ dy (sums over the axes γ is broadcast along).  The running
statistics are constants to autograd (they are updated under ``no_grad``).
"""
import numbers

import numpy as np

from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...ops.normalization import LayerNorm, standardise
from ...ops.operands import check_floating, check_tensor
from ...ops.pointwise import rsqrt
from .padding import pad
from .pooling import avg_pool2d
from ...amp.autocast_mode import autocast_op

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm",
           "rms_norm"]


def _affine(x, weight, bias, shape):
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return x


def _mixed_half(input, *others):
    """PyTorch's CPU norms take a float16/bfloat16 input with float32 weights or running
    statistics (what autocast hands them) and return the input's dtype, computing in float32:
    True when that is the case here."""
    return input.dtype in dtypes.LOW_PRECISION and any(
        t is not None and t.dtype != input.dtype for t in others)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over every axis but 1, for input (N, C, *).  ``training=True``
    normalises with the batch statistics and, when running stats are given, updates them
    in place; ``training=False`` normalises with ``running_mean``/``running_var``."""
    check_tensor(input, "batch_norm")
    if _mixed_half(input, running_mean, running_var, weight, bias):
        return batch_norm(input.float(), running_mean, running_var, weight, bias, training,
                          momentum, eps).to(input.dtype)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.ndim}D input)")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training and input.numel() == 0:
        # PyTorch: an empty batch gives an empty result and leaves the running stats alone.
        return _affine(input * 1, weight, bias, shape)
    if training:
        count = input.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.size()}")
        normalised, mean, var = standardise(input, axes, eps)
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(
                        mean.detach().reshape(running_mean.shape) * momentum)
                if running_var is not None:
                    unbiased = var.detach().reshape(running_var.shape) * (count / (count - 1))
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        mean = running_mean.detach().reshape(shape)
        inv_std = rsqrt(running_var.detach().reshape(shape) + eps)
        normalised = (input - mean) * inv_std
    return _affine(normalised, weight, bias, shape)


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


@autocast_op("layer_norm")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims (which must equal
    ``normalized_shape``), then ``weight ⊙ x̂ + bias`` elementwise over those dims."""
    check_tensor(input, "layer_norm")
    if _mixed_half(input, weight, bias):
        return layer_norm(input.float(), normalized_shape, weight, bias, eps).to(input.dtype)
    check_floating(input, "LayerNormKernelImpl")
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(n) for n in shape)}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    return LayerNorm.apply(input, weight, bias, k, eps)


@autocast_op("group_norm")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of ``num_groups`` groups of channels (with all spatial positions) of an
    (N, C, *) input, then a per-channel affine map."""
    check_tensor(input, "group_norm")
    if _mixed_half(input, weight, bias):
        return group_norm(input.float(), num_groups, weight, bias, eps).to(input.dtype)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and num_groups="
                           f"{num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} and "
                               f"input of shape {list(input.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    normalised, _, _ = standardise(grouped, (2,), eps)
    shape = (1, channels) + (1,) * (input.ndim - 2)
    return _affine(normalised.reshape(input.shape), weight, bias, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial positions (input (N, C, *));
    with ``use_input_stats=False`` use ``running_mean``/``running_var`` (C,) instead."""
    check_tensor(input, "instance_norm")
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected at least 2D input (got {input.ndim}D input)")
    n, channels = input.shape[:2]
    spatial = tuple(range(2, input.ndim))
    count = 1
    for size in input.shape[2:]:
        count *= size
    shape = (1, channels) + (1,) * len(spatial)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    if use_input_stats:
        if count <= 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {input.size()}")
        normalised, mean, var = standardise(input, spatial, eps)
        with no_grad():
            if running_mean is not None:
                batch_mean = mean.detach().reshape(n, channels).mean(0)
                running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
            if running_var is not None:
                unbiased = var.detach().reshape(n, channels) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased.mean(0) * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        mean = running_mean.detach().reshape(shape)
        normalised = (input - mean) * rsqrt(running_var.detach().reshape(shape) + eps)
    return _affine(normalised, weight, bias, shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x_c / (k + α · mean of x² over ``size`` neighbouring channels)^β, input (N, C, *)."""
    check_tensor(input, "local_response_norm")
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sizes = tuple(input.shape)
    div = (input * input).reshape(sizes[0], 1, sizes[1], -1)
    div = pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(div, (size, 1), stride=1).squeeze(1).reshape(sizes)
    div = (div * alpha + k) ** beta
    return input / div


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """y = x / √(mean(x²) + ε) (· weight), the mean over the last ``len(normalized_shape)``
    dims; ε defaults to the machine epsilon of the computing type.  float16 is computed in
    float32 and cast back before the weight multiplies it, as PyTorch's composite does.
    Gradients: those of the composing ops (pow, mean, rsqrt, mul)."""
    check_tensor(input, "rms_norm")
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*{', '.join(str(n) for n in shape)}], but got input of size"
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(shape)}")
    x = input.float() if input.dtype == np.float16 else input
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    out = x * (x.pow(2).mean(dim=tuple(range(-k, 0)), keepdim=True) + eps).rsqrt()
    out = out.to(input.dtype)
    return out * weight if weight is not None else out
