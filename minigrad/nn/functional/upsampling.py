"""Resampling: ``F.interpolate`` (modes nearest, nearest-exact, linear, bilinear,
trilinear, bicubic, area), ``F.upsample*`` and ``F.pixel_shuffle``/``pixel_unshuffle``.

Every interpolation mode here is separable: the output along one spatial dim of size
``out`` reads the input dim of size ``in`` at source positions computed per output index
``j`` exactly as ATen computes them (the float type matters for bit-equality: nearest uses a
float32 scale for every dtype; linear modes use the input's float type):

    scale      align_corners: (in − 1)/(out − 1)  (0 when out = 1);
               otherwise 1/scale_factor when a scale_factor was given, else in/out
    nearest         src = min(⌊j · scale⌋, in − 1)   (4-D input: j when out = in)
    nearest-exact   src = min(⌊(j + ½) · scale⌋, in − 1)
    linear          s = j·scale (align_corners) or max(scale(j + ½) − ½, 0);
                    i₀ = ⌊s⌋, i₁ = min(i₀ + 1, in − 1), λ = s − i₀;
                    y = (1 − λ) x[i₀] + λ x[i₁]      (a dim with out = in is copied)
    bicubic         s = j·scale (align_corners) or scale(j + ½) − ½ (not clamped);
                    i = ⌊s⌋, t = s − i; y = Σ_{k<4} c_k(t) x[clamp(i − 1 + k, 0, in − 1)]
                    with Keys' cubic (A = −0.75): c₀ = K₂(t + 1), c₁ = K₁(t), c₂ = K₁(1 − t),
                    c₃ = K₂(2 − t), K₁(x) = ((A + 2)x − (A + 3))x² + 1,
                    K₂(x) = ((Ax − 5A)x + 8A)x − 4A   (every dim, even when out = in)

so each dim is one gather (``Index``) and, for linear, one blend; the gradient is the
gathers' scatter-add (PyTorch's upsample backward), exact and differentiable again.
'area' is adaptive average pooling.  Sizes: out = size, or ⌊in · scale_factor⌋.

antialias=True (bilinear, bicubic; float): each kept-size dim is copied, each other one is
multiplied by a dense (out, in) matrix whose row j holds ATen's antialiasing filter around
c = scale·(j + ½) with support r = (1 for bilinear, 2 for bicubic)·max(scale, 1), taps
i ∈ [max(⌊c − r + ½⌋, 0), min(⌊c + r + ½⌋, in)), weights f((i − c + ½)/max(scale, 1))
normalised to sum 1 (f: the triangle, or Keys' cubic with A = −0.5 as in Pillow); the
gradient is the transposed matrix.

bilinear on uint8 (forward only) is ATen's fixed-point resampler (Pillow's): per dim, the
output j reads the inputs i ∈ [xmin, xmin + 2) of the triangle filter around the center
c = scale·(j + ½ − δ) (δ = ½ with align_corners, else 0), xmin = max(⌊c − ½ + δ⌋, 0),
weights w_i = max(1 − |i − c + ½ − δ|, 0) / Σ w, rounded to int16 at the precision P
(the largest P ≤ 22 with 0.5 + max(w)·2^P < 2^15), and
y = clamp((Σ w_i x_i + 2^(P−1)) >> P, 0, 255): width first, then height, the intermediate
image rounded to uint8 (so values can differ by one from rounding the float result).

``pixel_shuffle(x, r)``: (*, C·r², H, W) → (*, C, H·r, W·r), a reshape and a permute;
``channel_shuffle(x, g)``: channel c·(C/g) + j moves to j·g + c (ShuffleNet), likewise.
"""
import math
import numbers
import warnings

import numpy as np

from ...ops.indexing import Index, IndexKey
from ...ops.operands import check_tensor
from ...tensor import Tensor
from .pooling import adaptive_avg_pool2d
from ...amp.autocast_mode import autocast_op

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area", "bicubic")


def _take(x, dim, index):
    """x[..., index, ...] along ``dim`` for a host integer array (differentiable gather)."""
    return Index.apply(x, IndexKey((), (slice(None),) * dim + (x.xp.asarray(index),)))


def _nearest_index(in_size, out_size, scale, exact, shortcuts):
    """ATen's nearest_idx / nearest_neighbor_exact_compute_source_index (float32 scale).
    ``shortcuts``: nearest_idx's out = in (copy) and out = 2·in (j >> 1) cases, which
    PyTorch's CPU kernels take for 4-D input only: a 3-D or 5-D input resized by a
    scale_factor that keeps a size (⌊3 · 1.3⌋ = 3) reads ⌊j/1.3⌋ there, not j."""
    j = np.arange(out_size, dtype=np.int64)
    if shortcuts and out_size == in_size:
        return j
    if shortcuts and out_size == 2 * in_size:
        return j >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 \
        else np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5) if exact else np.float32(0.0)
    src = np.floor((j.astype(np.float32) + offset) * s).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _linear_weights(in_size, out_size, scale, align_corners, dtype):
    """(i₀, i₁, λ) of ATen's linear upsampling along one dim, in ``dtype`` arithmetic."""
    real = np.dtype(dtype).type
    if align_corners:
        s = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
    elif scale is not None and scale > 0:
        s = real(1.0 / scale)
    else:
        s = real(in_size) / real(out_size)
    j = np.arange(out_size).astype(dtype)
    if align_corners:
        src = s * j
    else:
        src = np.maximum(s * (j + real(0.5)) - real(0.5), real(0))
    i0 = src.astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam = (src - i0.astype(dtype)).astype(dtype)
    return i0, i1, lam


def _sizes_and_scales(input, size, scale_factor, recompute_scale_factor, mode):
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and output size of {size}. Please "
                                 f"provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(v, numbers.Integral) for v in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                f"or Tuple[int, int, int], but got size with types "
                                f"{[type(v) for v in size]}")
            output_size = [int(v) for v in size]
        else:
            output_size = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, "
                                 f"...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        output_size = [int(math.floor(float(input.shape[i + 2]) * scales[i]))
                       for i in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = [None] * dim
    if min(output_size, default=1) <= 0 or min(input.shape[2:], default=1) <= 0:
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"{tuple(input.shape[2:])} and output {tuple(output_size)}")
    return output_size, scales


@autocast_op("interpolate")
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims (all dims after the first two) to ``size`` or by
    ``scale_factor`` with ``mode`` nearest | nearest-exact | linear (3-D) | bilinear (4-D) |
    trilinear (5-D) | area; see the module docstring for the exact source positions."""
    check_tensor(input, "interpolate")
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode == "bicubic" and input.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got bicubic)")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        wanted = _LINEAR[mode]
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {wanted}D "
                                  f"input")
    output_size, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor,
                                            mode)
    if antialias and input.dtype.kind in "fV":
        return _antialiased(input, output_size, scales, align_corners, mode)
    if antialias:
        raise NotImplementedError(f"interpolate: antialias=True is not implemented for dtype "
                                  f"{input.dtype} in minigrad")
    if input.dtype == np.uint8 and mode == "bilinear":
        return _bilinear_uint8(input, output_size, scales, align_corners)
    if input.dtype.kind not in "fV" and mode != "nearest" and mode != "nearest-exact":
        raise NotImplementedError(f"interpolate: mode '{mode}' is not implemented for dtype "
                                  f"{input.dtype}")
    if mode == "area":
        return _area(input, output_size)
    out = input
    for d, (out_size, scale) in enumerate(zip(output_size, scales)):
        axis, in_size = d + 2, input.shape[d + 2]
        if mode in ("nearest", "nearest-exact"):
            shortcuts = mode == "nearest" and input.ndim == 4
            out = _take(out, axis, _nearest_index(in_size, out_size, scale,
                                                  mode == "nearest-exact", shortcuts))
            continue
        if mode == "bicubic":
            taps, coefficients = _cubic_weights(in_size, out_size, scale, align_corners,
                                                input.dtype)
            shape = [1] * input.ndim
            shape[axis] = out_size
            terms = [_take(out, axis, index) * Tensor._wrap(out.xp.asarray(c.reshape(shape)))
                     for index, c in zip(taps, coefficients)]
            out = terms[0] + terms[1] + terms[2] + terms[3]
            continue
        if in_size == out_size:     # PyTorch copies a dim whose size is kept, whatever the scale
            continue
        i0, i1, lam = _linear_weights(in_size, out_size, scale, align_corners, input.dtype)
        shape = [1] * input.ndim
        shape[axis] = out_size
        weight = Tensor._wrap(out.xp.asarray(lam.reshape(shape)))
        low, high = _take(out, axis, i0), _take(out, axis, i1)
        out = low * (1 - weight) + high * weight
    return out


def _cubic_weights(in_size, out_size, scale, align_corners, dtype):
    """ATen's bicubic taps along one dim: 4 clamped source indices and their Keys
    coefficients (A = −0.75), each (out,), in ``dtype`` arithmetic."""
    real = np.dtype(dtype).type
    if align_corners:
        s = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
    elif scale is not None and scale > 0:
        s = real(1.0 / scale)
    else:
        s = real(in_size) / real(out_size)
    j = np.arange(out_size).astype(dtype)
    src = s * j if align_corners else s * (j + real(0.5)) - real(0.5)
    base = np.floor(src)
    t = (src - base).astype(dtype)
    a = real(-0.75)
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1                    # noqa: E731
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a               # noqa: E731
    coefficients = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    taps = [np.clip(base.astype(np.int64) - 1 + k, 0, in_size - 1) for k in range(4)]
    return taps, [c.astype(dtype) for c in coefficients]


def _aa_filter(mode, x):
    """ATen's antialiasing filters: the triangle (bilinear) or Keys' cubic, A = −0.5."""
    x = abs(x)
    if mode == "bilinear":
        return max(0.0, 1.0 - x)
    a = -0.5
    if x < 1.0:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a if x < 2.0 else 0.0


def _aa_matrix(in_size, out_size, scale, align_corners, mode):
    """(out, in) antialiased resampling matrix of one dim (module docstring)."""
    if align_corners:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
    half = 1.0 if mode == "bilinear" else 2.0
    support = half * s if s >= 1.0 else half
    widest = int(math.ceil(support)) * 2 + 1
    invscale = 1.0 / s if s >= 1.0 else 1.0
    matrix = np.zeros((out_size, in_size))
    for j in range(out_size):
        center = s * (j + 0.5)
        lo = max(int(center - support + 0.5), 0)
        size = min(max(min(int(center + support + 0.5), in_size) - lo, 0), widest)
        w = np.array([_aa_filter(mode, (i + lo - center + 0.5) * invscale) for i in range(size)])
        if size and w.sum() != 0.0:
            matrix[j, lo:lo + size] = w / w.sum()
    return matrix


def _antialiased(input, output_size, scales, align_corners, mode):
    """antialias=True resize of (N, C, H, W): one matrix product per resized dim."""
    out = input
    for d, (out_size, scale) in enumerate(zip(output_size, scales)):
        axis = d + 2
        if input.shape[axis] == out_size:
            continue
        matrix = _aa_matrix(input.shape[axis], out_size, scale, align_corners, mode)
        weights = Tensor._wrap(out.xp.asarray(matrix.T, dtype=out.dtype))
        out = (out.transpose(axis, -1) @ weights).transpose(axis, -1)
    return out


def _int16_weights(in_size, out_size, scale, align_corners):
    """ATen's compute_index_ranges_int16_weights for the triangle filter (no antialias):
    first input index, int16 weights (out, 2) and their precision P (bits)."""
    if align_corners:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
    delta = 0.5 if align_corners else 0.0
    xmin = np.zeros(out_size, dtype=np.int64)
    weights = np.zeros((out_size, 2))
    for j in range(out_size):
        center = s * (j + 0.5 - delta)
        xmin[j] = max(int(center - 1.0 + 0.5 + delta), 0)    # int(): C++'s truncation
        size = min(max(min(int(center + 1.0 + 0.5 + delta), in_size) - xmin[j], 0), 2)
        w = [max(0.0, 1.0 - abs(i + xmin[j] - center + 0.5 - delta)) for i in range(size)]
        if sum(w) != 0.0:
            weights[j, :size] = np.array(w) / sum(w)
    wt_max = weights.max()
    precision = 0
    while precision < 22 and int(0.5 + wt_max * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = weights * (1 << precision)
    rounded = np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5))
    return np.minimum(xmin, in_size - 1), rounded.astype(np.int64), precision


def _bilinear_uint8(input, output_size, scales, align_corners):
    """uint8 bilinear resize of (N, C, H, W), width pass then height pass (module docstring)."""
    xp = input.xp
    out = input.array.astype(xp.int64)
    for axis, out_size, scale in ((3, output_size[1], scales[1]), (2, output_size[0], scales[0])):
        in_size = out.shape[axis]
        if in_size == out_size:
            continue
        xmin, weights, precision = _int16_weights(in_size, out_size, scale, align_corners)
        shape = [1] * 4
        shape[axis] = out_size
        acc = xp.full(out.shape[:axis] + (out_size,) + out.shape[axis + 1:], 1 << (precision - 1),
                      dtype=xp.int64)
        for i in range(2):
            index = xp.asarray(np.minimum(xmin + i, in_size - 1))
            acc += xp.take(out, index, axis=axis) * xp.asarray(weights[:, i].reshape(shape))
        out = xp.clip(acc >> precision, 0, 255)
    return Tensor._wrap(out.astype(xp.uint8))


def _area(input, output_size):
    """'area' = adaptive average pooling to output_size (3-D input as height 1)."""
    if input.ndim == 3:
        return adaptive_avg_pool2d(input.unsqueeze(2), (1, output_size[0])).squeeze(2)
    if input.ndim == 4:
        return adaptive_avg_pool2d(input, tuple(output_size))
    raise NotImplementedError("interpolate: mode='area' on 5-D input is not supported by "
                              "minigrad")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (PyTorch warns)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) → (*, C, H·r, W·r): out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]."""
    check_tensor(input, "pixel_shuffle")
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(input.shape[:-3])
    n = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of pixel_shuffle."""
    check_tensor(input, "pixel_unshuffle")
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    lead = tuple(input.shape[:-3])
    n = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """(N, C, *) with the channels regrouped: view C as (g, C/g), transpose, flatten."""
    check_tensor(input, "channel_shuffle")
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    c = input.shape[1]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    return input.reshape((n, g, c // g) + rest).transpose(1, 2).reshape((n, c) + rest)


native_channel_shuffle = channel_shuffle
