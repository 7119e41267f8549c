"""Tensor hooks (register_hook, register_post_accumulate_grad_hook, retain_grad's order),
graph-node hooks (grad_fn.register_hook / register_prehook) and handles: the same program
runs on minigrad and PyTorch and must log the same calls and gradients."""
import numpy as np
import pytest

import minigrad as mg


def tensor_hook_program(lib):
    """A program exercising tensor hooks; returns its log of (event, values)."""
    log = []
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    x.register_hook(lambda g: log.append(("leaf", g.tolist())) or g * 2)
    y = x * 3
    y.register_hook(lambda g: log.append(("y1", g.tolist())) or g + 1)
    y.retain_grad()                                   # sees the gradient after the hooks
    y.register_hook(lambda g: log.append(("y2", g.tolist())))
    z = (y * y).sum()
    z.backward(retain_graph=True)
    log.append(("x.grad", x.grad.tolist()))
    log.append(("y.grad", y.grad.tolist()))
    log.append(("grad wrt x", [g.tolist() for g in lib.autograd.grad(z, x, retain_graph=True)]))
    log.append(("grad wrt y", [g.tolist() for g in lib.autograd.grad(z, y)]))
    # post-accumulate hooks see the new .grad
    x.grad = None
    handle = x.register_post_accumulate_grad_hook(lambda t: log.append(("post", t.grad.tolist())))
    (x * x).sum().backward()
    handle.remove()
    handle.remove()                                   # twice is fine
    (x * 1).sum().backward()
    log.append(("x.grad after", x.grad.tolist()))
    # a root's hook gets the seed gradient; removing a hook restores the gradient
    a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    b = a * 2
    h = b.register_hook(lambda g: g * 100)
    b.register_hook(lambda g: log.append(("root", g.tolist())))
    h.remove()
    b.backward(lib.tensor([1.0, -1.0], dtype=lib.float64))
    log.append(("a.grad", a.grad.tolist()))
    # a hook on one output of a multi-output op
    c = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    top, bottom = c.unbind(0)
    bottom.register_hook(lambda g: g * 0)
    (top * bottom).sum().backward()
    log.append(("c.grad", c.grad.tolist()))
    return log


def test_tensor_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    assert tensor_hook_program(mg) == tensor_hook_program(torch)


def test_tensor_hook_values():
    log = dict((k, v) for k, v in tensor_hook_program(mg) if k in ("x.grad", "y.grad", "c.grad"))
    # dz/dy = 2y = [6, 12, 18], +1 by the first hook; dz/dx = 3·that, doubled by the leaf hook
    assert log["y.grad"] == [7.0, 13.0, 19.0]
    assert log["x.grad"] == [42.0, 78.0, 114.0]
    assert log["c.grad"] == [[3.0, 4.0], [0.0, 0.0]]


def test_hook_errors():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.ones(2).register_hook(lambda g: g)
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        y = x * 2
        y.register_hook(lambda g: g.sum())
        with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
            y.sum().backward()


def test_hooks_see_create_graph_gradients():
    """With create_graph, the hook's replacement is part of the double-backward graph."""
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x ** 2
    y.register_hook(lambda g: g * x)          # dL/dy · x
    (gx,) = mg.autograd.grad(y.sum(), x, create_graph=True)
    assert gx.tolist() == [2.0, 8.0]          # 2x · x
    (ggx,) = mg.autograd.grad(gx.sum(), x)
    assert ggx.tolist() == [4.0, 8.0]         # d(2x²)/dx


def node_hook_program(lib):
    log = []
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, 0.5, 0.5], dtype=lib.float64, requires_grad=True)
    y = x * w
    y.grad_fn.register_prehook(lambda go: log.append(("pre", [g.tolist() for g in go]))
                               or (go[0] * 2,))
    y.grad_fn.register_hook(lambda gi, go: log.append(
        ("post", [None if g is None else g.tolist() for g in gi], [g.tolist() for g in go]))
        or (gi[0], gi[1] * 0))
    y.sum().backward()
    log.append(("grads", x.grad.tolist(), w.grad.tolist()))
    return log


def test_node_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = node_hook_program(mg)
    assert ours == node_hook_program(torch)
    assert ours[-1] == ("grads", [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])


def test_no_hook_costs_nothing_in_the_graph():
    """Without hooks no node or leaf carries any hook state."""
    x = mg.randn(3, requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn._hooks is None and x._hooks is None
    y.sum().backward()
    handle = x.register_hook(lambda g: g)
    assert x._hooks is not None
    handle.remove()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.detach().numpy()))


def test_removable_handle_is_a_context_manager():
    x = mg.ones(2, requires_grad=True)
    with x.register_hook(lambda g: g * 5):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    assert mg.utils.hooks.RemovableHandle is type(x.register_hook(lambda g: None))
