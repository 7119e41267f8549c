"""The Functions whose array maths moved into ``kernels`` (erf, sigmoid, GELU, layer norm,
cross-entropy): they dispatch through the catalogue, so a fused kernel replaces the
reference without touching the Function; float32 stays float32; and the backward used
under ``create_graph`` (Tensor ops) agrees with the kernel backward and differentiates
again."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad_kernels.catalogue import CATALOGUE
from tests.nn.parity import leaf as leaf_on


def leaf(array):
    """A float64 CPU leaf: these tests put test kernels on the numpy backend."""
    return leaf_on(array, device="cpu")

BACKEND = "entry-point-test"


@pytest.fixture
def spy_backend():
    """A test backend whose kernels record their calls and delegate to the reference."""
    CATALOGUE.add_backend(BACKEND, device="numpy")
    calls = []

    def spy(name):
        reference = CATALOGUE.reference_impl(name)

        def kernel(*args):
            calls.append(name)
            return reference(*args)
        CATALOGUE.register(name, BACKEND, kernel)

    try:
        # Only the spies may run: the numba kernels of these names would be chosen first.
        with CATALOGUE.use(BACKEND):
            yield spy, calls
    finally:
        CATALOGUE.remove_backend(BACKEND)


@pytest.mark.parametrize("call, names", [
    (lambda x: mg.erf(x), ["erf"]),
    (lambda x: mg.erfc(x), ["erfc"]),
    (lambda x: mg.sigmoid(x), ["sigmoid"]),
    (lambda x: F.silu(x), ["sigmoid"]),
    (lambda x: F.gelu(x), ["gelu", "gelu_backward"]),
    (lambda x: F.gelu(x, approximate="tanh"), ["gelu_tanh", "gelu_tanh_backward"]),
    (lambda x: F.layer_norm(x, (3,)), ["layer_norm_forward", "layer_norm_backward"]),
    (lambda x: F.cross_entropy(x, mg.tensor([0, 2])),
     ["cross_entropy_forward", "cross_entropy_backward"]),
])
def test_functions_dispatch_through_the_catalogue(spy_backend, call, names):
    spy, calls = spy_backend
    for name in names:
        spy(name)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32),
                  requires_grad=True)
    out = call(x)
    out.sum().backward()
    assert sorted(set(calls)) == sorted(names)
    assert out.dtype == mg.float32 and x.grad.dtype == mg.float32


def test_layer_norm_kernel_backward_matches_the_create_graph_backward():
    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal((2, 3, 4)))
    w, b = leaf(rng.standard_normal(4)), leaf(rng.standard_normal(4))
    dy = mg.tensor(rng.standard_normal((2, 3, 4)))
    plain = mg.autograd.grad(F.layer_norm(x, (4,), w, b), (x, w, b), dy)
    graphed = mg.autograd.grad(F.layer_norm(x, (4,), w, b), (x, w, b), dy, create_graph=True)
    for p, g in zip(plain, graphed):
        np.testing.assert_allclose(p.numpy(), g.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_kernel_backward_matches_the_create_graph_backward(approximate):
    rng = np.random.default_rng(6)
    x = leaf(rng.standard_normal((3, 5)) * 3)
    dy = mg.tensor(rng.standard_normal((3, 5)))
    plain = mg.autograd.grad(F.gelu(x, approximate=approximate), x, dy)[0]
    graphed = mg.autograd.grad(F.gelu(x, approximate=approximate), x, dy, create_graph=True)[0]
    np.testing.assert_allclose(plain.numpy(), graphed.detach().numpy(), rtol=1e-13, atol=1e-15)
    assert gradgradcheck(lambda v: F.gelu(v, approximate=approximate), (x,))


@pytest.mark.parametrize("affine", [(False, False), (True, False), (False, True)])
def test_layer_norm_gradchecks_without_full_affine(affine):
    rng = np.random.default_rng(3)
    x = leaf(rng.standard_normal((3, 2, 3)))
    w = leaf(rng.standard_normal((2, 3))) if affine[0] else None
    b = leaf(rng.standard_normal((2, 3))) if affine[1] else None
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def ln(*tensors):
        it = iter(tensors)
        return F.layer_norm(next(it), (2, 3), next(it) if affine[0] else None,
                            next(it) if affine[1] else None)
    assert gradcheck(ln, inputs) and gradgradcheck(ln, inputs)
    assert gradcheck(lambda v: F.layer_norm(v, (3, 2, 3)), (x,))     # no leading axes


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cross_entropy_kernel_and_create_graph_backwards_agree_and_gradgradcheck(reduction):
    rng = np.random.default_rng(4)
    x = leaf(rng.standard_normal((3, 4, 2)))
    t = mg.tensor(np.array([[1, -100], [3, 0], [-100, 2]]))
    w = mg.tensor(rng.uniform(0.5, 2.0, 4))
    loss = lambda v: F.cross_entropy(v, t, w, reduction=reduction,  # noqa: E731
                                     label_smoothing=0.2)
    out = loss(x)
    dl = mg.tensor(rng.standard_normal(out.shape))
    plain = mg.autograd.grad(loss(x), x, dl)[0]
    graphed = mg.autograd.grad(loss(x), x, dl, create_graph=True)[0]
    np.testing.assert_allclose(plain.numpy(), graphed.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert gradcheck(loss, (x,)) and gradgradcheck(loss, (x,))


def test_cross_entropy_with_every_target_ignored_double_backward_is_zero():
    x = leaf(np.random.default_rng(5).standard_normal((2, 3)))
    t = mg.tensor(np.array([-100, -100]))
    (g,) = mg.autograd.grad(F.cross_entropy(x, t), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), 0.0)
    assert np.isnan(F.cross_entropy(x, t).item())


def test_cross_entropy_still_rejects_out_of_range_targets():
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(mg.randn(2, 3), mg.tensor([0, 5]))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cross_entropy_takes_the_fused_entry_point_where_a_kernel_takes_it(spy_backend,
                                                                           reduction):
    """With an optimised ``cross_entropy_forward_backward`` (here a spy on the numpy backend;
    on a GPU the numba.cuda kernel), the forward writes dx₁ and the backward scales it:
    no ``cross_entropy_backward`` call, and the same gradient as the unfused path."""
    spy, calls = spy_backend
    spy("cross_entropy_forward_backward")
    spy("cross_entropy_backward")
    rng = np.random.default_rng(8)
    t = mg.tensor(np.array([[1, -100], [3, 0], [-100, 2]]))
    w = mg.tensor(rng.uniform(0.5, 2.0, 4))
    x = leaf(rng.standard_normal((3, 4, 2)))
    loss = F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.2)
    dl = mg.tensor(rng.standard_normal(loss.shape))
    (fused,) = mg.autograd.grad(loss, x, dl)
    assert calls == ["cross_entropy_forward_backward"]
    with CATALOGUE.use("reference"):
        plain_loss = F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.2)
        (plain,) = mg.autograd.grad(plain_loss, x, dl)
    np.testing.assert_allclose(loss.detach().numpy(), plain_loss.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-14)
    calls.clear()
    with mg.no_grad():
        F.cross_entropy(x, t, w, reduction=reduction)      # no gradient wanted: not fused
    assert calls == []
