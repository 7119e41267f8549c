"""erf, erfc, σ and the two GELUs at the GPT's MLP activation (16 × 64 × 512, float32)."""
from ._gpt_sizes import BATCH, CONTEXT, HIDDEN, normal
from .case import KernelCase

TWINS = {"erf": lambda torch, x: torch.special.erf(x),
         "erfc": lambda torch, x: torch.special.erfc(x),
         "sigmoid": lambda torch, x: torch.sigmoid(x),
         "gelu": lambda torch, x: torch.nn.functional.gelu(x),
         "gelu_tanh": lambda torch, x: torch.nn.functional.gelu(x, approximate="tanh")}


def cases():
    x = normal((BATCH, CONTEXT, HIDDEN))
    for name, twin in TWINS.items():
        yield KernelCase(name, f"{BATCH}×{CONTEXT}×{HIDDEN} float32", (x,), torch_fn=twin)
