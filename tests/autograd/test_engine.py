"""The backward engine: graph shapes (reuse, diamonds, depth), memory, grad modes, retain_graph,
retain_grad, autograd.grad and its options, and errors on misuse."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import grad


def scalar(t):
    return t.sum_to_size(())


def test_reused_node_accumulates(device):
    x = mg.tensor([2.0, 3.0], requires_grad=True, device=device)
    y = x * x * x  # x used three times
    scalar(y).backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 3 * np.array([2.0, 3.0]) ** 2)


def test_diamond_graph(device):
    x = mg.tensor(1.5, dtype=mg.float64, requires_grad=True, device=device)
    a = x * 2.0
    b = a * a          # two paths from a
    c = a + b
    d = c * b          # b reused
    d.backward()
    # d = (2x + 4x²)·4x² = 8x³ + 16x⁴ → d′ = 24x² + 64x³
    assert x.grad.item() == pytest.approx(24 * 1.5 ** 2 + 64 * 1.5 ** 3)


def test_chain_of_100k_ops_needs_no_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_intermediates_freed_after_backward(device):
    x = mg.randn(4, requires_grad=True, device=device)
    hidden = x * 2.0
    probe = weakref.ref(hidden)
    out = scalar(hidden * hidden)
    del hidden
    assert probe() is not None  # still owned by the graph through `out`
    out.backward()
    del out
    gc.collect()
    assert probe() is None


def test_graph_freed_when_output_dropped_without_backward():
    x = mg.randn(4, requires_grad=True)
    h = x * 3.0
    node = weakref.ref(h.grad_fn)
    y = h * h
    del h, y
    assert node() is None  # no reference cycles: freed by refcounting alone


def test_second_backward_through_freed_graph_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = scalar(x * x)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward_and_accumulates(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = scalar(x * x)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * 2 * np.array([1.0, 2.0]))


def test_retain_grad_on_intermediate(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    h = x * 3.0
    h.retain_grad()
    scalar(h * h).backward()
    np.testing.assert_allclose(h.grad.cpu().numpy(), 2 * 3 * np.array([1.0, 2.0]))
    assert h.grad.grad_fn is None
    y = x * 2.0
    scalar(y).backward()
    assert y.grad is None  # not retained


def test_no_grad_and_enable_grad(device):
    x = mg.ones(2, requires_grad=True, device=device)
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @mg.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert mg.is_grad_enabled()


def test_autograd_grad_does_not_touch_dot_grad(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    w = mg.tensor([3.0, 4.0], requires_grad=True, device=device)
    (gx,) = grad(scalar(x * w), x)
    np.testing.assert_allclose(gx.cpu().numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_wrt_intermediate_and_unused(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    unused = mg.tensor([5.0], requires_grad=True, device=device)
    h = x * 2.0
    y = scalar(h * h)
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(y, [h, unused], retain_graph=True)
    gh, gu = grad(y, [h, unused], allow_unused=True)
    np.testing.assert_allclose(gh.cpu().numpy(), 2 * np.array([2.0, 4.0]))
    assert gu is None


def test_higher_order_gradients(device):
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True, device=device)
    y = scalar(x ** 4)
    (g1,) = grad(y, x, create_graph=True)
    (g2,) = grad(scalar(g1), x, create_graph=True)
    (g3,) = grad(scalar(g2), x)
    xv = np.array([0.5, -1.5])
    np.testing.assert_allclose(g1.detach().cpu().numpy(), 4 * xv ** 3)
    np.testing.assert_allclose(g2.detach().cpu().numpy(), 12 * xv ** 2)
    np.testing.assert_allclose(g3.cpu().numpy(), 24 * xv)


def test_backward_create_graph_then_grad_of_grad(device):
    x = mg.tensor(3.0, dtype=mg.float64, requires_grad=True, device=device)
    y = x * x * x
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = grad(g, x)
    assert gg.item() == pytest.approx(18.0)


def test_backward_on_non_scalar_needs_gradient(device):
    x = mg.ones(3, requires_grad=True, device=device)
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(mg.tensor([1.0, 2.0, 3.0], device=device))
    np.testing.assert_allclose(x.grad.cpu().numpy(), [2.0, 4.0, 6.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(mg.ones(4, device=device))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum_to_size(()).backward()


def test_requires_grad_on_int_tensor_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        mg.arange(3).requires_grad_()


def test_requires_grad_cannot_be_cleared_on_non_leaf():
    h = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        h.requires_grad = False


def test_detach_shares_data_and_version():
    x = mg.ones(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    with mg.no_grad():
        x.add_(1)
    assert d.tolist() == [2.0, 2.0, 2.0]
    assert d._version == x._version == 1


def test_leaf_with_grad_keeps_its_dtype(device):
    x = mg.ones(2, dtype=mg.float32, requires_grad=True, device=device)
    y = x.double() * mg.tensor([1.0, 2.0], dtype=mg.float64, device=device)
    scalar(y).backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.cpu().numpy(), [1.0, 2.0])


def test_custom_function_gradcheck_failure_message():
    class WrongDouble(mg.autograd.Function):
        def forward(self, x):
            return x.array * 2

        def backward(self, dy):
            return dy * 3

    x = mg.tensor(np.array([0.5, 1.0]), requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError) as info:
        mg.autograd.gradcheck(WrongDouble.apply, (x,))
    text = str(info.value)
    for piece in ("analytic 3", "numeric 2", "eps=1e-06", "atol=1e-05", "rtol=0.001", "input 0"):
        assert piece in text
    assert mg.autograd.gradcheck(WrongDouble.apply, (x,), raise_exception=False) is False


def test_leaf_grads_do_not_share_arrays(device):
    a = mg.ones(3, requires_grad=True, device=device)
    b = mg.ones(3, requires_grad=True, device=device)
    g = mg.tensor([1.0, 2.0, 3.0], device=device)
    (a + b).backward(g)
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 2.0, 3.0] and g.tolist() == [1.0, 2.0, 3.0]


def test_autograd_grad_with_an_input_listed_twice(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    h = x * 2.0
    g1, g2, g3 = grad(scalar(h * x), [x, h, x])
    assert g1.tolist() == g3.tolist() == [4.0, 8.0]
    assert g2.tolist() == [1.0, 2.0]


def test_zero_dim_results_are_arrays_and_clone_keeps_shape():
    a = mg.tensor(2.0)
    assert (a * 2.0).array.shape == () and a.clone().shape == ()
