"""``minigrad.linalg``, PyTorch's ``torch.linalg`` namespace: the norms (``vector_norm``,
``matrix_norm``, ``norm``) and ``matmul``. The functions live with their op families in
``minigrad/ops/``; this module only names them as PyTorch does."""
from .ops.linalg import matmul
from .ops.norms import linalg_norm as norm, matrix_norm, vector_norm

__all__ = ["matmul", "matrix_norm", "norm", "vector_norm"]
