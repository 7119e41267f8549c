"""In-place ops (add_ sub_ mul_ div_ zero_ fill_ copy_, clamp_ and masked_fill_ once their
families exist): values against PyTorch, autograd through in-place writes on non-leaves,
the version counter (stale saved tensors raise), the leaf rule, and no_grad updates."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from tests.strategies import broadcastable_shapes, float_arrays


def run_on_both(script, arrays, *, device):
    """Run ``script(module, *leaves)`` on minigrad (leaves on ``device``) and on CPU torch
    with float64 leaves that require grad; return both outputs and both sets of gradients
    (for a random upstream), as host arrays."""
    torch = pytest.importorskip("torch")
    results = []
    for module in (mg, torch):
        where = {"device": device} if module is mg else {}
        leaves = [module.tensor(a, requires_grad=True, **where) for a in arrays]
        out = script(module, *leaves)
        upstream = module.tensor(np.random.default_rng(0).standard_normal(tuple(out.shape)),
                                 **where)
        grads = module.autograd.grad(out, leaves, grad_outputs=upstream, allow_unused=True)
        results.append((out.detach().cpu().numpy(),
                        [None if g is None else g.cpu().numpy() for g in grads]))
    return results


def assert_same_on_both(script, arrays, *, device):
    (ours, our_grads), (theirs, their_grads) = run_on_both(script, arrays, device=device)

    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    for g, e in zip(our_grads, their_grads):
        if e is None:  # torch: unused; minigrad may say None or zeros
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
@given(shapes=broadcastable_shapes(max_dims=3, max_side=4), data=st.data())
def test_binary_inplace_values_match_torch(name, shapes, data, device):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = shapes
    target = np.broadcast_shapes(shape_a, shape_b)
    a = data.draw(float_arrays(target))
    b = np.asarray(data.draw(float_arrays(shape_b)) + 4.0)  # nonzero divisors
    ours, theirs = mg.tensor(a, device=device), torch.tensor(a)
    assert getattr(ours, name)(mg.tensor(b, device=device)) is ours
    getattr(theirs, name)(torch.tensor(b))
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-12)
    assert ours._version == 1


@pytest.mark.parametrize("name,alpha", [("add_", 2.5), ("sub_", -3)])
def test_alpha_and_scalar_operands(name, alpha, device):
    torch = pytest.importorskip("torch")
    a, b = [1.0, -2.0, 3.0], [0.5, 0.5, 2.0]
    ours, theirs = mg.tensor(a, device=device), torch.tensor(a)
    getattr(ours, name)(mg.tensor(b, device=device), alpha=alpha)
    getattr(theirs, name)(torch.tensor(b), alpha=alpha)
    assert ours.tolist() == theirs.tolist()
    ours.mul_(2).div_(4.0).add_(np.float64(1.0))
    theirs.mul_(2).div_(4.0).add_(np.float64(1.0))
    assert ours.tolist() == theirs.tolist() and ours.dtype == mg.float32


def test_operator_forms_write_in_place(device):
    x = mg.tensor([1.0, 2.0], device=device)
    alias = x
    x += 1.0
    x *= mg.tensor([2.0, 3.0], device=device)
    x -= 1
    x /= 2
    assert x is alias and x.tolist() == [1.5, 4.0] and x._version == 4


def test_inplace_cannot_broadcast_self(device):
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        mg.ones(3, device=device).add_(mg.ones(2, 3, device=device))


def test_zero_and_fill(device):
    torch = pytest.importorskip("torch")
    for value in (2.5, 3, True, mg.tensor(1.5, device=device)):
        ours, theirs = mg.ones(2, 3, device=device), torch.ones(2, 3)
        assert ours.fill_(value) is ours
        theirs.fill_(torch.tensor(1.5) if isinstance(value, mg.Tensor) else value)
        assert ours.tolist() == theirs.tolist()
    x = mg.tensor([1, 2, 3], device=device)
    assert x.zero_().tolist() == [0, 0, 0] and x.dtype == mg.int64 and x._version == 1
    with pytest.raises(RuntimeError, match="0-dimension"):
        mg.ones(2, device=device).fill_(mg.ones(2, device=device))


def test_copy_broadcasts_and_casts(device):
    x = mg.zeros(2, 3, device=device)
    assert x.copy_(mg.tensor([1, 2, 3], device=device)) is x
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2 and x.dtype == mg.float32
    y = mg.zeros(3, dtype=mg.int32, device=device)
    y.copy_(mg.tensor([1.7, 2.2, -0.5], dtype=mg.float64, device=device))
    assert y.tolist() == [1, 2, 0]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        mg.zeros(3, device=device).copy_(mg.ones(4, device=device))
    with pytest.raises(TypeError):
        mg.zeros(3, device=device).copy_([1.0, 2.0, 3.0])


def test_clamp_values_match_torch(device):
    pytest.importorskip("minigrad.ops.pointwise")
    torch = pytest.importorskip("torch")
    a = [-2.0, -0.5, 0.5, 3.0]
    for bounds in ((-1.0, 1.0), (0.0, None), (None, 0.0)):
        ours, theirs = mg.tensor(a, device=device), torch.tensor(a)
        assert ours.clamp_(*bounds) is ours
        theirs.clamp_(*bounds)
        assert ours.tolist() == theirs.tolist() and ours._version == 1


def test_masked_fill_values_match_torch(device):
    pytest.importorskip("minigrad.ops.indexing")
    torch = pytest.importorskip("torch")
    a, mask = [[1.0, 2.0], [3.0, 4.0]], [[True, False], [False, True]]
    ours, theirs = mg.tensor(a, device=device), torch.tensor(a)
    assert ours.masked_fill_(mg.tensor(mask, device=device), -1.0) is ours
    theirs.masked_fill_(torch.tensor(mask), -1.0)
    assert ours.tolist() == theirs.tolist()
    row = mg.tensor(a, device=device).masked_fill_(mg.tensor([False, True], device=device), 0.0)  # broadcast mask
    assert row.tolist() == [[1.0, 0.0], [3.0, 0.0]]


# ---------------------------------------------------------------------- autograd through writes
X, Y = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), np.array([1.25, -0.5, 2.0])

SCRIPTS = {
    "add_ other requires grad": lambda m, x, y: (lambda h: h.add_(y) * h)(x * 2.0),
    "sub_ alpha": lambda m, x, y: (lambda h: h.sub_(y, alpha=3.0) * x)(x * 1.0),
    "mul_ other requires grad": lambda m, x, y: (lambda h: h.mul_(y) + h * h)(x * 2.0),
    "mul_ by self's own input": lambda m, x, y: (lambda h: h.mul_(x) * 1.0)(x + 1.0),
    "div_ other requires grad": lambda m, x, y: (lambda h: h.div_(y + 3.0) * x)(x * x),
    "chain of writes": lambda m, x, y: (lambda h: h.add_(1.0).mul_(y).div_(2.0).sub_(x))(x * 3.0),
    "zero_": lambda m, x, y: (lambda h: h.zero_() + x * y)(x * 2.0),
    "fill_ with 0-d tensor": lambda m, x, y: (lambda h: h.fill_(y.sum_to_size(())) * x)(x * 2.0),
    "copy_ into non-leaf": lambda m, x, y: (lambda h: h.copy_(y * 2.0) * x)(x * 1.0),
    "copy_ into plain leaf": lambda m, x, y: m.zeros(2, 3, dtype=m.float64, device=x.device).copy_(y) * x,
    "add_ into plain leaf": lambda m, x, y: m.ones(2, 3, dtype=m.float64, device=x.device).add_(x).mul_(y),
    "write after a copy was taken": lambda m, x, y: write_after_copy(x, y),
}


def write_after_copy(x, y):
    h = x * 2.0
    k = h * 1.0  # recorded before the write; must keep the old value's gradient path
    return k + h.add_(y)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_autograd_through_inplace_matches_torch(name, device):
    assert_same_on_both(SCRIPTS[name], [X, Y], device=device)


def test_autograd_through_clamp_and_masked_fill_matches_torch(device):
    pytest.importorskip("minigrad.ops.pointwise")
    pytest.importorskip("minigrad.ops.indexing")
    mask = np.array([True, False, True])
    assert_same_on_both(lambda m, x, y: (lambda h: h.clamp_(-1.0, 1.0) * y)(x * 2.0), [X, Y],
                        device=device)
    assert_same_on_both(lambda m, x, y: (lambda h: h.masked_fill_(m.tensor(mask, device=x.device), 0.5) * h)(x * y),
                        [X, Y], device=device)


def test_inplace_on_non_leaf_moves_its_grad_fn(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    h = x * 2.0
    before = h.grad_fn
    h.add_(1.0)
    assert h.grad_fn is not before and not h.is_leaf and h.requires_grad
    plain = mg.zeros(2, device=device)
    plain.add_(x)
    assert plain.requires_grad and not plain.is_leaf


def test_gradgrad_through_inplace(device):
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True, device=device)
    h = x * x
    h.mul_(x)                       # h = x³
    (g,) = mg.autograd.grad(h, [x], grad_outputs=mg.ones(2, dtype=mg.float64, device=device),
                            create_graph=True)
    np.testing.assert_allclose(g.detach().cpu().numpy(), 3 * np.array([1.0, 4.0]))
    (gg,) = mg.autograd.grad(g, [x], grad_outputs=mg.ones(2, dtype=mg.float64, device=device))
    np.testing.assert_allclose(gg.cpu().numpy(), 6 * np.array([1.0, 2.0]))


# ---------------------------------------------------------------------- version counter
STALE = {
    "mul saves its input": lambda h: h * h,
    "div saves the divisor": lambda h: 1.0 / h,
    "pow saves its base": lambda h: h ** 2,
    "matmul saves operands": lambda h: h @ h.t(),
    "view saved": lambda h: h.view(-1) * h.view(-1),
}


@pytest.mark.parametrize("name", sorted(STALE))
def test_stale_saved_tensor_raises_at_backward(name, device):
    x = mg.ones(2, 2, requires_grad=True, device=device)
    h = x * 2.0
    out = STALE[name](h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward(mg.ones(out.shape, device=device))


def test_writes_that_nothing_saved_are_fine(device):
    x = mg.ones(3, requires_grad=True, device=device)
    h = x * 2.0
    out = h + 1.0  # Add saves no tensor
    h.mul_(5.0)
    out.backward(mg.ones(3, device=device))
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_multiplying_by_itself_in_place_is_stale_like_torch(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    h = x * 2.0
    h.mul_(h)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.backward(mg.ones(2, device=device))


def test_error_names_the_versions(device):
    x = mg.ones(2, requires_grad=True, device=device)
    h = x * 1.0
    out = h * h
    h.add_(1.0).add_(1.0)
    with pytest.raises(RuntimeError, match="is at version 2; expected version 0"):
        out.backward(mg.ones(2, device=device))


# ---------------------------------------------------------------------- leaves and no_grad
@pytest.mark.parametrize("write", [lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.zero_(),
                                   lambda t: t.fill_(3.0), lambda t: t.copy_(mg.zeros(2, device=t.device)),
                                   lambda t: t.sub_(mg.ones(2, device=t.device)), lambda t: t.div_(2.0)])
def test_leaf_requiring_grad_refuses_inplace(write, device):
    x = mg.ones(2, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        write(x)
    assert x.tolist() == [1.0, 1.0] and x._version == 0


def test_under_no_grad_a_leaf_can_be_updated_and_its_version_bumps(device):
    w = mg.ones(3, requires_grad=True, device=device)
    (w * 2.0).backward(mg.ones(3, device=device))
    with mg.no_grad():
        w.sub_(w.grad, alpha=0.1)
        w.mul_(2.0)
    assert w._version == 2 and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().cpu().numpy(), [1.6, 1.6, 1.6], rtol=1e-6)


def test_no_grad_write_to_a_saved_leaf_is_caught_at_backward(device):
    w = mg.ones(2, requires_grad=True, device=device)
    out = w * w
    with mg.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward(mg.ones(2, device=device))
