"""Fully connected networks of seeds 004 and 002, on 28×28 greyscale images.

``SeedMLP`` (docs/seeds.md#seed-004): the dense network ``L1 = σ(W1 X + b1)`` … in the
column convention, which for row-major batches is ``X W1ᵀ + b1`` (``nn.Linear``)::

    x (N, 1, 28, 28) ─flatten→ (N, 784) ─Linear→ (N, 256) ─ReLU─Linear→ (N, 128)
      ─ReLU─Linear→ (N, 10) logits

    parameters: 784·256+256 + 256·128+128 + 128·10+10 = 235,146

Trained in the seed with SGD lr 0.001 momentum 0.9, batch 64, 10 epochs on MNIST
normalised by (x − 0.5)/0.5; it reports loss 1.7276 → 0.2929 and 98.0% test accuracy.
The loss is ``F.cross_entropy`` on the logits (log-softmax inside, never softmax then log).

``SeedBinaryMLP`` (docs/seeds.md#seed-002): Dense 128-64-1 with ReLU and a sigmoid output, trained
with Adam and binary cross-entropy; the seed leaves the task unspecified. Here the task is
**MNIST even vs odd digit** (label 1 for 1, 3, 5, 7, 9; the "mnist-binary" data set of
``models.registry``)::

    x (N, 1, 28, 28) ─flatten→ (N, 784) ─Linear→ (N, 128) ─ReLU─Linear→ (N, 64)
      ─ReLU─Linear→ (N, 1) logit z;   p = σ(z) = P(odd | x)

    parameters: 784·128+128 + 128·64+64 + 64·1+1 = 108,801

``forward`` returns the logit z, not σ(z): the loss is ``F.binary_cross_entropy_with_logits``
(``nn.BCEWithLogitsLoss``), which computes −[y log σ(z) + (1−y) log(1−σ(z))] as
``max(z, 0) − z·y + log(1 + e^{−|z|})``, finite for every z, whereas ``log σ(z)`` of an
already rounded σ(z) gives −∞ once σ(z) rounds to 0 or 1 (z ≈ −104 or 17 in float32).
Its gradient is simply ``(σ(z) − y)/N`` (a printed form flips the sign: docs/seeds.md#errata-002).
``predict_proba`` applies the sigmoid for inference.
"""
from minigrad import nn

__all__ = ["SeedMLP", "SeedBinaryMLP", "odd_digit_target"]


class SeedMLP(nn.Module):
    """Seed 004's MLP 784-256-128-10 with ReLU. Input (N, 1, 28, 28) or (N, 784) → logits
    (N, num_classes). Submodules ``flatten``, ``fc1``, ``fc2``, ``fc3`` (state_dict keys
    ``fc1.weight`` (256, 784) …)."""

    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10):
        super().__init__()
        h1, h2 = hidden
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.flatten(x)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


class SeedBinaryMLP(SeedMLP):
    """Seed 002's binary classifier 784 → 128 → 64 → 1 (ReLU hidden layers). Input
    (N, 1, 28, 28) or (N, 784) → one logit per sample, shape (N, 1). Train with
    ``nn.BCEWithLogitsLoss`` on float targets (N, 1); ``predict_proba`` gives σ(logit)."""

    def __init__(self, in_features=784, hidden=(128, 64)):
        super().__init__(in_features, hidden, num_classes=1)

    def predict_proba(self, x):
        """P(y = 1 | x) = σ(forward(x)), shape (N, 1)."""
        return self.forward(x).sigmoid()


def odd_digit_target(labels):
    """The binary task's target for digit labels: 1 for an odd digit, 0 for an even one
    (works on minigrad tensors, numpy arrays and ints alike)."""
    return labels % 2
