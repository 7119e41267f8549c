"""A character-level recurrent language model (an RNN with LSTM or GRU cells).

    idx (N, T) int64 ─Embedding→ (N, T, E) ─LSTM/GRU (num_layers, batch_first)→ (N, T, H)
      ─Dropout─Linear→ logits (N, T, V)          V = vocab_size

The recurrence ``h_t = σ(W_h h_{t−1} + W_x x_t + b_h)`` (docs/seeds.md#seed-001), with the gated
cells of ``nn.LSTM`` / ``nn.GRU``; training is backpropagation through time over the T
characters of each window, and the loss is next-character cross-entropy,
``L = −(1/NT) Σ log softmax(logits[n, t])[targets[n, t]]`` with targets = idx shifted by one.

Parameters (LSTM, 4 gates; GRU has 3): embedding V·E; layer 0 4H(E + H) + 8H; each further
layer 4H(2H) + 8H; head H·V + V. E.g. V=65, E=64, H=256, 2 layers: 876,929 (LSTM),
662,913 (GRU).

The interface is the one every "lm" model of ``models.registry`` shares with ``GPT``:
``forward(idx, targets=None) → (logits, loss)`` and ``generate(idx, max_new_tokens,
temperature=1.0, top_k=None)``. ``forward_with_state(idx, state)`` also returns the final
hidden state, so generation feeds the prompt once and then one character per step
(O(1) per new token; a recurrent model needs no context window).
"""
import minigrad as mg
from minigrad import nn
import minigrad.nn.functional as F

from .sampling import sample_next_token

__all__ = ["CharRNN"]

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class CharRNN(nn.Module):
    """Embedding → ``cell`` ('lstm' or 'gru') × num_layers → Linear to the vocabulary.

    Args:
        vocab_size: number of distinct characters V.
        embed_dim: embedding width E.
        hidden_size: recurrent state width H.
        num_layers: stacked recurrent layers.
        cell: 'lstm' or 'gru'.
        dropout: between recurrent layers and before the head (training only).
    """

    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=2, cell="lstm",
                 dropout=0.0):
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
        self.vocab_size, self.cell = vocab_size, cell
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _CELLS[cell](embed_dim, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward_with_state(self, idx, state=None):
        """(logits (N, T, V), final state): state is h_n (GRU) or (h_n, c_n) (LSTM), each
        (num_layers, N, H); pass it back in to continue the sequence."""
        output, state = self.rnn(self.embedding(idx), state)
        return self.head(self.dropout(output)), state

    def forward(self, idx, targets=None):
        """idx (N, T) → (logits (N, T, V), mean next-character cross-entropy or None);
        targets (N, T) int64, −1 marks positions to ignore."""
        logits, _ = self.forward_with_state(idx)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                   ignore_index=-1)
        return logits, loss

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Continue each row of idx (N, T) by ``max_new_tokens`` sampled characters →
        (N, T + max_new_tokens). Runs in eval mode without grad (mode restored after);
        temperature 0 is greedy; reproducible under ``mg.manual_seed``."""
        was_training = self.training
        self.eval()
        try:
            with mg.no_grad():
                logits, state = self.forward_with_state(idx)
                pieces = [idx]
                for step in range(max_new_tokens):
                    next_id = sample_next_token(logits[:, -1, :], temperature, top_k)
                    pieces.append(next_id)
                    if step + 1 < max_new_tokens:
                        logits, state = self.forward_with_state(next_id, state)
                return mg.cat(pieces, dim=1)
        finally:
            self.train(was_training)
