"""Graphs free themselves by reference counting: dropping the outputs of a forward pass that
never ran backward leaves nothing for the cycle collector (PyTorch's behaviour). A node
holds its outputs weakly and saved outputs do not hold their node, so no op, module or
in-place write may build a reference cycle."""
import gc
import tracemalloc

import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


def _cycles_left_by(make):
    """Objects the cycle collector finds after building a graph with ``make`` and dropping it."""
    out = make()           # warm-up: first calls may create caches that live on purpose
    del out
    gc.collect()
    gc.disable()
    try:
        out = make()
        del out
        return gc.collect()
    finally:
        gc.enable()


def _leaf(*shape):
    return mg.randn(*shape, dtype=mg.float64, requires_grad=True)


X, X2, TOKENS = _leaf(8), _leaf(2, 8), mg.tensor([1, 0])
IMAGES = _leaf(2, 1, 8, 8)

OPS = {
    "exp": lambda: X.exp(), "tanh": lambda: X.tanh(), "sigmoid": lambda: X.sigmoid(),
    "sqrt": lambda: (X * X).sqrt(), "pow": lambda: X ** 3, "softmax": lambda: X.softmax(0),
    "log_softmax": lambda: X2.log_softmax(1), "logsumexp": lambda: X2.logsumexp(1),
    "cross_entropy": lambda: F.cross_entropy(X2, TOKENS),
    "layer_norm": lambda: F.layer_norm(X2, (8,)), "gelu": lambda: F.gelu(X2),
    "batch_norm": lambda: F.batch_norm(X2, None, None, training=True),
    "attention": lambda: F.scaled_dot_product_attention(X2[None], X2[None], X2[None],
                                                        is_causal=True),
    "linear_relu": lambda: F.relu(F.linear(X2, X2)).sum(),
    "conv_pool": lambda: F.max_pool2d(F.conv2d(IMAGES, mg.ones(2, 1, 3, 3, dtype=mg.float64)), 2),
    "inplace_self": lambda: (X * 2).mul_(X * 3).add_(1),
    "inplace_same_tensor": lambda: _square_in_place(X * 2),
}


def _square_in_place(y):
    return y.mul_(y)


@pytest.mark.parametrize("name", sorted(OPS))
def test_a_dropped_graph_leaves_no_cycle(name):
    assert _cycles_left_by(OPS[name]) == 0


MODULES = {
    "lstm": (lambda: nn.LSTM(4, 5, batch_first=True), lambda m: m(mg.randn(2, 3, 4))[0]),
    "gru": (lambda: nn.GRU(4, 5), lambda m: m(mg.randn(3, 2, 4))[0]),
    "multihead_attention": (lambda: nn.MultiheadAttention(8, 2, batch_first=True),
                            lambda m: m(*(mg.randn(2, 3, 8),) * 3)[0]),
    "transformer_layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                          lambda m: m(mg.randn(2, 3, 8))),
    "cnn_block": (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(),
                                        nn.MaxPool2d(2), nn.Dropout(0.5)),
                  lambda m: m(mg.randn(2, 1, 8, 8))),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_forward_without_backward_leaves_no_cycle(name):
    build, run = MODULES[name]
    module = build()
    assert _cycles_left_by(lambda: run(module).sum()) == 0


def test_squaring_in_place_is_still_stale_like_torch():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.mul_(y)                     # saved the pre-write y, then wrote it: PyTorch raises too
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_evaluation_without_no_grad_keeps_memory_flat():
    # Each softmax output (4 MB) and its graph go as soon as the next replaces it; before
    # the fix, 300 passes held ~290 MB until the cycle collector ran.
    x = mg.randn(1000, 1000, requires_grad=True)
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(60):
            y = x.softmax(-1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.enable()
    del y
    assert peak < 24 * 2 ** 20, f"peak {peak / 2**20:.1f} MiB"
