"""softmax / log_softmax / logsumexp at the GPT's sizes: the logits (16·64 × 65) and an
attention score block (16 × 4 heads × 64 × 64, along the keys)."""
from ._gpt_sizes import BATCH, CONTEXT, HEADS, TOKENS, VOCAB, normal
from .case import KernelCase


def cases():
    logits = normal((TOKENS, VOCAB))
    scores = normal((BATCH, HEADS, CONTEXT, CONTEXT))
    for name, torch_name in (("softmax", "softmax"), ("log_softmax", "log_softmax")):
        yield KernelCase(name, f"{TOKENS}×{VOCAB}, axis -1", (logits, -1),
                         torch_fn=lambda torch, x, axis, f=torch_name: getattr(torch, f)(x, axis))
        yield KernelCase(name, f"{BATCH}×{HEADS}×{CONTEXT}×{CONTEXT}, axis -1", (scores, -1),
                         torch_fn=lambda torch, x, axis, f=torch_name: getattr(torch, f)(x, axis))
    yield KernelCase("softmax", f"{TOKENS}×{VOCAB}, axis 0", (logits, 0),
                     torch_fn=lambda torch, x, axis: torch.softmax(x, axis))
    yield KernelCase("logsumexp", f"{TOKENS}×{VOCAB}, axis -1", (logits, -1),
                     torch_fn=lambda torch, x, axis: torch.logsumexp(x, axis))
