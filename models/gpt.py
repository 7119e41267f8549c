"""A decoder-only character GPT (GPT-2's block layout, after Karpathy's nanoGPT).

    idx (B, T) ─wte→ (B, T, C) + wpe[0:T] (learned) ─Dropout→ x
    x ← x + Attn(LN₁(x))         Attn: c_attn → q, k, v (B, nh, T, hs); causal SDPA;
    x ← x + MLP(LN₂(x))                merge heads → c_proj → Dropout
      (n_layer blocks)           MLP:  c_fc (C → 4C) → GELU → c_proj (4C → C) → Dropout
    LN_f(x) ─lm_head (C → V, no bias; weight = wte.weight)→ logits (B, T, V)

C = n_embd, nh = n_head, hs = C/nh, V = vocab_size, T ≤ block_size. Attention is
``F.scaled_dot_product_attention(q, k, v, is_causal=True)``:
``softmax(q kᵀ/√hs + M) v`` with M = −∞ above the diagonal, so position t reads only
tokens ≤ t (the 1/√hs scales the scores inside the softmax; docs/seeds.md#errata-003).

Pre-norm blocks (LayerNorm before each sub-layer, one final LayerNorm) keep the residual
path an identity, which trains without warm-up tricks. The output layer shares the token
embedding matrix (weight tying, Press & Wolf 2017): the logit of token v is the dot product
of the final hidden state with v's embedding, and V·C parameters are saved.

Initialisation (GPT-2): every Linear and Embedding weight ~ N(0, 0.02²), biases 0; the two
projections that write into the residual stream (``attn.c_proj``, ``mlp.c_proj``) use
std 0.02/√(2·n_layer), so the residual's variance does not grow with depth. At init the
logits are nearly uniform, so the loss is ≈ ln V (4.17 for V = 65).

Parameters: V·C + block_size·C + n_layer·(12C² + 13C) + 2C (with bias). The registry's
CPU config (V = 65, block 64, 2 layers, C = 128, 4 heads) has 413,312; the state_dict
keys are nanoGPT's (``transformer.wte.weight``, ``transformer.h.0.attn.c_attn.weight`` …,
``lm_head.weight``).

``checkpoint=True`` (``--model-arg checkpoint=true``) wraps every block in
``minigrad.utils.checkpoint.checkpoint`` while training: a block's activations are
recomputed in backward instead of kept (docs/amp.md has the peak-memory figures).
"""
import math
from dataclasses import dataclass

import minigrad as mg
from minigrad import nn
import minigrad.nn.functional as F
from minigrad.utils.checkpoint import checkpoint

from .sampling import sample_next_token

__all__ = ["GPTConfig", "GPT", "CausalSelfAttention", "MLP", "Block"]


@dataclass
class GPTConfig:
    """Model size. ``bias=False`` drops the Linear and LayerNorm biases."""
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    checkpoint: bool = False    # recompute each block's activations in backward (training)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: (B, T, C) → (B, T, C)."""

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head != 0:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head "
                             f"({config.n_head})")
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) → (B, nh, T, hs): each head attends over its own hs-wide slice
        q, k, v = (t.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training
                                           else 0.0, is_causal=True)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward C → 4C → GELU → C."""

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """``GPT(config)`` or ``GPT(vocab_size=…, block_size=…, …)``; see the module docstring.
    ``forward(idx, targets=None) → (logits (B, T, V), loss or None)``."""

    def __init__(self, config=None, **overrides):
        super().__init__()
        config = config if config is not None else GPTConfig(**overrides)
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight   # tied: one Parameter, two names
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=residual_std)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self, non_embedding=False):
        """Distinct parameters (the tied matrix once); ``non_embedding`` leaves out wpe."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def forward(self, idx, targets=None):
        """idx (B, T) int64, T ≤ block_size → (logits (B, T, V), loss); loss is the mean
        next-token cross-entropy against targets (B, T) (−1 = ignore), None without them."""
        T = idx.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"Cannot forward sequence of length {T}, block size is only "
                             f"{self.config.block_size}")
        pos = mg.arange(T, dtype=mg.int64, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        recompute = self.config.checkpoint and self.training and mg.is_grad_enabled()
        for block in self.transformer.h:
            x = checkpoint(block, x, use_reentrant=False) if recompute else block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                   ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.95)):
        """AdamW with weight decay on the matrices (ndim ≥ 2: Linear and embedding
        weights) and none on biases and LayerNorm gains, as in GPT-2/nanoGPT."""
        params = list(self.parameters())
        groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
        return mg.optim.AdamW(groups, lr=learning_rate, betas=betas)

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Append ``max_new_tokens`` sampled tokens to idx (B, T) → (B, T + max_new_tokens),
        conditioning on the last block_size tokens each step. Eval mode, no grad (mode
        restored after); temperature 0 is greedy; reproducible under ``mg.manual_seed``."""
        was_training = self.training
        self.eval()
        try:
            with mg.no_grad():
                for _ in range(max_new_tokens):
                    context = idx[:, -self.config.block_size:]
                    logits, _ = self(context)
                    next_id = sample_next_token(logits[:, -1, :], temperature, top_k)
                    idx = mg.cat([idx, next_id], dim=1)
            return idx
        finally:
            self.train(was_training)
