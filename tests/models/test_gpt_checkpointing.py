"""GPT(checkpoint=True): every block recomputed in backward gives the same loss and the same
gradients as the plain model, dropout included (the random state is replayed)."""
import numpy as np

import minigrad as mg
from minigrad_models.gpt import GPT, GPTConfig


def _step(checkpoint):
    mg.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16,
                          dropout=0.2, checkpoint=checkpoint)).double()
    rng = np.random.default_rng(0)
    idx = mg.tensor(rng.integers(0, 11, size=(3, 8)))
    mg.manual_seed(5)
    _, loss = model(idx, idx.roll(1, 1))
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in model.parameters()]


def test_checkpointed_gpt_matches_plain():
    plain, recomputed = _step(False), _step(True)
    assert plain[0] == recomputed[0]
    for a, b in zip(plain[1], recomputed[1]):
        np.testing.assert_array_equal(a, b)
