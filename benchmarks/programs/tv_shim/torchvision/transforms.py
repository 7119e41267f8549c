"""SHIM of torchvision.transforms (see the package docstring): the four the programs use."""
import numpy as np
import torch

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class ToTensor:
    """uint8 ``(H, W)`` or ``(H, W, C)`` array -> float32 ``(C, H, W)`` tensor in [0, 1]."""

    def __call__(self, pic):
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if arr.dtype == np.uint8:
            return torch.from_numpy(arr.astype(np.float32) / np.float32(255))
        return torch.from_numpy(arr)


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = list(mean), list(std)

    def __call__(self, t):
        mean = torch.tensor(self.mean, dtype=t.dtype).reshape(-1, 1, 1)
        std = torch.tensor(self.std, dtype=t.dtype).reshape(-1, 1, 1)
        return (t - mean) / std


class Lambda:
    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)
