"""2-D convolution as three Functions that are each other's derivatives.

Convolution versus cross-correlation
------------------------------------
Mathematics' convolution flips the kernel:

    (f ∗ g)(x) = ∫ f(y) g(x − y) dy          discrete: (x ∗ k)[i] = Σ_u x[u] k[i − u].

What deep learning calls "convolution" (PyTorch's ``conv2d``, minigrad's ``Conv2d``) does
not flip it; it is the cross-correlation

    y[n, o, a, b] = Σ_{c ∈ group(o), i, j} w[o, c, i, j] · xpad[n, c, a·s + i·d, b·s + j·d],

i.e. ``x ⋆ w`` slides w over x as it is.  The two differ only by a 180° rotation of the
kernel, ``x ⋆ w = x ∗ rot180(w)``, so a learned kernel is simply learned flipped.

The backward pass is where the distinction matters.  For δ = ∂J/∂y:

    ∂J/∂x  = full *convolution* of δ with the (unflipped) w = full cross-correlation of δ with
             rot180(w), with the stride dilating δ and the padding cropped back off;
    ∂J/∂w  = cross-correlation of the layer input x with δ, summed over the batch:
             ∂J/∂w[o, c, i, j] = Σ_{n, a, b} δ[n, o, a, b] · xpad[n, c, a·s + i·d, b·s + j·d].

The printed form ``∂J/∂W_f = A0 δ1`` (docs/seeds.md#errata-001) multiplies input and δ.
That is the dense-layer rule; for a convolution each kernel tap sees a *different* shifted
window of A0, so the weight gradient is the cross-correlation above (a product only after
im2col: ``dW = δ · im2col(A0)ᵀ``), and it must be summed over the batch.
``tests/ops/test_convolution.py`` checks both formulas, written out with numpy loops,
against what autograd computes.

Higher-order gradients
----------------------
All three maps come from one trilinear form T(x, w, δ) = ⟨δ, x ⋆ w⟩:

    Conv2d(x, w)             = ∂T/∂δ      (the forward pass)
    Conv2dInputGrad(δ, w)    = ∂T/∂x      (kernels.conv2d_backward_input)
    Conv2dWeightGrad(x, δ)   = ∂T/∂w      (kernels.conv2d_backward_weight)

Each is bilinear, so the VJP of each with respect to either argument is again one of the
three, applied to the incoming gradient g:

    Conv2d:            dx = InputGrad(g, w),    dw = WeightGrad(x, g)
    Conv2dInputGrad:   dδ = Conv2d(g, w),       dw = WeightGrad(g, δ)
    Conv2dWeightGrad:  dx = InputGrad(δ, g),    dδ = Conv2d(x, g)

The family is closed under differentiation, so gradients of any order (``gradgradcheck``,
double backward through a conv net) need nothing more.  Shapes: x (N, C, H, W),
w (O, C/groups, kh, kw), y and δ (N, O, OH, OW).  Argument checking (PyTorch's messages)
lives in ``minigrad.nn.functional.conv2d``; these Functions assume valid geometry.
"""
from collections import namedtuple

import minigrad_kernels as kernels

from ..autograd.function import Function

# The public form is ``nn.functional.conv2d`` (PyTorch's checks and messages, 'same'
# padding, bias); nothing here joins the ``minigrad.*`` namespace.
__all__ = []

#: stride, padding, dilation: pairs of ints (padding symmetric, zeros); groups: int.
ConvGeometry = namedtuple("ConvGeometry", ["stride", "padding", "dilation", "groups"])


class Conv2d(Function):
    """y = x ⋆ w (cross-correlation, no bias).   (N, C, H, W), (O, C/g, kh, kw) → (N, O, OH, OW)
    OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1.
    VJP: dx = Conv2dInputGrad(dy, w)  (full convolution of dy with w),
         dw = Conv2dWeightGrad(x, dy) (cross-correlation of x with dy, summed over N)."""

    def forward(self, x, w, geometry):
        self.geometry, self.x_shape, self.w_shape = geometry, x.shape, w.shape
        need_x, need_w = self.needs_input_grad
        self.save_for_backward(x if need_w else None, w if need_x else None)
        return kernels.conv2d_forward(x.array, w.array, *geometry)

    def backward(self, dy):
        x, w = self.saved_tensors
        dx = Conv2dInputGrad.apply(dy, w, self.x_shape, self.geometry) \
            if self.needs_input_grad[0] else None
        dw = Conv2dWeightGrad.apply(x, dy, self.w_shape, self.geometry) \
            if self.needs_input_grad[1] else None
        return dx, dw


class Conv2dInputGrad(Function):
    """dx = ∂⟨dy, x ⋆ w⟩/∂x: the transposed convolution of dy by w, cropped to x_shape.
    (N, O, OH, OW), (O, C/g, kh, kw) → (N, C, H, W).  Linear in dy and in w:
    VJP for g (N, C, H, W): d(dy) = Conv2d(g, w),  dw = Conv2dWeightGrad(g, dy)."""

    def forward(self, dy, w, x_shape, geometry):
        self.geometry, self.w_shape = geometry, w.shape
        need_dy, need_w = self.needs_input_grad
        self.save_for_backward(dy if need_w else None, w if need_dy else None)
        if dy.shape[0] == 0:  # the kernel cannot reshape an empty batch
            return dy.xp.zeros(tuple(x_shape), dtype=dy.dtype)
        return kernels.conv2d_backward_input(dy.array, w.array, tuple(x_shape), *geometry)

    def backward(self, g):
        dy, w = self.saved_tensors
        d_dy = Conv2d.apply(g, w, self.geometry) if self.needs_input_grad[0] else None
        d_w = Conv2dWeightGrad.apply(g, dy, self.w_shape, self.geometry) \
            if self.needs_input_grad[1] else None
        return d_dy, d_w


class Conv2dWeightGrad(Function):
    """dw = ∂⟨dy, x ⋆ w⟩/∂w = Σ_n x ⋆ dy (each tap's shifted window of x against dy).
    (N, C, H, W), (N, O, OH, OW) → (O, C/g, kh, kw).  Linear in x and in dy:
    VJP for g (O, C/g, kh, kw): dx = Conv2dInputGrad(dy, g),  d(dy) = Conv2d(x, g)."""

    def forward(self, x, dy, w_shape, geometry):
        self.geometry, self.x_shape = geometry, x.shape
        need_x, need_dy = self.needs_input_grad
        self.save_for_backward(x if need_dy else None, dy if need_x else None)
        return kernels.conv2d_backward_weight(dy.array, x.array, tuple(w_shape), *geometry)

    def backward(self, g):
        x, dy = self.saved_tensors
        d_x = Conv2dInputGrad.apply(dy, g, self.x_shape, self.geometry) \
            if self.needs_input_grad[0] else None
        d_dy = Conv2d.apply(x, g, self.geometry) if self.needs_input_grad[1] else None
        return d_x, d_dy
