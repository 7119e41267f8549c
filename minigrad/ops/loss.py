"""Loss Functions with their own VJPs; ``nn.functional.loss`` checks arguments, reduces and
composes the other losses (cross-entropy from ``log_softmax`` and ``gather``, MSE, L1,
BCE with logits) from ops.

BinaryCrossEntropy   ℓ = −(y log x + (1 − y) log(1 − x)), elementwise for x ∈ [0, 1], with
                     both logs clamped at −100 (so x = 0 or 1 gives a finite loss), and
                     PyTorch's gradient, whose denominator x(1 − x) is kept ≥ 1e-12.
"""
from ..autograd.function import Function
from ..device import quiet_floating_point
from . import pointwise

# The public form is ``nn.functional.binary_cross_entropy``; PyTorch has no
# ``torch.binary_cross_entropy``, so nothing here joins the ``minigrad.*`` namespace.
__all__ = []

# PyTorch's EPSILON for the BCE gradient is the float32 value of 1e-12.
_BCE_EPSILON = 9.999999960041972e-13


class BinaryCrossEntropy(Function):
    """ℓ = (y − 1)·max(log(1 − x), −100) − y·max(log x, −100)   (elementwise, x ∈ [0, 1]).
    VJP (PyTorch's): dx = dℓ (x − y) / max(x(1 − x), 1e-12),
                     dy = dℓ (max(log(1 − x), −100) − max(log x, −100))."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        xp = x.xp
        with quiet_floating_point(xp, divide="ignore"):  # log 0 = −∞, clamped below
            log_x = xp.maximum(xp.log(x.data), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x.data), -100.0)
        return ((y.data - 1) * log_1mx - y.data * log_x).astype(x.dtype, copy=False)

    def backward(self, dl):
        x, y = self.saved_tensors
        dx = dy = None
        if self.needs_input_grad[0]:
            dx = dl * (x - y) / pointwise.clamp(x * (1.0 - x), min=_BCE_EPSILON)
        if self.needs_input_grad[1]:
            log_x = pointwise.clamp(pointwise.log(x), min=-100.0)
            log_1mx = pointwise.clamp(pointwise.log1p(-x), min=-100.0)
            dy = dl * (log_1mx - log_x)
        return dx, dy
