"""Seed 003's encoder-decoder Transformer (docs/seeds.md#seed-003), made correct: a seq2seq model.

    src (N, S) ─Embedding·√d─(+PE)─Dropout→ (N, S, d) ─┐
                                                       nn.Transformer(batch_first=True)
    tgt (N, T) ─Embedding·√d─(+PE)─Dropout→ (N, T, d) ─┘   causal self-attention on tgt
      → (N, T, d) ─Linear→ logits (N, T, tgt_vocab)

Positional encoding (Vaswani et al. 2017, sinusoidal, a fixed buffer, not learned):
``PE[p, 2i] = sin(p / 10000^{2i/d})``, ``PE[p, 2i+1] = cos(p / 10000^{2i/d})``, p < max_len.
Token embeddings are multiplied by √d so that they and PE (entries in [−1, 1]) have
comparable size. Training is teacher forcing: feed ``tgt[:, :-1]`` (starting with BOS),
predict ``tgt[:, 1:]`` with ``F.cross_entropy(..., ignore_index=pad_idx)``; the causal mask
lets position t see only target tokens ≤ t.

The seed prints ``nn.Transformer(d_model, nhead, num_layers)``: d_model 512, nhead 8,
num_layers 2, vocab 10000, Adam lr 0.001, CrossEntropy, 10 epochs; it reports loss
2.4545 → 1.1051 and 86.25% accuracy. Its code has four slips, corrected here:
(1) the third positional argument of ``nn.Transformer`` is ``num_encoder_layers``, so the
decoder silently keeps the default 6 layers — here ``num_layers`` sets both;
(2) no positional encoding, so attention is blind to word order — added;
(3) no causal target mask and no shift, so each output position can read the very token it
is asked to predict (the reported accuracy is not a prediction accuracy) — masked and
shifted here; (4) sequence-first tensors without ``batch_first`` while batches are
(N, L) — here ``batch_first=True``.

Parameters at the seed's size (src = tgt vocab 10000, d 512, 8 heads, 2 + 2 layers,
feed-forward 2048): 2·5,120,000 embeddings + 6,305,792 encoder (2 layers + final norm)
+ 8,409,088 decoder + 5,130,000 head = 30,084,880. The smaller CPU default of the registry
(d 128, 4 heads, 2 + 2 layers, feed-forward 512, char vocab ~65–80) has about 0.95 M.
"""
import math

import minigrad as mg
from minigrad import nn

__all__ = ["Seq2SeqTransformer", "sinusoidal_positional_encoding"]


def sinusoidal_positional_encoding(max_len, d_model):
    """The (max_len, d_model) float32 table PE[p, 2i] = sin(p·ω_i), PE[p, 2i+1] = cos(p·ω_i),
    ω_i = 10000^{−2i/d}."""
    position = mg.arange(max_len, dtype=mg.float32).unsqueeze(1)              # (L, 1)
    omega = (mg.arange(0, d_model, 2, dtype=mg.float32)
             * (-math.log(10000.0) / d_model)).exp()                          # (⌈d/2⌉,)
    angles = position * omega                                                 # (L, ⌈d/2⌉)
    pe = mg.stack([angles.sin(), angles.cos()], dim=-1).reshape(max_len, -1)  # interleave
    return pe[:, :d_model]


class Seq2SeqTransformer(nn.Module):
    """Token ids in, next-token logits out; see the module docstring.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes of the source and target.
        d_model, nhead, num_layers (encoder and decoder each), dim_feedforward, dropout:
            as ``nn.Transformer``.
        max_len: the longest sequence the positional table covers.
        pad_idx: id of the padding token; when set, padded source/target positions are
            masked out of attention automatically.

    Submodules: ``src_embedding``, ``tgt_embedding``, ``transformer`` (``nn.Transformer``,
    PyTorch's state_dict keys), ``generator`` (Linear d → tgt_vocab); buffer ``pe``
    (non-persistent)."""

    def __init__(self, src_vocab, tgt_vocab, d_model=512, nhead=8, num_layers=2,
                 dim_feedforward=2048, dropout=0.1, max_len=512, pad_idx=None):
        super().__init__()
        self.d_model, self.max_len, self.pad_idx = d_model, max_len, pad_idx
        self.src_embedding = nn.Embedding(src_vocab, d_model)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d_model)
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model),
                             persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers=num_layers,
                                          num_decoder_layers=num_layers,
                                          dim_feedforward=dim_feedforward, dropout=dropout,
                                          batch_first=True)
        self.generator = nn.Linear(d_model, tgt_vocab)

    def _embed(self, embedding, ids):
        length = ids.shape[1]
        if length > self.max_len:
            raise ValueError(f"sequence length {length} exceeds max_len {self.max_len}")
        return self.dropout(embedding(ids) * math.sqrt(self.d_model) + self.pe[:length])

    def _padding_mask(self, ids):
        return None if self.pad_idx is None else ids == self.pad_idx

    def encode(self, src):
        """src (N, S) → memory (N, S, d)."""
        return self.transformer.encoder(self._embed(self.src_embedding, src),
                                        src_key_padding_mask=self._padding_mask(src))

    def decode(self, tgt, memory, src=None):
        """tgt (N, T), memory (N, S, d) → logits (N, T, tgt_vocab) under the causal mask;
        pass ``src`` to mask padded source positions in cross-attention."""
        length = tgt.shape[1]
        # bool (True = may not attend), the same kind as the padding masks
        causal = mg.ones(length, length, dtype=mg.bool, device=tgt.device).triu(1)
        hidden = self.transformer.decoder(
            self._embed(self.tgt_embedding, tgt), memory, tgt_mask=causal, tgt_is_causal=True,
            tgt_key_padding_mask=self._padding_mask(tgt),
            memory_key_padding_mask=None if src is None else self._padding_mask(src))
        return self.generator(hidden)

    def forward(self, src, tgt):
        """src (N, S), tgt (N, T) (the shifted-right target, starting with BOS) → logits
        (N, T, tgt_vocab); logits[:, t] predicts target token t + 1."""
        return self.decode(tgt, self.encode(src), src)

    def greedy_decode(self, src, max_len, bos, eos):
        """Most-likely-token decoding: start every row with ``bos`` and append the argmax
        token until all rows have produced ``eos`` or the output has ``max_len`` tokens
        (counting bos). Returns int64 (N, ≤ max_len); tokens after a row's eos are eos.
        Runs in eval mode without grad; the encoder runs once."""
        was_training = self.training
        self.eval()
        try:
            with mg.no_grad():
                memory = self.encode(src)
                out = mg.full((src.shape[0], 1), bos, dtype=mg.int64, device=src.device)
                done = mg.zeros(src.shape[0], dtype=mg.bool, device=src.device)
                for _ in range(max_len - 1):
                    logits = self.decode(out, memory, src)[:, -1, :]
                    next_id = logits.argmax(dim=-1)
                    next_id = mg.where(done, mg.full_like(next_id, eos), next_id)
                    out = mg.cat([out, next_id.unsqueeze(1)], dim=1)
                    done = done | (next_id == eos)
                    if int(done.sum()) == done.shape[0]:   # every row has ended
                        break
                return out
        finally:
            self.train(was_training)
