"""Flash attention rows of the kernel table: causal self-attention, float32, batch 2 × 4
heads × head size 64, at T = 64, 256 and 1024 (GPT-like shapes; the materialising
reference grows as T², the blockwise kernels as T).

PyTorch twins: ``torch.nn.functional.scaled_dot_product_attention(…, is_causal=True)`` for
the forward (on the CPU it runs ATen's flash kernel for float32), and for the backward
ATen's own CPU flash backward, ``aten._scaled_dot_product_flash_attention_for_cpu_backward``,
fed with the (out, logsumexp) of its forward, so both sides time the backward alone.
"""
import numpy as np

from .case import KernelCase

BATCH, HEADS, HEAD_DIM = 2, 4, 64
LENGTHS = (64, 256, 1024)


def _inputs(length, seed=0):
    rng = np.random.default_rng(seed)
    shape = (BATCH, HEADS, length, HEAD_DIM)
    return tuple(rng.standard_normal(shape).astype(np.float32) for _ in range(4))


def _torch_forward(torch, q, k, v, mask, scale, causal):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)


def _torch_backward_arguments(q, k, v, d_out):
    def build(torch):
        tq, tk, tv, tdo = (torch.from_numpy(a) for a in (q, k, v, d_out))
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            tq, tk, tv, 0.0, True)
        return tq, tk, tv, out, lse, tdo
    return build


def _torch_backward(torch, q, k, v, out, lse, d_out):
    return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward(
        d_out, q, k, v, out, lse, 0.0, True)


def cases():
    from minigrad_kernels.catalogue import CATALOGUE
    forward = CATALOGUE.reference_impl("flash_attention_forward")
    for length in LENGTHS:
        q, k, v, d_out = _inputs(length)
        label = f"{BATCH}×{HEADS}×{length}×{HEAD_DIM} causal f32"
        yield KernelCase("flash_attention_forward", label, (q, k, v, None, None, True),
                         torch_fn=_torch_forward)
        out, lse = forward(q, k, v, None, None, True)
        yield KernelCase("flash_attention_backward", label,
                         (q, k, v, out, lse, d_out, None, None, True),
                         torch_fn=_torch_backward,
                         torch_args=_torch_backward_arguments(q, k, v, d_out))
