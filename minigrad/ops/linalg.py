"""Matrix multiplication (``@``, ``matmul``, ``mm``, ``bmm``) with numpy's batching rules.

    C = A B,  A (…, n, k), B (…, k, m) → C (…, n, m)
    dA = sum_to(dC Bᵀ, A.shape),   dB = sum_to(Aᵀ dC, B.shape)

Batch dimensions broadcast, hence the ``sum_to``. A batched A against a 2-D B is computed
with A's batch folded into its rows, so forward and both gradients are single GEMMs. A 1-D A is treated as a row (1, k) and a
1-D B as a column (k, 1), with the added axis removed from C, exactly as numpy/PyTorch do;
the backward re-inserts it. The product itself is the ``kernels.matmul`` entry point, so
optimised CPU/GPU kernels slot in without touching this file.
"""
import numpy as np

import minigrad_kernels as kernels
from ..dtypes import scalar_type_name
from ..tensor import Tensor
from ..autograd.function import Function
from .broadcast import sum_to
from .operands import promote, broadcast_shapes, check_tensor
from .sparse import SparseCOOTensor, dense_sparse_mm, sparse_mm
from ..amp.autocast_mode import autocast_op


class MatMul(Function):
    """C = A B for A (…, n, k), B (…, k, m), both at least 2-D here.
    dA = sum_to(dC Bᵀ),  dB = sum_to(Aᵀ dC)."""

    def forward(self, a, b):
        self.input_shapes = a.shape, b.shape
        self.save_for_backward(a if b.requires_grad else None, b if a.requires_grad else None)
        return kernels.matmul(a.array, b.array)

    def backward(self, dc):
        a, b = self.saved_tensors
        # Operands here are already checked, promoted and at least 2-D: apply MatMul directly.
        da = sum_to(MatMul.apply(dc, b.mT), self.input_shapes[0]) if self.needs_input_grad[0] else None
        db = sum_to(MatMul.apply(a.mT, dc), self.input_shapes[1]) if self.needs_input_grad[1] else None
        return da, db


class Linear(Function):
    """The affine map as one node: y = x Wᵀ + b for x (N, in), W (out, in), b (out,) or
    absent → y (N, out);  dx = dy W,  dW = dyᵀ x,  db = Σ_N dy.

    One GEMM and an in-place bias add on its fresh output, where the composite
    (transpose, matmul, broadcast add) records three nodes and reduces the bias gradient
    through ``sum_to``. ``F.linear`` folds leading dimensions into N before calling it."""

    def forward(self, x, weight, bias=None):
        self.has_bias = bias is not None
        needs = self.needs_input_grad
        self.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        y = kernels.matmul(x.array, weight.array.T)
        if bias is not None:
            y += bias.array
        return y

    def backward(self, dy):
        x, weight = self.saved_tensors
        needs = self.needs_input_grad
        dx = MatMul.apply(dy, weight) if needs[0] else None
        dweight = MatMul.apply(dy.mT, x) if needs[1] else None
        if not self.has_bias:
            return dx, dweight
        return dx, dweight, dy.sum(0) if needs[2] else None


def _check_shapes(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        ra = a.shape[-2] if a.ndim > 1 else 1
        cb = b.shape[-1] if b.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ra}x{k_a} and "
                           f"{k_b}x{cb}) (input shapes {list(a.shape)} and {list(b.shape)})")
    try:
        broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except RuntimeError:
        raise RuntimeError(f"matmul: batch dimensions {list(a.shape[:-2])} and {list(b.shape[:-2])} "
                           f"do not broadcast (input shapes {list(a.shape)} and "
                           f"{list(b.shape)})") from None


@autocast_op("matmul")
def matmul(input, other):
    if isinstance(input, SparseCOOTensor):       # sparse @ dense (ops/sparse.py)
        return sparse_mm(input, other)
    if isinstance(other, SparseCOOTensor):
        return dense_sparse_mm(input, other)
    check_tensor(input, "matmul")
    check_tensor(other, "matmul", "other")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {input.dtype} != "
                           f"{other.dtype}")
    input, other = promote(input, other, op="matmul")
    if input.dtype.kind == "b":
        kernel = "dot" if input.ndim == other.ndim == 1 else "addmm_impl_cpu_"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool' (matmul of bool "
                                  f"tensors of shapes {list(input.shape)} and "
                                  f"{list(other.shape)})")
    _check_shapes(input, other)
    if input.ndim > 2 and other.ndim == 2:
        # A batch of rows against one matrix (every Linear on a sequence) is one GEMM over
        # the rows folded together; then dB = Aᵀ dC is one GEMM too, not a per-batch
        # product summed afterwards.
        batch = tuple(input.shape[:-1])
        rows = MatMul.apply(input.reshape(-1, input.shape[-1]), other)
        return rows.reshape(*batch, other.shape[-1])
    a = input.unsqueeze(0) if input.ndim == 1 else input
    b = other.unsqueeze(-1) if other.ndim == 1 else other
    out = MatMul.apply(a, b)
    if other.ndim == 1:
        out = out.squeeze(-1)
    if input.ndim == 1:
        out = out.squeeze(-2 if other.ndim > 1 else -1)
    return out


def rmatmul(self, other):
    """``other @ self`` for a non-Tensor ``other``: an ndarray counts as a tensor of its own
    dtype, as in the other operators."""
    return matmul(Tensor._wrap(other) if isinstance(other, np.ndarray) else other, self)


@autocast_op("dot")
def dot(input, tensor):
    """The inner product of two 1-D tensors of one dtype and length (no promotion, as PyTorch)."""
    check_tensor(input, "dot")
    check_tensor(tensor, "dot", "tensor")
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.dtype != tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{scalar_type_name(input.dtype)} and {scalar_type_name(tensor.dtype)}")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{tensor.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {tensor.shape[0]} elements respectively")
    return matmul(input, tensor)


def outer(input, vec2):
    """input[i] · vec2[j] for two 1-D tensors (promoted like ``*``)."""
    check_tensor(input, "outer")
    check_tensor(vec2, "outer", "vec2")
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


@autocast_op("mm")
def mm(input, mat2):
    if isinstance(input, SparseCOOTensor) or isinstance(mat2, SparseCOOTensor):
        return matmul(input, mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


@autocast_op("bmm")
def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 and batch2 must be 3D tensors, got {input.ndim}D and {mat2.ndim}D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)
