"""Seed 001's convolutional network for 28×28 digits (docs/seeds.md#seed-001).

Layer by layer, with the shapes of one (N, 1, 28, 28) batch (no padding, stride 1)::

    Conv2d(1→32, 3×3)   (N, 32, 26, 26)     28 − 3 + 1 = 26
    ReLU, MaxPool2d(2)  (N, 32, 13, 13)
    Conv2d(32→64, 3×3)  (N, 64, 11, 11)     13 − 3 + 1 = 11
    ReLU, MaxPool2d(2)  (N, 64, 5, 5)       ⌊11/2⌋ = 5 (the last row/column is dropped)
    Flatten             (N, 1600)           64·5·5
    Linear(1600→dense), ReLU   (N, dense)   dense = 64 or 128 (the seed prints both)
    Linear(dense→10)    (N, 10) logits      softmax lives in the loss (cross-entropy)

Parameters: 320 + 18,496 + (1600·dense + dense) + (10·dense + 10)
= 121,930 for dense=64, 225,034 for dense=128.

The seed trains with Adam (Keras default lr 0.001), batch 64, 10 epochs, pixels /255 and a
20% validation split, and reports ≈98% test accuracy. (Its printed normalisation
``(255 − pixel)/255``, which inverts the image; the Keras code divides by 255.)

"Convolution" here is cross-correlation, ``y[o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]
x[c,i+u,j+v]``, as in every deep-learning framework; convolution proper, ``∫ f(y) g(x − y) dy``,
is the same with the kernel flipped, a relabelling of learned weights.

The layout mirrors Keras's ``Sequential``: modules ``features`` (the conv stack) and
``classifier`` (the dense head), each an ``nn.Sequential``, so state_dict keys are
``features.0.weight`` (32, 1, 3, 3), ``features.3.weight`` (64, 32, 3, 3),
``classifier.1.weight`` (dense, 1600) and ``classifier.3.weight`` (10, dense).
"""
from minigrad import nn

__all__ = ["SeedCNN"]


class SeedCNN(nn.Module):
    """Conv(32,3×3)-ReLU-MaxPool2-Conv(64,3×3)-ReLU-MaxPool2-Flatten-Dense(dense)-ReLU-Dense(10).

    Args:
        dense: width of the hidden dense layer, 64 or 128 in the seed (any positive int works).
        num_classes: output logits (10 for MNIST).
        in_channels: image channels (1 for MNIST). The 1600-feature flatten assumes 28×28.

    Input (N, in_channels, 28, 28) → logits (N, num_classes)."""

    def __init__(self, dense=64, num_classes=10, in_channels=1):
        super().__init__()
        if dense <= 0:
            raise ValueError(f"dense must be a positive width, got {dense}")
        self.dense = dense
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 5 * 5, dense),
            nn.ReLU(),
            nn.Linear(dense, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
