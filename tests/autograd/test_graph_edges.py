"""The graph's named edges and the engine's two front ends: every edge is an
``Edge(node, slot)``, a leaf's node is its one ``AccumulateGrad``, ``backward(inputs=...)``
accumulates only into the named tensors, ``torch.autograd.backward`` works, and
``gradcheck`` refuses the options it does not implement."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.function import AccumulateGrad, Edge


def test_edges_are_named_and_leaves_share_one_accumulator():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])                        # needs no gradient: no edge
    y = x * c
    z = y + x
    mul_edges = y.grad_fn.next_edges
    assert isinstance(mul_edges[0], Edge) and mul_edges[1] is None
    accumulator = mul_edges[0].node
    assert isinstance(accumulator, AccumulateGrad) and accumulator.variable is x
    add_edges = z.grad_fn.next_edges
    assert add_edges[0] == Edge(y.grad_fn, 0)
    assert add_edges[1].node is accumulator           # the same node for every use of x
    # PyTorch's view: next_functions holds the same AccumulateGrad object every time.
    assert z.grad_fn.next_functions[1][0] is z.grad_fn.next_functions[1][0] is accumulator
    assert y.grad_fn.next_functions[1] == (None, 0)


def test_accumulator_lives_with_the_graph_not_the_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    accumulator = weakref.ref(y.grad_fn.next_edges[0].node)
    del y
    gc.collect()
    assert accumulator() is None                     # the leaf held it only weakly
    (x * 3.0).sum().backward()                        # a new graph gets a new one
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_leaf_gradients_are_summed_before_accumulating():
    x = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    x.grad = mg.tensor(1.0, dtype=mg.float64)
    (x * 3.0 + x * x).backward()                      # 3 + 2x = 7 reaches x once
    assert x.grad.item() == 8.0


def test_backward_inputs_accumulates_only_into_those_tensors():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    h = a * b
    h.retain_grad()
    loss = (h * h).sum()
    loss.backward(inputs=[a], retain_graph=True)      # d(ab)²/da = 2ab²
    np.testing.assert_allclose(a.grad.numpy(), [2 * 1 * 9, 2 * 2 * 16])
    assert b.grad is None and h.grad is not None      # retain_grad still fires
    loss.backward(inputs=b)                           # a single tensor works too: 2a²b
    np.testing.assert_allclose(b.grad.numpy(), [2 * 1 * 3, 2 * 4 * 4])
    np.testing.assert_allclose(a.grad.numpy(), [18, 64])   # untouched the second time


def test_backward_inputs_may_name_an_intermediate():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    h = x * 3.0
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), [6.0, -12.0])
    assert x.grad is None


def test_autograd_backward_with_several_roots():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = (x * x).sum(), (x * 3.0).sum()
    mg.autograd.backward([y1, y2], [mg.tensor(1.0), mg.tensor(2.0)])
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 6.0, 4.0 + 6.0])


def test_grad_of_a_leaf_with_respect_to_itself():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.autograd.grad(x, x, grad_outputs=mg.tensor([5.0, 7.0]))
    np.testing.assert_allclose(g.numpy(), [5.0, 7.0])
    assert x.grad is None


@pytest.mark.parametrize("option", [dict(fast_mode=True), dict(check_batched_grad=True),
                                    dict(check_forward_ad=True), dict(masked=True),
                                    dict(check_backward_ad=False)])
def test_gradcheck_refuses_options_it_does_not_implement(option):
    x = mg.tensor([0.5, 1.5], dtype=mg.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match=next(iter(option))):
        mg.autograd.gradcheck(lambda t: t * t, (x,), **option)


def test_gradgradcheck_refuses_options_it_does_not_implement():
    x = mg.tensor([0.5, 1.5], dtype=mg.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="gen_non_contig_grad_outputs"):
        mg.autograd.gradgradcheck(lambda t: t * t, (x,), gen_non_contig_grad_outputs=True)


def test_gradcheck_check_grad_dtypes():
    class WrongDtype(mg.autograd.Function):
        def forward(self, x):
            return x.array * 2

        def backward(self, dy):
            return (dy * 2).to(mg.float32)

    x = mg.tensor([0.5, 1.5], dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: t * 2, (x,), check_grad_dtypes=True)
    with pytest.raises(mg.autograd.GradcheckError, match="dtype"):
        mg.autograd.gradcheck(WrongDtype.apply, (x,), check_grad_dtypes=True, atol=1e-3)
