"""SHIM of torchvision.datasets (see the package docstring): MNIST, FashionMNIST, FakeData."""
import numpy as np
import torch

import minigrad.datasets as _mgd

__all__ = ["MNIST", "FashionMNIST", "FakeData"]


class _MNISTLike:
    _source = None

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        src = self._source(root=None, train=train, download=True)
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self._images = src.data                       # uint8 (N, 28, 28) numpy
        self._labels = src.targets                    # int64 (N,) numpy
        self.data = torch.from_numpy(np.ascontiguousarray(self._images))
        self.targets = torch.from_numpy(np.ascontiguousarray(self._labels))
        self.classes = list(src.classes)

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        img, target = self._images[int(index)], int(self._labels[int(index)])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class MNIST(_MNISTLike):
    _source = _mgd.MNIST


class FashionMNIST(_MNISTLike):
    _source = _mgd.FashionMNIST


class FakeData:
    """Random uint8 images ``(H, W, C)`` and labels, each seeded by its index."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10,
                 transform=None, target_transform=None, random_offset=0):
        self.size, self.image_size, self.num_classes = size, tuple(image_size), num_classes
        self.transform, self.target_transform = transform, target_transform
        self.random_offset = random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        rng = np.random.RandomState(index + self.random_offset)
        c, h, w = self.image_size
        img = rng.randint(0, 256, size=(h, w, c)).astype(np.uint8)
        target = int(rng.randint(0, self.num_classes))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
