"""Reference scatter-add for the embedding lookup's gradient.

The lookup ``y[p] = W[ids[p]]`` (``W (V, D)``, ``ids (*)``, ``y (*, D)``) reads row
``ids[p]`` once per position, so its VJP adds each position's gradient back onto the row
it came from, summing over positions that share an id:

    dW[v] = Σ_{p : ids[p] = v, v ≠ padding_idx} dy[p]        dW (V, D), zero elsewhere

The padding row gets no gradient (PyTorch's ``padding_idx``: its embedding stays fixed).
Repeated ids must accumulate, which plain fancy assignment ``dW[ids] += dy`` would not do
(the last write wins), hence ``add.at``: unbuffered, in position order.
"""
from ..catalogue import CATALOGUE, get_array_module


@CATALOGUE.reference("embedding_backward")
def embedding_backward(grad, indices, num_embeddings, padding_idx):
    """``dW (num_embeddings, D)`` from ``grad (*, D)`` and integer ``indices (*)`` in
    ``[0, num_embeddings)``; ``padding_idx`` (non-negative, or None) gets zeros."""
    xp = get_array_module(grad, indices)
    rows = grad.reshape(-1, grad.shape[-1])
    ids = indices.reshape(-1)
    if padding_idx is not None:
        kept = ids != padding_idx
        rows, ids = rows[kept], ids[kept]
    out = xp.zeros((num_embeddings, grad.shape[-1]), dtype=grad.dtype)
    if hasattr(xp.add, "at"):
        xp.add.at(out, ids, rows)
    else:                                   # older CuPy has no ufunc.at
        import cupyx
        cupyx.scatter_add(out, ids, rows)
    return out
