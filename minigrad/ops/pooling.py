"""2-D max and average pooling as Functions whose backward passes are Functions too.

A printed ``p(x) = (1/n) Σ max(x_i)`` (docs/seeds.md#errata-001) mixes the two kinds.  They are

    max pooling      y[n, c, a, b] = max_{i, j} x[n, c, a·s + i·d − p, b·s + j·d − p]
    average pooling  y[n, c, a, b] = (1/D[a, b]) Σ_{i, j} xpad[n, c, a·s + i, b·s + j]

(padding is −∞ for max, 0 for average; D is the window size under PyTorch's
``count_include_pad`` / ``divisor_override`` rules, see ``kernels/reference/pooling.py``).

Max pooling's VJP routes each output gradient to the arg-max pixel of its window.  With
``indices`` the flat (H·W) position of each arg-max inside its own plane, that is a
scatter-add (overlapping windows may pick the same pixel), and the VJP of a scatter-add at
fixed indices is the gather at the same indices:

    PlaneScatter(dy, idx):  dx[n, c, p] = Σ_{k: idx[n, c, k] = p} dy[n, c, k]
    PlaneGather(g, idx):    d(dy)[n, c, k] = g[n, c, idx[n, c, k]]

so MaxPool2d → PlaneScatter → PlaneGather → PlaneScatter … is closed under
differentiation (the indices are constants: max pooling is piecewise linear).  Max
unpooling writes values at such indices (``MaxUnpool2d``) and reads its gradient back with
PlaneGather.

Average pooling is linear, y = A x, with backward Aᵀ dy (``AvgPool2dBackward``) whose own
VJP is A again.  Adaptive average pooling is separable: output cell (a, b) averages rows
[⌊aH/OH⌋, ⌈(a+1)H/OH⌉) × columns [⌊bW/OW⌋, ⌈(b+1)W/OW⌉), so y = R x Cᵀ with averaging
matrices R (OH, H) and C (OW, W), two matmuls whose gradients come for free.
Argument checking (PyTorch's messages) lives in ``minigrad.nn.functional.pooling``.
"""
from collections import namedtuple

import minigrad_kernels as kernels

from ..tensor import Tensor
from ..autograd.function import Function
from .linalg import matmul

# The public forms are ``nn.functional.max_pool2d / avg_pool2d / adaptive_avg_pool2d``
# (which check arguments the way PyTorch does); nothing here joins the ``minigrad.*``
# namespace, so no second spelling of a PyTorch name appears there.
__all__ = []

#: kernel_size, stride, padding, dilation: int pairs; ceil_mode: bool.
MaxPoolWindow = namedtuple("MaxPoolWindow", ["kernel_size", "stride", "padding", "dilation",
                                             "ceil_mode"])
#: kernel_size, stride, padding: int pairs; ceil_mode, count_include_pad: bool;
#: divisor_override: int or None.
AvgPoolWindow = namedtuple("AvgPoolWindow", ["kernel_size", "stride", "padding", "ceil_mode",
                                             "count_include_pad", "divisor_override"])


class MaxPool2d(Function):
    """(y, idx) = max over each window, idx its flat position in the (H·W) input plane.
    (N, C, H, W) → (N, C, OH, OW) twice (idx int64, not differentiable).
    VJP: dx = PlaneScatter(dy, idx)  (dy added onto each window's arg-max pixel)."""

    def forward(self, x, window):
        self.x_shape = x.shape
        self.mark_non_differentiable(1)
        y, indices = kernels.max_pool2d_forward(x.array, *window)
        self.indices = indices
        return y, indices

    def backward(self, dy, d_indices):
        return PlaneScatter.apply(dy, Tensor._wrap(self.indices), self.x_shape)


class PlaneScatter(Function):
    """dx[n, c, p] = Σ_{k: idx[n, c, k] = p} v[n, c, k]: scatter-add into zeros of x_shape.
    v, idx (N, C, OH, OW) → (N, C, H, W).   VJP: dv = PlaneGather(g, idx)."""

    def forward(self, v, indices, x_shape):
        self.indices = indices
        if v.array.size == 0:  # the kernel cannot reshape an empty batch
            return v.xp.zeros(tuple(x_shape), dtype=v.dtype)
        return kernels.max_pool2d_backward(v.array, indices.array, tuple(x_shape))

    def backward(self, g):
        return PlaneGather.apply(g, self.indices), None


class PlaneGather(Function):
    """y[n, c, k] = x[n, c, idx[n, c, k]] (flat plane index).
    x (N, C, H, W), idx (N, C, OH, OW) → (N, C, OH, OW).   VJP: dx = PlaneScatter(dy, idx)."""

    def forward(self, x, indices):
        self.indices, self.x_shape = indices, x.shape
        n, c, h, w = x.shape
        planes = x.array.reshape(n * c, h * w)
        flat = indices.array.reshape(n * c, indices.shape[2] * indices.shape[3])
        picked = x.xp.take_along_axis(planes, flat, axis=1)
        return picked.reshape(indices.shape)

    def backward(self, dy):
        return PlaneScatter.apply(dy, self.indices, self.x_shape), None


class MaxUnpool2d(Function):
    """Max unpooling, the (partial) inverse of MaxPool2d: y = zeros of out_shape with
    y[n, c, idx[n, c, k]] = v[n, c, k] written (not added: a repeated index keeps one value,
    the last, as PyTorch's CPU kernel).  v, idx (N, C, H, W) → (N, C, OH, OW).
    VJP (PyTorch's): dv = PlaneGather(dy, idx), the gradient read back at each index."""

    def forward(self, v, indices, out_shape):
        self.indices = indices
        n, c, oh, ow = out_shape
        xp = v.xp
        planes = xp.zeros((n * c, oh * ow), dtype=v.dtype)
        flat = indices.array.reshape(n * c, -1)
        rows = xp.arange(n * c).reshape(-1, 1)
        planes[rows, flat] = v.array.reshape(n * c, -1)
        return planes.reshape(tuple(out_shape))

    def backward(self, dy):
        return PlaneGather.apply(dy, self.indices), None


class AvgPool2d(Function):
    """y = (window sum of zero-padded x) / D.   (N, C, H, W) → (N, C, OH, OW).
    VJP: dx = AvgPool2dBackward(dy)  (dy / D spread evenly over each window's pixels)."""

    def forward(self, x, window):
        self.window, self.x_shape = window, x.shape
        return kernels.avg_pool2d_forward(x.array, *window)

    def backward(self, dy):
        return AvgPool2dBackward.apply(dy, self.x_shape, self.window)


class AvgPool2dBackward(Function):
    """dx = Aᵀ dy, the adjoint of average pooling A.   (N, C, OH, OW) → x_shape.
    Linear, so its VJP is A itself: d(dy) = AvgPool2d(g)."""

    def forward(self, dy, x_shape, window):
        self.window = window
        return kernels.avg_pool2d_backward(dy.array, tuple(x_shape), *window)

    def backward(self, g):
        return AvgPool2d.apply(g, self.window)


def adaptive_pool_matrix(in_size, out_size, xp, dtype):
    """``M (out_size, in_size)`` with row a = 1/len on PyTorch's adaptive window
    [⌊a·in/out⌋, ⌈(a+1)·in/out⌉) and 0 elsewhere."""
    rows = xp.arange(out_size)[:, None]
    start = (rows * in_size) // out_size
    end = -((-(rows + 1) * in_size) // out_size)
    cols = xp.arange(in_size)[None, :]
    inside = (cols >= start) & (cols < end)
    return (inside / (end - start)).astype(dtype)


def adaptive_average_pool2d(input, output_size):
    """y = R x Cᵀ over the last two dims, R = adaptive_pool_matrix(H, OH), C likewise for W.
    (..., H, W) → (..., OH, OW); a global pool (1, 1) is a mean."""
    h, w = input.shape[-2:]
    oh, ow = output_size
    if (oh, ow) == (1, 1) and h and w:
        return input.mean(dim=(-2, -1), keepdim=True)
    xp, dtype = input.xp, input.dtype
    rows = Tensor._wrap(adaptive_pool_matrix(h, oh, xp, dtype))
    cols_t = Tensor._wrap(adaptive_pool_matrix(w, ow, xp, dtype).T.copy())
    return matmul(matmul(rows, input), cols_t)
