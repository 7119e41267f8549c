"""Loss Functions with their own VJPs; ``nn.functional.loss`` checks arguments, reduces and
composes the other losses (cross-entropy from ``log_softmax`` and ``gather``, MSE, L1,
BCE with logits) from ops.

BinaryCrossEntropy   ℓ = −(y log x + (1 − y) log(1 − x)), elementwise for x ∈ [0, 1], with
                     both logs clamped at −100 (so x = 0 or 1 gives a finite loss), and
                     PyTorch's gradient, whose denominator x(1 − x) is kept ≥ 1e-12.
CrossEntropy         ℓ = −w_t log_softmax(x)_t with class-index targets (ignore_index,
                     class weights, label smoothing), one Function over the
                     ``kernels.cross_entropy_forward/backward`` entry points, or, where an
                     optimised fused kernel takes the call (the GPU),
                     ``kernels.cross_entropy_forward_backward``: the forward then writes
                     the gradient for dℓ = 1 too, and the backward only scales it.
"""
import minigrad_kernels as kernels
from minigrad_kernels.catalogue import CATALOGUE
from minigrad_kernels.reference.loss import (cross_entropy_coefficients,
                                             cross_entropy_gradient_scale)

from ..tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..device import quiet_floating_point
from . import pointwise
from .softmax import softmax

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
            log_x = xp.maximum(xp.log(x.array), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x.array), -100.0)
        return ((y.array - 1) * log_1mx - y.array * log_x).astype(x.dtype, copy=False)

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


class CrossEntropy(Function):
    """ℓ_i = (1 − ε)(−w_i z_{i,t_i}) + (ε/C)(−Σ_c w_c z_{i,c}),  z = log_softmax(x) over the
    class dim, w_i = w[t_i] (0 where t_i = ignore_index), reduced ('mean': Σ ℓ_i / Σ w_i);
    dx = g ⊙ (A softmax(x) − a),  a_{i,c} = (1 − ε) w_i [c = t_i] + (ε/C) w_c [t_i kept],
    A_i = Σ_c a_{i,c},  g = dℓ (÷ Σ w_i for 'mean').  x (N, C, d…) or (C,), t (N, d…) or ()
    → ℓ (N, d…) for 'none', () otherwise.  Targets and class weights get no gradient."""

    def forward(self, x, ids, weight, ignore_index, label_smoothing, reduction):
        self.save_for_backward(x)
        self.arguments = (ids, weight, ignore_index, label_smoothing, reduction)
        self.unit_grad = None
        if self.needs_input_grad[0] and CATALOGUE.select(
                "cross_entropy_forward_backward", x.array, *self.arguments)[0] != "reference":
            # A fused kernel: the logits are read once for the loss and dx₁ (dℓ = 1).
            loss, self.unit_grad = kernels.cross_entropy_forward_backward(x.array,
                                                                          *self.arguments)
            return loss
        return kernels.cross_entropy_forward(x.array, *self.arguments)

    def backward(self, dl):
        (x,) = self.saved_tensors
        ids, weight, ignore_index, label_smoothing, reduction = self.arguments
        if not is_grad_enabled():
            if self.unit_grad is not None:    # dx is linear in dℓ: dℓ · dx₁
                class_dim = 0 if x.ndim == 1 else 1
                scale = dl.array if reduction != "none" else x.xp.expand_dims(dl.array, class_dim)
                return Tensor._wrap((self.unit_grad * scale).astype(x.dtype, copy=False))
            return Tensor._wrap(kernels.cross_entropy_backward(
                x.array, ids, dl.array, weight, ignore_index, label_smoothing, reduction))
        # create_graph: the same VJP in Tensor ops (softmax and dℓ carry the graph; a and A
        # are constants of the targets), so it can be differentiated again.
        class_dim = 0 if x.ndim == 1 else 1
        a, total, w = cross_entropy_coefficients(x.array, ids, weight, ignore_index,
                                                 label_smoothing)
        g = dl * Tensor._wrap(cross_entropy_gradient_scale(w, reduction).astype(x.dtype))
        g = (g * Tensor._wrap(x.xp.ones_like(w))).unsqueeze(class_dim)
        probabilities = softmax(x, class_dim)
        return g * (probabilities * Tensor._wrap(x.xp.expand_dims(total, class_dim))
                    - Tensor._wrap(a))
