"""Layer norm forward and backward at the GPT's activations (16 × 64 × 128, over the last
axis, with γ and β).  PyTorch's twins are ``native_layer_norm`` and
``native_layer_norm_backward`` (what autograd runs)."""
import minigrad_kernels.reference.normalization as reference

from ._gpt_sizes import BATCH, CONTEXT, WIDTH, normal
from .case import KernelCase


def cases():
    x = normal((BATCH, CONTEXT, WIDTH))
    weight, bias = 1.0 + 0.1 * normal((WIDTH,), 1), 0.1 * normal((WIDTH,), 2)
    label = f"{BATCH}×{CONTEXT}×{WIDTH}"
    yield KernelCase("layer_norm_forward", label, (x, weight, bias, 1, 1e-5),
                     torch_fn=lambda torch, x, w, b, k, eps: torch.ops.aten.native_layer_norm(
                         x, [x.shape[-1]], w, b, eps))
    _, mean, rstd = reference.layer_norm_forward(x, weight, bias, 1, 1e-5)
    dy = normal(x.shape, 3)

    def torch_args(torch):
        return tuple(torch.from_numpy(a) for a in (dy, x, weight, bias, mean, rstd))
    yield KernelCase("layer_norm_backward", label, (dy, x, weight, mean, rstd, 1),
                     torch_fn=lambda torch, dy, x, w, b, mean, rstd:
                     torch.ops.aten.native_layer_norm_backward(
                         dy, x, [x.shape[-1]], mean, rstd, w, b, [True, True, True]),
                     torch_args=torch_args)
