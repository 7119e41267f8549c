"""The one-page engine (minigrad/textbook/tiny_engine.py) against the real one.

The same two-layer MLP (relu, broadcast bias, log-softmax NLL), from the same float64
weights and batches, is trained for a few SGD steps in both engines; every gradient and
every updated weight must agree to ~1e-12. Then the two properties the page claims:
backward needs no recursion, and a dropped graph frees itself by reference counting.
"""
import gc
import sys
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.textbook import tiny_engine as tiny

N, D, H, C = 16, 7, 5, 4          # batch, inputs, hidden units, classes
LR, STEPS = 0.5, 3


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    weights = {"w1": rng.standard_normal((D, H)) / np.sqrt(D), "b1": rng.standard_normal(H),
               "w2": rng.standard_normal((H, C)) / np.sqrt(H), "b2": rng.standard_normal(C)}
    batches = [(rng.standard_normal((N, D)), rng.integers(0, C, size=N)) for _ in range(STEPS)]
    return weights, batches


def tiny_loss(p, x, labels):
    """NLL of log-softmax: −(1/N) Σᵢ log p(labelᵢ | xᵢ), the one-hot picking each row's term."""
    one_hot = (labels[:, None] == np.arange(C)).astype(np.float64)   # (N, C)
    h = (tiny.Tensor(x) @ p["w1"] + p["b1"]).relu()                   # b1 (H,) broadcast to (N, H)
    log_p = (h @ p["w2"] + p["b2"]).log_softmax()                     # (N, C)
    return (log_p * one_hot).sum() * (-1.0 / len(labels))


def mg_loss(p, x, labels):
    h = mg.relu(mg.tensor(x) @ p["w1"] + p["b1"])
    return mg.nn.functional.cross_entropy(h @ p["w2"] + p["b2"], mg.tensor(labels))


def test_mlp_trains_identically_in_both_engines():
    weights, batches = make_problem()
    tp = {k: tiny.Tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
    mp = {k: mg.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
    optimizer = mg.optim.SGD(list(mp.values()), lr=LR)
    for x, labels in batches:
        t_loss, m_loss = tiny_loss(tp, x, labels), mg_loss(mp, x, labels)
        assert abs(float(t_loss.data) - m_loss.item()) < 1e-12
        optimizer.zero_grad()
        t_loss.backward()
        m_loss.backward()
        for k in weights:
            assert tp[k].grad.shape == weights[k].shape          # bias grads reduced by sum_to
            np.testing.assert_allclose(tp[k].grad, mp[k].grad.numpy(), rtol=0, atol=1e-12)
            tp[k].data -= LR * tp[k].grad
            tp[k].grad = None
        optimizer.step()
        for k in weights:
            np.testing.assert_allclose(tp[k].data, mp[k].detach().numpy(), rtol=0, atol=1e-12)
    assert not np.allclose(tp["w1"].data, weights["w1"])   # the weights did move


def test_gradients_match_central_differences():
    """An oracle independent of minigrad: (f(θ + εe) − f(θ − εe)) / 2ε for every entry."""
    weights, [(x, labels), *_] = make_problem(seed=1)
    tp = {k: tiny.Tensor(v, requires_grad=True) for k, v in weights.items()}
    tiny_loss(tp, x, labels).backward()
    eps = 1e-6
    for k, v in weights.items():
        numeric = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            up, down = dict(weights), dict(weights)
            up[k], down[k] = v.copy(), v.copy()
            up[k][i] += eps
            down[k][i] -= eps
            f = lambda w: float(tiny_loss({n: tiny.Tensor(a) for n, a in w.items()}, x, labels).data)
            numeric[i] = (f(up) - f(down)) / (2 * eps)
        np.testing.assert_allclose(tp[k].grad, numeric, rtol=1e-6, atol=1e-8)


def test_reused_tensors_sum_their_gradients():
    """h = x + x feeds three edges (a diamond of non-leaf nodes): Σ (h ⊙ h + h) has
    ∂/∂h = 2h + 1, so ∂/∂x = 2(2h + 1) = 8x + 2; a leaf read twice (x ⊙ x) gives 2x."""
    x = tiny.Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    h = x + x
    (h * h + h).sum().backward()
    np.testing.assert_array_equal(x.grad, [[10.0, -14.0, 26.0]])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, -4.0, 6.0]])


def test_ten_thousand_adds_need_no_recursion():
    x = tiny.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y + x
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)          # a recursive walk of this chain would fail at once
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert float(y.data) == 10_001.0 and float(x.grad) == 10_001.0


def test_a_dropped_graph_is_freed_by_reference_counting():
    weights, [(x, labels), *_] = make_problem()
    tp = {k: tiny.Tensor(v, requires_grad=True) for k, v in weights.items()}
    gc.disable()                        # no cycle collector: reference counting alone
    try:
        loss = tiny_loss(tp, x, labels)
        node = weakref.ref(loss.node)
        log_p = loss.node.inputs[0].node.inputs[0].node.inputs[0]    # sum ← mul ← log_softmax
        assert isinstance(log_p.node, tiny.LogSoftmax)
        log_p_ref, first_node = weakref.ref(log_p), weakref.ref(log_p.node)
        assert log_p.node.output() is log_p    # the node sees its output, but only weakly
        del log_p
        loss.backward()
        assert node() is not None and first_node() is not None   # alive while loss is
        del loss
        assert node() is None and log_p_ref() is None and first_node() is None
        assert tp["w1"].grad is not None        # the leaves and their grads survive
    finally:
        gc.enable()


@pytest.mark.parametrize("shape, target", [((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), ()),
                                           ((2, 3, 4), (1, 3, 1)), ((5,), (5,))])
def test_sum_to_is_the_adjoint_of_broadcasting(shape, target):
    """⟨broadcast(v), g⟩ = ⟨v, sum_to(g)⟩ for every v, g: sum_to is broadcasting's VJP."""
    rng = np.random.default_rng(2)
    g, v = rng.standard_normal(shape), rng.standard_normal(target)
    reduced = tiny.sum_to(g, target)
    assert reduced.shape == target
    assert np.isclose(np.sum(np.broadcast_to(v, shape) * g), np.sum(v * reduced), atol=1e-12)
