"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (PyTorch's semantics).

Clipping by norm treats all gradients as one long vector g = (g₁, …, gₙ):

    ‖g‖_p = ( Σ_i ‖g_i‖_p^p )^{1/p} = ‖ (‖g₁‖_p, …, ‖gₙ‖_p) ‖_p        (p = ∞: max_i ‖g_i‖_∞)

so the total is the p-norm of the per-tensor p-norms, computed without concatenating
anything. If it exceeds ``max_norm`` every gradient is scaled by the same factor

    c = min(1, max_norm / (‖g‖_p + 10⁻⁶)),

which keeps the update's direction and caps its length (the 10⁻⁶ keeps c finite for a zero
gradient). Like PyTorch, the scaling is applied even when c = 1, and the *unclipped* total
norm is returned as a 0-d tensor (useful to log).

The new gradient replaces each ``.grad``'s array (the Tensor object stays the same, so
references to ``p.grad`` see the result) instead of writing into the old array: the engine
may give several leaves one gradient array, or a read-only broadcast view.
"""
import math

import numpy as np

from ... import dtypes
from ...tensor import Tensor
from ...device import move_array, quiet_floating_point


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(xp, array, p):
    """‖array‖_p over all elements, as a 0-d array of array's dtype."""
    dtype = array.dtype
    # Half precision accumulates in float32 (as PyTorch does), then rounds once.
    work = xp.abs(array.astype(np.float32) if dtype == np.float16 else array)
    if work.size == 0:
        result = xp.zeros((), dtype=work.dtype)
    elif p == math.inf:
        result = work.max()
    elif p == -math.inf:
        result = work.min()
    elif p == 0:
        result = (work != 0).sum()
    elif p == 1:
        result = work.sum()
    elif p == 2:
        result = xp.sqrt((work * work).sum())
    else:
        result = (work ** p).sum() ** (1.0 / p)
    return xp.asarray(result, dtype=dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of all ``tensors`` seen as one vector, as a 0-d tensor (0. for none)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.asarray(0.0, dtype=dtypes.get_default_dtype()))
    device = tensors[0].device
    xp = device.xp
    norms = [_vector_norm(xp, t.to(device).array, norm_type) for t in tensors]
    dtype = norms[0].dtype
    for n in norms[1:]:
        dtype = dtypes.promote_types(dtype, n.dtype)
    total = _vector_norm(xp, xp.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = _grads(parameters)
    if not grads:
        return
    if not isinstance(total_norm, Tensor):
        total_norm = Tensor._wrap(np.asarray(total_norm, dtype=dtypes.get_default_dtype()))
    xp, total = total_norm.xp, total_norm.array
    one = xp.asarray(1.0, dtype=total.dtype)
    # Computed in the norm's dtype, as PyTorch does: max_norm / (total + 1e-6), capped at 1.
    coef = xp.minimum(xp.asarray(max_norm, dtype=total.dtype)
                      / (total + xp.asarray(1e-6, dtype=total.dtype)), one)
    for g in grads:
        scale = g.xp.asarray(move_array(xp.asarray(coef), g.device), dtype=g.dtype)
        # A non-finite norm makes inf · 0 = nan, as in PyTorch; numpy need not warn.
        with quiet_floating_point(g.xp, invalid="ignore"):
            g.array = g.array * scale


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients of ``parameters`` (an iterable of tensors, or one tensor) so
    their combined ``norm_type``-norm is at most ``max_norm``; return the total norm before
    clipping as a 0-d tensor. ``norm_type`` may be ``inf``. ``foreach`` is accepted for
    PyTorch compatibility and changes nothing."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.array = g.xp.clip(g.array, -clip_value, clip_value).astype(g.dtype, copy=False)
