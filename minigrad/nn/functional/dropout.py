"""Inverted dropout: ``F.dropout`` and the channel-wise ``F.dropout1d/2d``.

In training each element (or each whole channel) is kept with probability 1 − p and
scaled by 1/(1 − p), so the expectation is unchanged and evaluation needs no rescaling:

    y = x ⊙ m / (1 − p),   m ~ Bernoulli(1 − p) elementwise;   dx = dy ⊙ m / (1 − p).

p = 1 drops everything (y = 0, no division by zero).  The mask is drawn from minigrad's
global generator (``minigrad.manual_seed`` makes runs reproducible) on the host, then moved
to the input's device, so CPU and GPU runs agree.  Outside training, or with p = 0, the
input is returned unchanged.
"""
from ...tensor import Tensor
from ... import creation
from ...ops.operands import check_tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


def _check(input, p, op):
    check_tensor(input, op)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def keep_mask(shape, p, like):
    """A constant tensor m / (1 − p) of ``like``'s dtype and device, m ~ Bernoulli(1 − p)
    (all zeros when p = 1)."""
    if p == 1.0:
        return Tensor._wrap(like.xp.zeros(tuple(shape), dtype=like.dtype))
    uniform = creation.rand(shape, dtype=like.dtype, device=like.device)
    scale = like.xp.asarray(1.0 / (1.0 - p), dtype=like.dtype)
    return Tensor._wrap((uniform.array >= p).astype(like.dtype) * scale)


def _apply_mask(input, mask, inplace):
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p)
    (training only)."""
    _check(input, p, "dropout")
    if not training or p == 0.0:
        return input
    return _apply_mask(input, keep_mask(input.shape, p, input), inplace)


def _feature_dropout(input, p, training, inplace, op, spatial_dims):
    """Drop whole channels: one mask entry per (N, C) broadcast over the spatial dims."""
    _check(input, p, op)
    if input.ndim not in (spatial_dims + 1, spatial_dims + 2):
        raise RuntimeError(f"{op}: Expected {spatial_dims + 1}D or {spatial_dims + 2}D input, "
                           f"but received a {input.ndim}D input of size {list(input.shape)}")
    if not training or p == 0.0:
        return input
    lead = input.ndim - spatial_dims
    shape = tuple(input.shape[:lead]) + (1,) * spatial_dims
    return _apply_mask(input, keep_mask(shape, p, input), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, L) or (C, L) input."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, "dropout2d", 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) input."""
    return _feature_dropout(input, p, training, inplace, "dropout3d", 3)
