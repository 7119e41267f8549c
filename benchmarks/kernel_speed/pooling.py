"""Pooling kernels at the seed CNN's sizes (and one ResNet-style 3×3 average pool).

The seed CNN (``models/cnn.py``, batch 64) max-pools ``(64, 32, 26, 26)`` and
``(64, 64, 11, 11)`` with 2×2 windows, stride 2 (the second drops its last row and
column); the backward rows take the indices the forward returns.  PyTorch's twins are
``max_pool2d(return_indices=True)``, ``aten.max_pool2d_with_indices_backward``,
``avg_pool2d`` and ``aten.avg_pool2d_backward``.
"""
import numpy as np

from minigrad_kernels.catalogue import CATALOGUE

from .case import KernelCase

# (label, x shape, kernel, stride, padding)
MAX_POOLS = [("64×32×26×26, 2×2/2", (64, 32, 26, 26), (2, 2), (2, 2), (0, 0)),
             ("64×64×11×11, 2×2/2", (64, 64, 11, 11), (2, 2), (2, 2), (0, 0)),
             ("32×64×16×16, 3×3/2 pad 1", (32, 64, 16, 16), (3, 3), (2, 2), (1, 1))]
# (label, x shape, kernel, stride, padding, ceil_mode, count_include_pad)
AVG_POOLS = [("64×32×26×26, 2×2/2", (64, 32, 26, 26), (2, 2), (2, 2), (0, 0), False, True),
             ("32×64×16×16, 3×3/1 pad 1 excl", (32, 64, 16, 16), (3, 3), (1, 1), (1, 1),
              True, False)]


def _max_pool_cases(rng):
    for label, shape, kernel, stride, padding in MAX_POOLS:
        x = rng.standard_normal(shape).astype(np.float32)
        window = (kernel, stride, padding, (1, 1), False)
        y, indices = CATALOGUE.reference_impl("max_pool2d_forward")(x, *window)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        yield KernelCase(
            "max_pool2d_forward", label, (x,) + window,
            torch_fn=lambda torch, x, k, s, p, d, c: torch.nn.functional.max_pool2d(
                x, k, s, p, d, c, return_indices=True))
        yield KernelCase(
            "max_pool2d_backward", label, (dy, indices, x.shape),
            torch_fn=lambda torch, dy, x, indices, window: (
                torch.ops.aten.max_pool2d_with_indices_backward(dy, x, *window, indices)),
            torch_args=lambda torch, dy=dy, x=x, indices=indices, window=window: (
                torch.from_numpy(dy), torch.from_numpy(x), torch.from_numpy(indices),
                [list(window[0]), list(window[1]), list(window[2]), list(window[3]), window[4]]))


def _avg_pool_cases(rng):
    for label, shape, kernel, stride, padding, ceil_mode, include_pad in AVG_POOLS:
        x = rng.standard_normal(shape).astype(np.float32)
        window = (kernel, stride, padding, ceil_mode, include_pad, None)
        y = CATALOGUE.reference_impl("avg_pool2d_forward")(x, *window)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        yield KernelCase(
            "avg_pool2d_forward", label, (x,) + window,
            torch_fn=lambda torch, x, k, s, p, c, i, d: torch.nn.functional.avg_pool2d(
                x, k, s, p, c, i, d))
        yield KernelCase(
            "avg_pool2d_backward", label, (dy, x.shape) + window,
            torch_fn=lambda torch, dy, x, window: torch.ops.aten.avg_pool2d_backward(
                dy, x, *window),
            torch_args=lambda torch, dy=dy, x=x, window=window: (
                torch.from_numpy(dy), torch.from_numpy(x),
                [list(window[0]), list(window[1]), list(window[2])] + list(window[3:])))


def cases():
    rng = np.random.default_rng(0)
    yield from _max_pool_cases(rng)
    yield from _avg_pool_cases(rng)
