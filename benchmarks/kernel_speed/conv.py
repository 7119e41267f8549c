"""Convolution kernels at the seed CNN's sizes and two ResNet-small 3×3 layers, float32.

Seed CNN (``models/cnn.py``, batch 64): conv 1 is 1→32 channels, 3×3, on 28×28; conv 2
is 32→64, 3×3, on the pooled 13×13.  ResNet-small (CIFAR-style, batch 32): 64→64 3×3
pad 1 on 16×16 and 128→128 3×3 pad 1 on 8×8.  Conv 1's input gradient is never needed
in training (the images need no gradient), but it is timed too.  PyTorch's twins:
``conv2d`` and ``aten.convolution_backward`` asking for one gradient at a time.
"""
import numpy as np

from .case import KernelCase

# (label, x shape, w shape, stride, padding)
LAYERS = [("seed conv1 64×1×28×28 → 32, 3×3", (64, 1, 28, 28), (32, 1, 3, 3), (1, 1), (0, 0)),
          ("seed conv2 64×32×13×13 → 64, 3×3", (64, 32, 13, 13), (64, 32, 3, 3), (1, 1), (0, 0)),
          ("resnet 32×64×16×16 → 64, 3×3 p1", (32, 64, 16, 16), (64, 64, 3, 3), (1, 1), (1, 1)),
          ("resnet 32×128×8×8 → 128, 3×3 p1", (32, 128, 8, 8), (128, 128, 3, 3), (1, 1), (1, 1))]
DILATION, GROUPS = (1, 1), 1


def _torch_gradient(which, stride, padding):
    """``convolution_backward`` computing only gradient ``which`` (0 = input, 1 = weight)."""
    mask = [which == 0, which == 1, False]

    def gradient(torch, dy, x, w):
        return torch.ops.aten.convolution_backward(
            dy, x, w, None, list(stride), list(padding), list(DILATION), False, [0, 0],
            GROUPS, mask)[which]
    return gradient


def cases():
    rng = np.random.default_rng(0)
    for label, x_shape, w_shape, stride, padding in LAYERS:
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(np.float32)
        oh = (x_shape[2] + 2 * padding[0] - w_shape[2]) // stride[0] + 1
        ow = (x_shape[3] + 2 * padding[1] - w_shape[3]) // stride[1] + 1
        dy = rng.standard_normal((x_shape[0], w_shape[0], oh, ow)).astype(np.float32)
        geometry = (stride, padding, DILATION, GROUPS)

        def torch_inputs(torch, dy=dy, x=x, w=w):
            return torch.from_numpy(dy), torch.from_numpy(x), torch.from_numpy(w)

        yield KernelCase("conv2d_forward", label, (x, w) + geometry,
                         torch_fn=lambda torch, x, w, s, p, d, g: torch.nn.functional.conv2d(
                             x, w, None, s, p, d, g))
        yield KernelCase("conv2d_backward_input", label, (dy, w, x_shape) + geometry,
                         torch_fn=_torch_gradient(0, stride, padding), torch_args=torch_inputs)
        yield KernelCase("conv2d_backward_weight", label, (dy, x, w_shape) + geometry,
                         torch_fn=_torch_gradient(1, stride, padding), torch_args=torch_inputs)
