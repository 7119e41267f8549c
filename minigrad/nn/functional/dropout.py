"""Inverted dropout: ``F.dropout`` and the channel-wise ``F.dropout1d/2d/3d``.

In training each element (or each whole channel) is kept with probability 1 − p and
scaled by 1/(1 − p), so the expectation is unchanged and evaluation needs no rescaling:

    y = x ⊙ m / (1 − p),   m ~ Bernoulli(1 − p) elementwise;   dx = dy ⊙ m / (1 − p).

p = 1 drops everything (y = 0, no division by zero).

Alpha dropout (for SELU networks) sets dropped units to SELU's negative saturation −α′ and
rescales so that zero mean and unit variance are kept (PyTorch's constants):

    y = a (x m + α′(m − 1) + α′ p),   α′ = 1.7580993408473766,
    a = 1/√((α′² p + 1)(1 − p));      dx = a m dy.  The mask is drawn from minigrad's
global generator (``minigrad.manual_seed`` makes runs reproducible) on the host, then moved
to the input's device, so CPU and GPU runs agree.  Outside training, or with p = 0, the
input is returned unchanged.
"""
import warnings

from ...tensor import Tensor
from ... import creation
from ...ops.operands import check_tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]


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


def _feature_dropout(input, p, training, inplace):
    """PyTorch's ``feature_dropout``: one mask entry per (dim 0, dim 1) pair, broadcast over
    the remaining dims (for a 2-D input that is plain elementwise dropout)."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _apply_mask(input, keep_mask(shape, p, input), inplace)


def _unbatched_feature_dropout(input, p, training, inplace):
    """Feature dropout of an input without the batch dim: one mask entry per dim-0 slice."""
    if input.ndim == 0:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    shape = (input.shape[0],) + (1,) * (input.ndim - 1)
    return _apply_mask(input, keep_mask(shape, p, input), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, L) or (C, L) input."""
    _check(input, p, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 2:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, H, W) input.  As in PyTorch, other ranks only warn: a 3-D
    input is read as (N, C, L) (not as unbatched (C, H, W)), and any other input of at least
    2 dims drops entries of its first two dims (for 2-D input, plain dropout)."""
    _check(input, p, "dropout2d")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead. Note "
                      f"that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) input; other ranks warn and are
    treated as unbatched (one mask entry per dim-0 slice), as PyTorch does."""
    _check(input, p, "dropout3d")
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead. Note "
                      f"that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if input.ndim != 5:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


#: SELU's negative saturation value −α·scale, as ATen spells it.
ALPHA_DROPOUT_ALPHA = 1.7580993408473766


def _alpha_dropout(input, p, training, inplace, feature, op):
    _check(input, p, op)
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    if feature:
        if input.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    else:
        shape = tuple(input.shape)
    uniform = creation.rand(shape, dtype=input.dtype, device=input.device)
    keep = (uniform.array >= p).astype(input.dtype)
    a = 1.0 / ((ALPHA_DROPOUT_ALPHA ** 2 * p + 1) * (1 - p)) ** 0.5
    shift = Tensor._wrap((keep - 1) * (ALPHA_DROPOUT_ALPHA * a) + ALPHA_DROPOUT_ALPHA * a * p)
    scale = Tensor._wrap(keep * a)
    if inplace:
        return input.mul_(scale).add_(shift)
    return input * scale + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalisation (dropped units go to −α′; see the
    module docstring).  Note PyTorch's default ``training=False``."""
    return _alpha_dropout(input, p, training, inplace, False, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (one draw per (N, C))."""
    return _alpha_dropout(input, p, training, inplace, True, "feature_alpha_dropout")
