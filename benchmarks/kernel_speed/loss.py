"""Cross-entropy forward and backward at the GPT's logits (16·64 × 65, 'mean') and the seed
MLP's (64 × 10).  PyTorch's twins are its own kernels: ``F.cross_entropy`` forward, and
for the backward ``nll_loss_backward`` followed by ``_log_softmax_backward_data`` (what
autograd runs), from precomputed log-probabilities."""
import numpy as np

from ._gpt_sizes import MLP_BATCH, MLP_CLASSES, TOKENS, VOCAB, class_ids, normal
from .case import KernelCase

_REDUCTION_CODES = {"none": 0, "mean": 1, "sum": 2}




def _backward_twin(torch, x, target, d_loss, log_probs, total_weight, ignore_index, reduction):
    d_log_probs = torch.ops.aten.nll_loss_backward(
        d_loss, log_probs, target, None, _REDUCTION_CODES[reduction], ignore_index, total_weight)
    return torch.ops.aten._log_softmax_backward_data(d_log_probs, log_probs, 1, x.dtype)


def cases():
    for label, rows, classes in ((f"GPT {TOKENS}×{VOCAB}", TOKENS, VOCAB),
                                 (f"MLP {MLP_BATCH}×{MLP_CLASSES}", MLP_BATCH, MLP_CLASSES)):
        x, target = normal((rows, classes)), class_ids((rows,), classes)
        d_loss = np.asarray(1.0, dtype=np.float32)
        yield KernelCase("cross_entropy_forward", f"{label}, mean",
                         (x, target, None, -100, 0.0, "mean"),
                         torch_fn=lambda torch, x, t, *_: torch.nn.functional.cross_entropy(x, t))

        def torch_args(torch, x=x, target=target, d_loss=d_loss):
            tx, tt = torch.from_numpy(x), torch.from_numpy(target)
            log_probs = torch.log_softmax(tx, 1)
            return (tx, tt, torch.from_numpy(d_loss), log_probs,
                    (tt != -100).sum().to(tx.dtype), -100, "mean")
        yield KernelCase("cross_entropy_backward", f"{label}, mean",
                         (x, target, d_loss, None, -100, 0.0, "mean"),
                         torch_fn=_backward_twin, torch_args=torch_args)
        if rows == TOKENS:
            yield KernelCase("cross_entropy_forward", f"{label}, smoothing 0.1",
                             (x, target, None, -100, 0.1, "mean"),
                             torch_fn=lambda torch, x, t, *_: torch.nn.functional.cross_entropy(
                                 x, t, label_smoothing=0.1))
