"""A two-layer sigmoid network (docs/seeds.md#seed-000), trained on MNIST with raw tensor ops.

In column convention the network is

    L1 = σ(W1 X + b1),   L2 = σ(W2 L1 + b2),   J = ½ ‖L2 − Y‖²,

with the hand-derived δ rule  δ2 = (L2 − Y) ⊙ σ′(Z2),  δ1 = (W2ᵀ δ2) ⊙ σ′(Z1), where
σ′(Z) = σ(Z)(1 − σ(Z)) = L(1 − L), and the updates W := W − α ∂J/∂W with
∂J/∂W2 = δ2 L1ᵀ, ∂J/∂b2 = Σ_batch δ2 (docs/seeds.md#errata-000). With row-major batches
(X of shape (N, 784)) the same network reads L1 = σ(X W1ᵀ + b1), PyTorch's Linear layout.

This demo builds exactly that from tensors and lets autograd produce the gradients; on the
first batch it also checks them against the δ formulas above computed by hand.
Run: ``python -m minigrad demo [--epochs 3] [--hidden 128] [--lr 2.0]``.
"""
import argparse
import time

import numpy as np

import minigrad as mg
from minigrad.datasets import MNIST


def _load(train):
    ds = MNIST(train=train, download=True)
    x = ds.array.reshape(len(ds.array), -1).astype(np.float32) / 255.0
    y = ds.targets.astype(np.int64)
    return x, y


def init_params(hidden, seed):
    """Xavier-uniform weights, W ~ U(±√(6/(fan_in + fan_out)))."""
    mg.manual_seed(seed)
    bound1, bound2 = (6 / (784 + hidden)) ** 0.5, (6 / (hidden + 10)) ** 0.5
    w1 = ((mg.rand(hidden, 784) * 2 - 1) * bound1).requires_grad_()
    w2 = ((mg.rand(10, hidden) * 2 - 1) * bound2).requires_grad_()
    b1 = mg.zeros(hidden, requires_grad=True)
    b2 = mg.zeros(10, requires_grad=True)
    return [w1, b1, w2, b2]


def forward(params, x):
    w1, b1, w2, b2 = params
    l1 = mg.sigmoid(x @ w1.T + b1)
    l2 = mg.sigmoid(l1 @ w2.T + b2)
    return l1, l2


def seed_delta_gradients(params, x, y_onehot):
    """The δ propagation above done by hand (mean over the batch), for comparison."""
    w1, b1, w2, b2 = [p.detach().numpy() for p in params]
    xv = x.numpy()
    l1 = 1 / (1 + np.exp(-(xv @ w1.T + b1)))
    l2 = 1 / (1 + np.exp(-(l1 @ w2.T + b2)))
    n = xv.shape[0]
    delta2 = (l2 - y_onehot) * l2 * (1 - l2) / n
    delta1 = (delta2 @ w2) * l1 * (1 - l1)
    return [delta1.T @ xv, delta1.sum(0), delta2.T @ l1, delta2.sum(0)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigrad demo", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.lr <= 0 or args.epochs < 1 or args.batch_size < 1:
        parser.error("--lr, --epochs and --batch-size must be positive")

    x_train, y_train = _load(train=True)
    x_test, y_test = _load(train=False)
    params = init_params(args.hidden, args.seed)
    eye = np.eye(10, dtype=np.float32)
    rng = np.random.default_rng(args.seed)
    print(f"MNIST: {len(x_train)} train / {len(x_test)} test images; network 784-{args.hidden}-10, "
          f"sigmoid, J = ½‖L2 − Y‖² (batch mean), SGD lr {args.lr}")
    for epoch in range(1, args.epochs + 1):
        start, total = time.perf_counter(), 0.0
        order = rng.permutation(len(x_train))
        for step, first in enumerate(range(0, len(order), args.batch_size)):
            idx = order[first:first + args.batch_size]
            x, y = mg.tensor(x_train[idx]), eye[y_train[idx]]
            _, l2 = forward(params, x)
            loss = ((l2 - mg.tensor(y)) ** 2).sum() * (0.5 / len(idx))
            loss.backward()
            if epoch == 1 and step == 0:
                by_hand = seed_delta_gradients(params, x, y)
                worst = max(float(np.abs(p.grad.numpy() - h).max()) for p, h in zip(params, by_hand))
                print(f"seed δ-rule gradients vs autograd on the first batch: max |diff| = {worst:.2e}")
            with mg.no_grad():
                for p in params:
                    p.sub_(p.grad * args.lr)
                    p.grad = None
            total += loss.item()
        accuracy = evaluate(params, x_test, y_test)
        print(f"epoch {epoch}: train loss {total / (step + 1):.4f}  test accuracy {accuracy:.2%}  "
              f"({time.perf_counter() - start:.1f} s)")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


def evaluate(params, x, y):
    with mg.no_grad():
        _, l2 = forward(params, mg.tensor(x))
    return float((l2.argmax(dim=1).numpy() == y).mean())


if __name__ == "__main__":
    main()
