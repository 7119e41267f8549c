"""Drawing the next token from a language model's logits, reproducibly.

Given the logits z (N, V) of the last position, temperature τ and top-k:

    z' = z / τ                          τ < 1 sharpens, τ > 1 flattens the distribution
    z'_j = −∞ unless z'_j is among the k largest of its row     (top_k; ties all kept)
    p = softmax(z')                      computed with the max subtracted (no overflow)
    next = min{ j : Σ_{i ≤ j} p_i > u },  u ~ U[0, 1)          inverse-CDF sampling

τ = 0 means greedy (argmax). The uniform draws u come from minigrad's global generator
(``minigrad.creation.default_generator()``, reset by ``mg.manual_seed``), so
``mg.manual_seed(s)`` followed by ``model.generate(...)`` always produces the same text.
The softmax is minigrad's; only the cumulative sum and the search are numpy (minigrad has
no ``multinomial``), done in float64 so that rounding never makes the last cumulative
probability fall below u.
"""
import numpy as np

import minigrad as mg

__all__ = ["sample_next_token"]


def sample_next_token(logits, temperature=1.0, top_k=None):
    """One token id per row of ``logits`` (N, V) → int64 tensor (N, 1) on logits' device."""
    if logits.ndim != 2:
        raise ValueError(f"sample_next_token expects logits of shape (N, V), got "
                         f"{list(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    logits = logits.detach()
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True).long()
    logits = logits.double() / temperature
    vocab = logits.shape[-1]
    if top_k is not None:
        if top_k <= 0:
            raise ValueError(f"top_k must be positive, got {top_k}")
        if top_k < vocab:
            kth = np.partition(logits.cpu().numpy(), vocab - top_k, axis=-1)[:, vocab - top_k]
            cutoff = mg.tensor(kth[:, None], dtype=logits.dtype, device=logits.device)
            logits = logits.masked_fill(logits < cutoff, float("-inf"))
    probs = mg.softmax(logits, dim=-1).cpu().numpy()
    cdf = np.cumsum(probs, axis=-1)
    u = mg.creation.default_generator().random(len(cdf)) * cdf[:, -1]
    ids = np.minimum((cdf <= u[:, None]).sum(axis=-1), vocab - 1)
    # A zero-probability token can only be picked if u lands exactly on a flat step of
    # the CDF; ``<=`` skips such steps, so every chosen id has p > 0.
    return mg.tensor(ids[:, None], dtype=mg.int64, device=logits.device)
