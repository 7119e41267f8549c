"""Embedding backward (scatter-add) at the GPT's sizes: the token table (65 × 128) from a
16 × 64 batch, and the position table (64 × 128) from one position per row.  PyTorch's
twin is ``embedding_dense_backward`` (what autograd runs)."""
import numpy as np

from ._gpt_sizes import BATCH, CONTEXT, VOCAB, WIDTH, class_ids, normal
from .case import KernelCase


def _twin(torch, grad, indices, num_embeddings, padding_idx):
    return torch.ops.aten.embedding_dense_backward(
        grad, indices, num_embeddings, -1 if padding_idx is None else padding_idx, False)


def cases():
    grad = normal((BATCH, CONTEXT, WIDTH))
    yield KernelCase("embedding_backward", f"tokens {BATCH}×{CONTEXT} → {VOCAB}×{WIDTH}",
                     (grad, class_ids((BATCH, CONTEXT), VOCAB), VOCAB, None), torch_fn=_twin)
    yield KernelCase("embedding_backward", f"positions {CONTEXT} → {CONTEXT}×{WIDTH}",
                     (normal((CONTEXT, WIDTH), 4), np.arange(CONTEXT), CONTEXT, None),
                     torch_fn=_twin)
