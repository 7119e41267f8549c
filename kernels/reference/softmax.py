"""Reference softmax, log-softmax and log-sum-exp along an axis, max-shifted for stability.

For a row ``x`` and ``m = max(x)``:

    logsumexp(x)   = m + log Σ_i exp(x_i − m)
    softmax(x)_i   = exp(x_i − m) / Σ_j exp(x_j − m)
    log_softmax(x) = (x − m) − log Σ_j exp(x_j − m)

Subtracting ``m`` makes the largest exponent exp(0) = 1, so nothing overflows and the
sum is at least 1, so the log never sees 0 for a finite row.  The VJPs (written with
Tensor ops in minigrad) are ``dx = y ⊙ (dy − Σ dy ⊙ y)`` for softmax and
``dx = dy − softmax(x) Σ dy`` for log-softmax.

Non-finite rows follow PyTorch: ``logsumexp`` of an all −∞ row is −∞ and of a row with
+∞ is +∞ (the shift is taken as 0 when the max is infinite, so ``−∞ − (−∞)`` never
happens); softmax/log_softmax of such rows are NaN, as the value is undefined.
Attention, where a fully masked row is expected, uses its own safe variant.

Shapes: ``x (...)`` and any ``axis``; softmax/log_softmax keep the shape.
"""
from ..catalogue import CATALOGUE, get_array_module


@CATALOGUE.reference("softmax")
def softmax(x, axis):
    """``exp(x − max) / Σ exp(x − max)`` along ``axis``; same shape and dtype as ``x``."""
    xp = get_array_module(x)
    exps = xp.exp(x - x.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)


@CATALOGUE.reference("log_softmax")
def log_softmax(x, axis):
    """``(x − max) − log Σ exp(x − max)`` along ``axis``; never forms log(softmax)."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


@CATALOGUE.reference("logsumexp")
def logsumexp(x, axis, keepdims=False):
    """``m + log Σ exp(x − m)`` over ``axis`` (int, tuple or None), ``m`` the finite max or 0.

    ``x (...) -> (...)`` with ``axis`` removed, or kept as size 1 when ``keepdims``.
    """
    xp = get_array_module(x)
    shift = x.max(axis=axis, keepdims=True)
    # An infinite max would turn x − m into NaN (−∞ − −∞, ∞ − ∞); shifting by 0 instead
    # gives log(0) = −∞ for an all −∞ row and log(∞) = ∞ for a row holding +∞.
    shift = xp.where(xp.isinf(shift), xp.zeros_like(shift), shift)
    total = xp.exp(x - shift).sum(axis=axis, keepdims=True)
    # log(0) is −∞, which is the right answer; going through where() avoids the warning.
    empty = total == 0
    out = xp.where(empty, -xp.inf, xp.log(xp.where(empty, xp.ones_like(total), total)) + shift)
    if not keepdims:
        out = out.squeeze(axis=axis) if axis is not None else out.reshape(())
    return out
