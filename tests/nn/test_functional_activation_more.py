"""The wider activation family (selu celu mish hardswish hardsigmoid softsign tanhshrink
softshrink hardshrink threshold prelu glu) and its modules: PyTorch parity of values and
gradients on hypothesis-drawn inputs and at every breakpoint, float64 gradcheck and
gradgradcheck, in-place forms, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import nonempty_shapes, tensors
from tests.nn.parity import leaf, run_both, compare_modules

ACTIVATIONS = {
    "selu": {}, "celu": {"alpha": 0.7}, "mish": {}, "hardswish": {}, "hardsigmoid": {},
    "softsign": {}, "tanhshrink": {}, "softshrink": {"lambd": 0.5},
    "hardshrink": {"lambd": 0.5}, "threshold": {"threshold": 0.5, "value": -2.0},
    "glu": {"dim": -1},
}
SMOOTH = ["selu", "celu", "mish", "softsign", "tanhshrink", "glu"]
INPLACE = ["selu", "celu", "mish", "hardswish", "hardsigmoid", "threshold"]


@given(st.sampled_from(sorted(ACTIVATIONS)),
       tensors(nonempty_shapes(min_dims=1, max_dims=3), low=-6.0, high=6.0),
       st.integers(0, 2 ** 16))
def test_matches_torch(device, name, x, seed):
    torch = pytest.importorskip("torch")
    x = on_device(x, device)
    if name == "glu" and x.shape[-1] % 2:
        x = on_device(mg.cat([x, x], dim=-1).detach().requires_grad_(), device)
    kwargs = ACTIVATIONS[name]
    run_both(torch, lambda t: getattr(F, name)(t, **kwargs),
             lambda t: getattr(torch.nn.functional, name)(t, **kwargs), [x], seed,
             rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"glu"}))
def test_gradients_at_breakpoints_match_torch(name, device):
    torch = pytest.importorskip("torch")
    kwargs = ACTIVATIONS[name]
    x = leaf([-4.0, -3.0, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 4.0, 30.0, -30.0], device=device)
    run_both(torch, lambda t: getattr(F, name)(t, **kwargs),
             lambda t: getattr(torch.nn.functional, name)(t, **kwargs), [x])


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_matches_torch(name, device):
    torch = pytest.importorskip("torch")
    kwargs = ACTIVATIONS[name]
    x = leaf(np.random.default_rng(1).uniform(-5, 5, (3, 4)), device=device)

    def ours(t):
        work = t * 1.0
        out = getattr(F, name)(work, inplace=True, **kwargs)
        assert out is work
        return out

    run_both(torch, ours, lambda t: getattr(torch.nn.functional, name)(t * 1.0, inplace=True,
                                                                       **kwargs), [x])


@settings(max_examples=10)
@given(st.sampled_from(SMOOTH), st.integers(0, 2 ** 16))
def test_gradcheck_and_gradgradcheck(device, name, seed):
    kwargs = ACTIVATIONS[name]
    x = leaf(np.random.default_rng(seed).uniform(-3, 3, (2, 4)), device=device)
    fn = lambda t: getattr(F, name)(t, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["hardswish", "hardsigmoid", "softshrink", "hardshrink",
                                  "threshold"])
def test_piecewise_gradcheck_away_from_breakpoints(name, device):
    kwargs = ACTIVATIONS[name]
    x = leaf([[-4.5, -2.0, -0.2, 0.2], [0.9, 2.5, 3.7, -1.1]], device=device)
    fn = lambda t: getattr(F, name)(t, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_float32_stays_float32_and_int_inputs(device):
    x = mg.tensor([-1.0, 0.5, 4.0], device=device)
    for name, kwargs in ACTIVATIONS.items():
        if name == "glu":
            continue
        assert getattr(F, name)(x, **kwargs).dtype == mg.float32, name
    ints = mg.tensor([1, 2], device=device)
    assert F.softsign(ints).dtype == mg.float32
    assert F.threshold(ints, 1, 0).tolist() == [0, 2]
    with pytest.raises(NotImplementedError):
        F.hardswish(ints)


@pytest.mark.parametrize("weight_shape,input_shape", [((1,), (2, 3, 4)), ((3,), (2, 3, 4)),
                                                      ((3,), (2, 3)), ((), (5,)),
                                                      ((2,), (1, 2, 3, 2))])
def test_prelu_matches_torch(weight_shape, input_shape, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = leaf(rng.uniform(-2, 2, input_shape), device=device)
    w = leaf(rng.uniform(-1, 1, weight_shape), device=device)
    run_both(torch, F.prelu, torch.nn.functional.prelu, [x, w])
    assert gradcheck(F.prelu, (x, w))


def test_errors_match_torch():
    x = mg.randn(2, 3)
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1"):
        F.glu(x)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(mg.tensor(1.0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.glu(x, 5)
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 3"):
        F.prelu(x, mg.randn(2))
    with pytest.raises(RuntimeError, match="ndim = 2"):
        F.prelu(x, mg.randn(3, 1))


LAYERS = [("Hardtanh", (-2.0, 2.0), {}), ("Hardtanh", (), {"inplace": True}),
          ("ReLU6", (), {}), ("ReLU6", (True,), {}), ("LogSigmoid", (), {}),
          ("Softmin", (1,), {}), ("CELU", (2.0,), {}), ("CELU", (2.0, True), {}),
          ("SELU", (), {}), ("SELU", (True,), {}), ("Mish", (), {}), ("Mish", (True,), {}),
          ("Hardswish", (), {}), ("Hardswish", (True,), {}), ("Hardsigmoid", (), {}),
          ("Hardsigmoid", (True,), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
          ("Softshrink", (0.3,), {}), ("Hardshrink", (), {}),
          ("Threshold", (0.1, 20.0), {}), ("Threshold", (0.1, 20.0, True), {}),
          ("GLU", (), {}), ("GLU", (0,), {})]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_layers_match_torch(name, args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert not list(ours.state_dict())
    x = leaf(np.random.default_rng(0).uniform(-4, 4, (4, 6)), device=device)
    run_both(torch, lambda t: ours(t * 1.0), lambda t: theirs(t * 1.0), [x])


def test_prelu_module_matches_torch(device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == ["weight"]
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    x = leaf(np.random.default_rng(3).uniform(-2, 2, (2, 3, 5)), device=device)
    compare_modules(torch, ours, theirs, x)


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="min_value"):
        m = nn.Hardtanh(min_value=-3.0)
    assert (m.min_val, m.max_val) == (-3.0, 1.0)


@pytest.mark.parametrize("name", ["selu", "celu", "mish"])
def test_inplace_second_derivatives(name, device):
    kwargs = ACTIVATIONS[name]
    x = leaf([[-1.7, -0.3, 0.4], [1.2, -2.5, 0.8]], device=device)
    fn = lambda t: getattr(F, name)(t * 1.0, inplace=True, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_samples_the_softmax_distribution(device, hard):
    """Gumbel-max: the arg-max of (logits + g) is distributed as softmax(logits), whatever τ;
    the output is a distribution along ``dim`` (one-hot when ``hard``), as PyTorch's."""
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    base = np.array([1.0, 0.0, -1.0, 2.0])
    logits = mg.tensor(np.tile(base, (4000, 1)), device=device)
    y = F.gumbel_softmax(logits, tau=0.5, hard=hard)
    picked = np.bincount(y.cpu().numpy().argmax(1), minlength=4) / 4000
    expected = torch.softmax(torch.from_numpy(base), 0).numpy()
    np.testing.assert_allclose(picked, expected, atol=0.03)
    values = y.cpu().numpy()
    np.testing.assert_allclose(values.sum(1), 1.0, rtol=1e-12)
    if hard:
        assert set(np.unique(values)) <= {0.0, 1.0}
    y = F.gumbel_softmax(mg.randn(3, 5, dtype=mg.float32, device=device), dim=0)
    assert y.dtype == mg.float32
    np.testing.assert_allclose(y.cpu().numpy().sum(0), 1.0, rtol=1e-5)


def test_gumbel_softmax_noise_tau_and_straight_through_gradient(device):
    """With the generator reseeded, the soft sample is softmax((x − log(−log(1 − U)))/τ) for
    the same U = rand_like(x); ``hard`` has that soft sample's gradient."""
    x = leaf(np.random.default_rng(3).standard_normal((4, 6)), device=device)
    weights = mg.tensor(np.random.default_rng(4).standard_normal((4, 6)), device=device)
    mg.manual_seed(7)
    u = mg.rand_like(x)
    expected = mg.softmax((x - mg.log(-mg.log(1 - u))) / 0.3, 1)
    mg.manual_seed(7)
    soft = F.gumbel_softmax(x, tau=0.3, dim=1)
    np.testing.assert_allclose(soft.detach().cpu().numpy(), expected.detach().cpu().numpy(),
                               rtol=1e-12)
    (soft_grad,) = mg.autograd.grad((soft * weights).sum(), x)
    mg.manual_seed(7)
    hard = F.gumbel_softmax(x, tau=0.3, hard=True, dim=1)
    one_hot = np.eye(6)[expected.detach().cpu().numpy().argmax(1)]
    np.testing.assert_array_equal(hard.detach().cpu().numpy(), one_hot)
    (hard_grad,) = mg.autograd.grad((hard * weights).sum(), x)
    np.testing.assert_allclose(hard_grad.cpu().numpy(), soft_grad.cpu().numpy(), rtol=1e-12)
