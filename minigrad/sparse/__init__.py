"""``minigrad.sparse`` (``torch.sparse``): ``mm`` of a sparse COO matrix and a dense one
(the tensors themselves are ``minigrad.sparse_coo_tensor`` / ``Tensor.to_sparse``;
``minigrad/ops/sparse.py`` has the formulas)."""
from ..ops.sparse import SparseCOOTensor, dense_sparse_mm, sparse_mm

__all__ = ["mm"]


def mm(mat1, mat2):
    """mat1 @ mat2 with one of them sparse COO (2-D) and the other dense; gradients flow to
    the dense operand and to the sparse operand's values (with its sparsity)."""
    if isinstance(mat1, SparseCOOTensor):
        return sparse_mm(mat1, mat2, masked=True)
    if isinstance(mat2, SparseCOOTensor):
        return dense_sparse_mm(mat1, mat2, masked=True)
    raise RuntimeError("minigrad.sparse.mm: one of mat1 and mat2 must be a sparse COO tensor")
