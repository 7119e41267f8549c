"""Pointwise ops (minigrad/ops/pointwise.py, pointwise_piecewise.py, rounding.py, activation.py).

Every unary op: forward values and gradients compared with PyTorch on hypothesis-drawn
shapes (zero-size and non-contiguous included) and on special points (0, kinks, ±inf, out
of domain), gradcheck in float64 and gradgradcheck, dtype rules. The binary ops (maximum,
minimum, where, clamp, floor_divide, remainder, fmod) the same on broadcastable pairs, plus
tie splitting, clamp boundaries and the errors PyTorch raises."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.ops import activation as A, pointwise as P
from tests.strategies import shapes, broadcastable_shapes, float_arrays, non_contiguous

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)
SMALL = shapes(max_dims=3, max_side=3)
TINY = shapes(max_dims=2, max_side=3)

# name: (minigrad function, torch function given the torch module, gradcheck domain)
UNARY = {
    "exp": (mg.exp, lambda T, x: T.exp(x), "real"),
    "exp2": (mg.exp2, lambda T, x: T.exp2(x), "real"),
    "expm1": (mg.expm1, lambda T, x: T.expm1(x), "real"),
    "log": (mg.log, lambda T, x: T.log(x), "positive"),
    "log2": (mg.log2, lambda T, x: T.log2(x), "positive"),
    "log10": (mg.log10, lambda T, x: T.log10(x), "positive"),
    "log1p": (mg.log1p, lambda T, x: T.log1p(x), "above_minus_one"),
    "sqrt": (mg.sqrt, lambda T, x: T.sqrt(x), "positive"),
    "rsqrt": (mg.rsqrt, lambda T, x: T.rsqrt(x), "positive"),
    "reciprocal": (mg.reciprocal, lambda T, x: T.reciprocal(x), "grid"),
    "square": (mg.square, lambda T, x: T.square(x), "real"),
    "abs": (mg.abs, lambda T, x: T.abs(x), "grid"),
    "sin": (mg.sin, lambda T, x: T.sin(x), "real"),
    "cos": (mg.cos, lambda T, x: T.cos(x), "real"),
    "tan": (mg.tan, lambda T, x: T.tan(x), "tan"),
    "sinh": (mg.sinh, lambda T, x: T.sinh(x), "real"),
    "cosh": (mg.cosh, lambda T, x: T.cosh(x), "real"),
    "tanh": (mg.tanh, lambda T, x: T.tanh(x), "real"),
    "sigmoid": (mg.sigmoid, lambda T, x: T.sigmoid(x), "real"),
    "erf": (mg.erf, lambda T, x: T.erf(x), "real"),
    "erfc": (mg.erfc, lambda T, x: T.erfc(x), "real"),
    "relu": (mg.relu, lambda T, x: T.relu(x), "grid"),
    "silu": (A.silu, lambda T, x: T.nn.functional.silu(x), "real"),
    "gelu": (A.gelu, lambda T, x: T.nn.functional.gelu(x), "real"),
    "gelu_tanh": (lambda x: A.gelu(x, approximate="tanh"),
                  lambda T, x: T.nn.functional.gelu(x, approximate="tanh"), "real"),
    "softplus": (lambda x: A.softplus(x, beta=2.0, threshold=3.0),
                 lambda T, x: T.nn.functional.softplus(x, beta=2.0, threshold=3.0), "grid"),
    "leaky_relu": (lambda x: P.leaky_relu(x, 0.2),
                   lambda T, x: T.nn.functional.leaky_relu(x, 0.2), "grid"),
    "elu": (lambda x: A.elu(x, alpha=1.5), lambda T, x: T.nn.functional.elu(x, alpha=1.5), "grid"),
    "sign": (mg.sign, lambda T, x: T.sign(x), "grid"),
    "floor": (mg.floor, lambda T, x: T.floor(x), "grid"),
    "ceil": (mg.ceil, lambda T, x: T.ceil(x), "grid"),
    "round": (mg.round, lambda T, x: T.round(x), "grid"),
    "round_decimals": (lambda x: mg.round(x, decimals=2), lambda T, x: T.round(x, decimals=2), "grid"),
    "trunc": (mg.trunc, lambda T, x: T.trunc(x), "grid"),
    "frac": (mg.frac, lambda T, x: T.frac(x), "grid"),
    "nan_to_num": (mg.nan_to_num, lambda T, x: T.nan_to_num(x), "real"),
    "clamp": (lambda x: mg.clamp(x, -1.0, 1.5), lambda T, x: T.clamp(x, -1.0, 1.5), "grid"),
    "clamp_min": (lambda x: mg.clamp(x, min=0.5), lambda T, x: T.clamp(x, min=0.5), "grid"),
    "clamp_max": (lambda x: x.clip(max=0.5), lambda T, x: x.clip(max=0.5), "grid"),
}
DOMAINS = {"real": (-3.0, 3.0), "positive": (0.25, 3.0), "above_minus_one": (-0.75, 3.0),
           "tan": (-1.25, 1.25)}  # bounds exact in float32
FLOAT_FUNCTIONS = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                   "reciprocal", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid", "erf",
                   "erfc"]
INTEGER_KEEPING = ["abs", "relu", "sign", "square", "floor", "ceil", "round", "trunc",
                   "nan_to_num"]
ACTIVATIONS = ["silu", "gelu", "softplus", "leaky_relu", "elu"]
# Second derivatives are exercised where they are not identically zero.
SMOOTH = [n for n in UNARY if n not in ("sign", "floor", "ceil", "round", "round_decimals",
                                        "trunc", "frac", "nan_to_num", "clamp", "clamp_min",
                                        "clamp_max", "relu", "abs")]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, 3.0, -3.0, 20.0, 100.0, -100.0,
           np.inf, -np.inf]


# ---------------------------------------------------------------------- strategies and helpers
def grid_arrays(shape, offset=0.1):
    """k/4 + offset: at least 0.1 from 0, the integers and the half-integers, so kinks and
    jumps (abs, relu, clamp bounds, rounding, max ties) never sit within eps of a point."""
    return hnp.arrays(np.int64, shape, elements=st.integers(-12, 11)).map(
        lambda k: np.asarray(k / 4 + offset))


@st.composite
def arrays(draw, domain="real", shape_strategy=SMALL, dtype=np.float64, shape=None):
    shape = draw(shape_strategy) if shape is None else shape
    if domain == "grid":
        array = draw(grid_arrays(shape)).astype(dtype)
    elif domain == "any":  # real values and the special points, for comparisons with torch
        elements = st.one_of(st.floats(-4, 4, width=32), st.sampled_from(SPECIAL))
        array = draw(hnp.arrays(dtype, shape, elements=elements))
    else:
        array = draw(float_arrays(shape, dtype, *DOMAINS[domain]))
    return non_contiguous(array) if draw(st.booleans()) else array


def leaf(array, *, device):
    return mg.from_numpy(array).to(device).requires_grad_()


def as_torch(torch, array, requires_grad=False):
    return torch.from_numpy(np.array(array)).requires_grad_(requires_grad)


def grads(y, inputs, g):
    return mg.autograd.grad(y, inputs, grad_outputs=mg.from_numpy(g).to(y.device),
                            allow_unused=True)


def assert_close(actual, expected, rtol=1e-7, atol=1e-10):
    actual = actual.detach().cpu().numpy() if isinstance(actual, mg.Tensor) else actual

    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- unary ops vs torch
@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_matches_torch_values_and_gradients(name, data, device):
    """Forward and VJP equal PyTorch's everywhere, including 0, kinks, ±inf and points
    outside the domain (nan, inf and -inf must match, and no numpy warning escapes)."""
    torch = pytest.importorskip("torch")
    fn, torch_fn, _ = UNARY[name]
    a = data.draw(arrays("any", shapes(max_dims=3)), label="x")
    g = data.draw(arrays("real", shape=a.shape), label="grad_output")
    x = leaf(a, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        (dx,) = grads(y, [x], g)
    tx = as_torch(torch, a, True)
    ty = torch_fn(torch, tx)
    (tdx,) = torch.autograd.grad(ty, tx, torch.from_numpy(g))
    assert y.shape == tuple(ty.shape) and y.dtype == np.float64
    assert_close(y, ty)
    assert_close(dx, tdx)


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_float32_matches_torch(name, data, device):
    torch = pytest.importorskip("torch")
    fn, torch_fn, domain = UNARY[name]
    domain = "grid" if domain == "grid" else "real" if domain in ("real", "tan") else "positive"
    a = data.draw(arrays(domain, shapes(max_dims=3), dtype=np.float32))
    y = fn(mg.from_numpy(a).to(device))
    assert y.dtype == mg.float32
    assert_close(y, torch_fn(torch, torch.from_numpy(np.array(a))), rtol=2e-6, atol=1e-6)


# ---------------------------------------------------------------------- numerical gradients
@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_gradcheck(name, data, device):
    fn, _, domain = UNARY[name]
    x = leaf(data.draw(arrays(domain)), device=device)
    assert gradcheck(fn, (x,), **GRADCHECK)


@pytest.mark.parametrize("name", SMOOTH)
@settings(max_examples=6)
@given(data=st.data())
def test_unary_gradgradcheck(name, data, device):
    fn, _, domain = UNARY[name]
    x = leaf(data.draw(arrays(domain, TINY)), device=device)
    assert gradgradcheck(fn, (x,), **GRADCHECK)


# ---------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("name", FLOAT_FUNCTIONS)
def test_float_functions_keep_float_dtypes_and_lift_integers(name, device):
    fn = UNARY[name][0]
    for dtype in (mg.float16, mg.float32, mg.float64):
        assert fn(mg.ones(2, 3, dtype=dtype, device=device)).dtype == dtype
    for dtype in (mg.int32, mg.int64, mg.bool):
        assert fn(mg.ones(3, dtype=dtype, device=device)).dtype == mg.float32
    mg.set_default_dtype(mg.float64)
    try:
        assert fn(mg.ones(3, dtype=mg.int64, device=device)).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)


@pytest.mark.parametrize("name", INTEGER_KEEPING)
def test_integer_dtypes_are_kept(name, device):
    torch = pytest.importorskip("torch")
    fn, torch_fn, _ = UNARY[name]
    a = np.array([[-3, 0, 2], [5, -1, 7]], dtype=np.int32)
    y = fn(mg.from_numpy(a).to(device))
    assert y.dtype == mg.int32
    np.testing.assert_array_equal(y.cpu().numpy(), torch_fn(torch, torch.from_numpy(a)).numpy())


def test_integer_results_of_binary_ops(device):
    i = mg.tensor([[-3, 0, 2]], device=device)
    j = mg.tensor([[2], [-2]], device=device)
    for y in (mg.maximum(i, j), mg.minimum(i, j), mg.clamp(i, j, 1), i % j, i // j,
              mg.fmod(i, j), mg.where(i > 0, i, j)):
        assert y.dtype == mg.int64 and y.shape == (2, 3)
    assert mg.clamp(i, -1, 1).dtype == mg.int64
    assert mg.clamp(i, min=0.5).dtype == mg.float32                # PyTorch promotes
    assert mg.maximum(i, mg.tensor([1.5], device=device)).dtype == mg.float32
    assert mg.where(mg.tensor([True, False], device=device), 1.0, 0).dtype == mg.float32
    assert mg.where(mg.tensor([True, False], device=device), 1, 0).dtype == mg.int64
    assert mg.where(mg.tensor([True], device=device),
                    mg.ones(1, dtype=mg.float32, device=device), 2.0).dtype == mg.float32
    assert mg.sign(mg.tensor([True, False], device=device)).dtype == mg.bool
    assert mg.square(mg.tensor([True, False], device=device)).dtype == mg.int64


def test_predicates_return_bool_without_grad(device):
    x = mg.tensor([1.0, np.nan, np.inf, -np.inf], requires_grad=True, device=device)
    expected = {"isnan": [0, 1, 0, 0], "isinf": [0, 0, 1, 1], "isfinite": [1, 0, 0, 0],
                "isposinf": [0, 0, 1, 0], "isneginf": [0, 0, 0, 1]}
    for name, values in expected.items():
        y = getattr(mg, name)(x)
        assert y.dtype == mg.bool and not y.requires_grad
        np.testing.assert_array_equal(y.cpu().numpy(), np.array(values, dtype=bool))
        assert getattr(x, name)().dtype == mg.bool
    assert not mg.isnan(mg.tensor([1, 2], device=device)).cpu().numpy().any()


def test_nan_to_num_values_and_gradient(device):
    x = mg.tensor([1.0, np.nan, np.inf, -np.inf], dtype=mg.float64, requires_grad=True,
                  device=device)
    y = x.nan_to_num(nan=-1.0, posinf=9.0)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [1.0, -1.0, 9.0,
                                                             np.finfo(np.float64).min])
    (dx,) = grads(y, [x], np.ones(4))
    np.testing.assert_array_equal(dx.cpu().numpy(), [1.0, 0.0, 0.0, 0.0])
    assert mg.nan_to_num(mg.ones(2, dtype=mg.float32, device=device)).dtype == mg.float32


# ---------------------------------------------------------------------- conventions and numerics
@pytest.mark.parametrize("fn, expected", [
    (mg.sqrt, np.inf), (mg.abs, 0.0), (mg.relu, 0.0), (mg.log, np.inf), (mg.rsqrt, -np.inf),
    (mg.reciprocal, -np.inf), (lambda x: P.leaky_relu(x, 0.1), 0.1),
    (lambda x: A.elu(x, alpha=2.0), 2.0), (lambda x: mg.clamp(x, 0.0, 1.0), 1.0),
    (lambda x: mg.clamp(x, -1.0, 0.0), 1.0), (mg.sign, 0.0), (mg.floor, 0.0)])
def test_subgradients_at_zero_follow_pytorch(fn, expected, device):
    x = mg.tensor([0.0], requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (dx,) = grads(fn(x), [x], np.ones(1, dtype=np.float32))
    assert dx.cpu().numpy()[0] == expected


@pytest.mark.parametrize("dtype", [mg.float16, mg.float32, mg.float64])
def test_large_inputs_neither_overflow_nor_warn(dtype, device):
    x = mg.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype, requires_grad=True,
                  device=device)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        s = mg.sigmoid(x)
        np.testing.assert_allclose(s.detach().cpu().numpy()[[0, 2, 4]], [0.0, 0.5, 1.0])
        for fn in (mg.sigmoid, mg.tanh, mg.erf, A.silu, A.softplus, A.gelu, A.elu,
                   lambda t: A.gelu(t, approximate="tanh") if dtype != mg.float16 else t * 1.0):
            y = fn(x)
            (dx,) = grads(y, [x], np.ones(5, dtype=dtype))
            assert y.dtype == dtype
            assert np.isfinite(y.detach().cpu().numpy()).all() and np.isfinite(dx.cpu().numpy()).all()
    np.testing.assert_allclose(A.softplus(x).detach().cpu().numpy()[[0, 4]], [0.0, 1000.0])


def test_overflow_and_domain_errors_are_silent_like_pytorch(device):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mg.exp(mg.tensor([1000.0], device=device)).cpu().numpy()[0] == np.inf
        assert mg.log(mg.tensor([0.0], device=device)).cpu().numpy()[0] == -np.inf
        assert np.isnan(mg.sqrt(mg.tensor([-1.0], device=device)).cpu().numpy()[0])
        assert mg.reciprocal(mg.tensor([0.0], device=device)).cpu().numpy()[0] == np.inf
        np.testing.assert_array_equal((mg.tensor([-3.0, 3.0, 0.0], device=device) // 0.0).cpu().numpy(), [-np.inf, np.inf, np.nan])
        assert np.isnan((mg.tensor([3.0], device=device) % 0.0).cpu().numpy()).all()


def test_erf_is_accurate_across_its_range(device):
    import math
    xs = np.concatenate([np.linspace(-7, 7, 2001), [1e-12, -3e-9, 0.4999, 0.5, 0.5001, 30.0]])
    erf_ref = np.array([math.erf(v) for v in xs])
    erfc_ref = np.array([math.erfc(v) for v in xs])
    np.testing.assert_allclose(mg.erf(mg.from_numpy(xs).to(device)).cpu().numpy(),
                               erf_ref, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(mg.erfc(mg.from_numpy(xs).to(device)).cpu().numpy(),
                               erfc_ref, rtol=1e-13, atol=1e-300)
    x32 = mg.from_numpy(xs.astype(np.float32)).to(device)
    exact32 = xs.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(mg.erf(x32).cpu().numpy(), [math.erf(v) for v in exact32], rtol=1e-6,
                               atol=5e-7)
    np.testing.assert_allclose(mg.erfc(x32).cpu().numpy(), [math.erfc(v) for v in exact32],
                               rtol=1e-6, atol=1e-37)


def test_methods_and_aliases(device):
    x = mg.tensor([[-1.5, 0.5], [2.0, -0.25]], device=device)
    for name in ("exp", "log1p", "sqrt", "abs", "absolute", "sin", "tanh", "sigmoid", "relu",
                 "sign", "floor", "ceil", "round", "trunc", "fix", "frac", "square", "erf",
                 "reciprocal", "rsqrt", "nan_to_num"):
        np.testing.assert_array_equal(getattr(x, name)().cpu().numpy(),
                                      getattr(mg, name)(x).cpu().numpy())
    np.testing.assert_array_equal(abs(x).cpu().numpy(), mg.abs(x).cpu().numpy())
    np.testing.assert_array_equal(x.clamp(0, 1).cpu().numpy(), mg.clip(x, 0, 1).cpu().numpy())
    np.testing.assert_array_equal(x.clamp_min(0).cpu().numpy(), x.clamp(min=0).cpu().numpy())
    np.testing.assert_array_equal(x.clamp_max(0).cpu().numpy(), x.clamp(max=0).cpu().numpy())
    np.testing.assert_array_equal(x.maximum(-x).cpu().numpy(), mg.abs(x).cpu().numpy())
    # PyTorch has no torch.silu / Tensor.gelu: nor does minigrad.
    for name in ACTIVATIONS:
        assert not hasattr(mg, name) and not hasattr(mg.Tensor, name)
    for name in ("log", "where", "trunc", "floor_divide"):   # used by arithmetic.py
        assert callable(getattr(P, name))


def test_tensor_where_method_takes_self_as_input(device):
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, 2.0, 3.0]), np.array([-1.0])
    c = np.array([True, False, True])
    y = mg.from_numpy(a).to(device).where(mg.from_numpy(c).to(device),
                                                     mg.from_numpy(b).to(device))
    expected = torch.from_numpy(a).where(torch.from_numpy(c), torch.from_numpy(b))
    np.testing.assert_array_equal(y.cpu().numpy(), expected.numpy())


def test_where_with_condition_only_gives_indices(device):
    c = mg.tensor([[True, False], [False, True]], device=device)
    rows, cols = mg.where(c)
    assert rows.dtype == mg.int64
    np.testing.assert_array_equal(rows.cpu().numpy(), [0, 1])
    np.testing.assert_array_equal(cols.cpu().numpy(), [0, 1])
    np.testing.assert_array_equal(mg.where(mg.tensor(True, device=device))[0].cpu().numpy(), [0])


def test_activation_inplace_rewrites_a_non_leaf(device):
    torch = pytest.importorskip("torch")
    a = np.array([-2.0, -0.5, 0.0, 1.0])
    for name, kwargs in (("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.5}),
                         ("silu", {})):
        x = leaf(a, device=device)
        h = x * 2.0
        version = h._version
        assert getattr(mg.nn.functional, name)(h, inplace=True, **kwargs) is h and h._version > version
        (dx,) = grads(h * 3.0, [x], np.ones(4))
        tx = as_torch(torch, a, True)
        th = tx * 2.0
        getattr(torch.nn.functional, name)(th, inplace=True, **kwargs)
        (tdx,) = torch.autograd.grad(th * 3.0, tx, torch.ones(4, dtype=torch.float64))
        assert_close(h, th)
        assert_close(dx, tdx)


# ---------------------------------------------------------------------- maximum / minimum
@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum_match_torch_with_ties_and_broadcasting(op, data, device):
    torch = pytest.importorskip("torch")
    sa, sb = data.draw(broadcastable_shapes(min_side=0, max_dims=3))
    values = st.one_of(st.sampled_from([-1.0, 0.0, 0.5, 2.0, np.nan]), st.floats(-3, 3))
    a = data.draw(hnp.arrays(np.float64, sa, elements=values))
    b = data.draw(hnp.arrays(np.float64, sb, elements=values))
    a = non_contiguous(a) if data.draw(st.booleans()) else a
    x, w = leaf(a, device=device), leaf(b, device=device)
    y = getattr(mg, op)(x, w)
    g = data.draw(arrays("real", shape=y.shape))
    dx, dw = grads(y, [x, w], g)
    tx, tw = as_torch(torch, a, True), as_torch(torch, b, True)
    ty = getattr(torch, op)(tx, tw)
    tdx, tdw = torch.autograd.grad(ty, (tx, tw), torch.from_numpy(g))
    assert_close(y, ty)
    assert_close(dx, tdx)
    assert_close(dw, tdw)


def test_ties_split_the_gradient_in_half(device):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    w = mg.tensor([1.0, 5.0, 3.0], requires_grad=True, device=device)
    for op, gx, gw in ((mg.maximum, [0.5, 0.0, 0.5], [0.5, 1.0, 0.5]),
                       (mg.minimum, [0.5, 1.0, 0.5], [0.5, 0.0, 0.5])):
        dx, dw = grads(op(x, w), [x, w], np.ones(3, dtype=np.float32))
        np.testing.assert_array_equal(dx.cpu().numpy(), gx)
        np.testing.assert_array_equal(dw.cpu().numpy(), gw)
    s = mg.tensor(2.0, requires_grad=True, device=device)   # one scalar tied with a broadcast row
    (ds,) = grads(mg.maximum(mg.tensor([2.0, 2.0, 1.0], device=device), s), [s],
                  np.ones(3, dtype=np.float32))
    assert ds.item() == 2.0


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum_gradcheck(op, data, device):
    sa, sb = data.draw(broadcastable_shapes(max_dims=3, max_side=3))
    x = leaf(data.draw(grid_arrays(sa)), device=device)
    w = leaf(data.draw(grid_arrays(sb, offset=0.0)), device=device)
    assert gradcheck(getattr(mg, op), (x, w), **GRADCHECK)


# ---------------------------------------------------------------------- where
@given(data=st.data())
def test_where_matches_torch_with_three_way_broadcasting(data, device):
    torch = pytest.importorskip("torch")
    shape_set = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0))
    sc, sa, sb = shape_set.input_shapes
    c = data.draw(hnp.arrays(np.bool_, sc))
    a = data.draw(arrays("any", shape=sa))
    b = data.draw(arrays("real", shape=sb))
    x, w = leaf(a, device=device), leaf(b, device=device)
    y = mg.where(mg.from_numpy(c).to(device), x, w)
    g = data.draw(arrays("real", shape=y.shape))
    dx, dw = grads(y, [x, w], g)
    tx, tw = as_torch(torch, a, True), as_torch(torch, b, True)
    ty = torch.where(torch.from_numpy(c), tx, tw)
    tdx, tdw = torch.autograd.grad(ty, (tx, tw), torch.from_numpy(g))
    assert y.shape == tuple(ty.shape)
    assert_close(y, ty)
    assert_close(dx, tdx)
    assert_close(dw, tdw)


@given(data=st.data())
def test_where_gradcheck_and_gradgradcheck(data, device):
    shape_set = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3))
    sc, sa, sb = shape_set.input_shapes
    c = mg.from_numpy(data.draw(hnp.arrays(np.bool_, sc))).to(device)
    x = leaf(data.draw(arrays("real", shape=sa)), device=device)
    w = leaf(data.draw(arrays("real", shape=sb)), device=device)
    assert gradcheck(lambda x, w: mg.where(c, x, w), (x, w), **GRADCHECK)
    assert gradgradcheck(lambda x, w: mg.where(c, x * x, w), (x, w), **GRADCHECK)


def test_where_with_scalars_and_infinite_gradients(device):
    torch = pytest.importorskip("torch")
    a = np.array([-1.0, 0.0, 2.0])
    x = leaf(a, device=device)
    y = mg.where(x > 0, x, 0.0) + mg.where(x <= 0, 1.0, x * 3.0)
    (dx,) = grads(y, [x], np.ones(3))
    tx = as_torch(torch, a, True)
    ty = torch.where(tx > 0, tx, 0.0) + torch.where(tx <= 0, 1.0, tx * 3.0)
    (tdx,) = torch.autograd.grad(ty, tx, torch.ones(3, dtype=torch.float64))
    assert_close(y, ty)
    assert_close(dx, tdx)
    # The safe-log pattern arithmetic.py uses: masked-out branches contribute exactly 0.
    safe_log = mg.where(x > 0, mg.log(mg.where(x > 0, x, 1.0)), 0.0)
    (dx,) = grads(safe_log, [x], np.ones(3))
    np.testing.assert_array_equal(dx.cpu().numpy(), [0.0, 0.0, 0.5])
    assert mg.where(mg.tensor([True, False], device=device), 1.0, 0.0).tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------- clamp
@given(data=st.data())
def test_clamp_with_tensor_bounds_matches_torch(data, device):
    torch = pytest.importorskip("torch")
    shape_set = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0))
    sx, slo, shi = shape_set.input_shapes
    values = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])        # boundaries and min > max
    a, lo, hi = (data.draw(hnp.arrays(np.float64, s, elements=values)) for s in (sx, slo, shi))
    use_lo, use_hi = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    x, tl, th = leaf(a, device=device), leaf(lo, device=device), leaf(hi, device=device)
    y = mg.clamp(x, tl if use_lo else None, th if use_hi else None)
    g = data.draw(arrays("real", shape=y.shape))
    used = [t for t, u in ((x, True), (tl, use_lo), (th, use_hi)) if u]
    result = grads(y, used, g)
    tx, ttl, tth = (as_torch(torch, v, True) for v in (a, lo, hi))
    ty = torch.clamp(tx, ttl if use_lo else None, tth if use_hi else None)
    tused = [t for t, u in ((tx, True), (ttl, use_lo), (tth, use_hi)) if u]
    assert_close(y, ty)
    if y.numel() == 0:   # PyTorch's backward fails on a 0-d input with a zero-size result
        assert all(not r.cpu().numpy().any() for r in result)
        return
    try:
        expected = torch.autograd.grad(ty, tused, torch.from_numpy(g), allow_unused=True)
    except RuntimeError as e:   # PyTorch's clamp backward fails when x itself broadcasts
        assert "broadcast shape" in str(e) and a.shape != tuple(y.shape)
        return
    for r, e in zip(result, expected):
        assert_close(r, e if e is not None else np.zeros(r.shape))


def test_clamp_number_bounds_pass_gradient_at_the_boundary(device):
    x = mg.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True, device=device)
    (dx,) = grads(mg.clamp(x, -1, 1), [x], np.ones(5, dtype=np.float32))
    np.testing.assert_array_equal(dx.cpu().numpy(), [0, 1, 1, 1, 0])
    (dx,) = grads(mg.clamp(x, 1, -1), [x], np.ones(5, dtype=np.float32))   # min > max
    np.testing.assert_array_equal(mg.clamp(x, 1, -1).detach().cpu().numpy(), [-1] * 5)
    np.testing.assert_array_equal(dx.cpu().numpy(), [0] * 5)
    assert np.isnan(mg.clamp(mg.tensor([np.nan], device=device), 0, 1).cpu().numpy()).all()


@given(data=st.data())
def test_clamp_gradcheck_with_tensor_bounds(data, device):
    shape_set = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3))
    sx, slo, shi = shape_set.input_shapes
    x = leaf(data.draw(grid_arrays(sx)), device=device)                   # never equal to a bound,
    lo = leaf(data.draw(grid_arrays(slo, offset=0.0)), device=device)     # and the bounds never equal
    hi = leaf(data.draw(grid_arrays(shi, offset=0.05)), device=device)
    assert gradcheck(lambda x, lo, hi: mg.clamp(x, lo, hi), (x, lo, hi), **GRADCHECK)
    assert gradcheck(lambda x, lo: mg.clamp(x, min=lo, max=0.7), (x, lo), **GRADCHECK)


# ---------------------------------------------------------------------- floor_divide, remainder, fmod
DIVISIONS = {"floor_divide": lambda m, a, b: m.floor_divide(a, b),
             "remainder": lambda m, a, b: m.remainder(a, b),
             "fmod": lambda m, a, b: m.fmod(a, b),
             "%": lambda m, a, b: a % b, "//": lambda m, a, b: a // b}


@pytest.mark.parametrize("op", list(DIVISIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@given(data=st.data())
def test_divisions_match_torch(op, dtype, data, device):
    torch = pytest.importorskip("torch")
    sa, sb = data.draw(broadcastable_shapes(min_side=0, max_dims=3))
    nonzero = st.integers(-7, 7).filter(bool)
    if dtype == np.int64:
        a = data.draw(hnp.arrays(dtype, sa, elements=st.integers(-20, 20)))
        b = data.draw(hnp.arrays(dtype, sb, elements=nonzero))
    else:
        a = data.draw(arrays("any", shape=sa))
        b = data.draw(hnp.arrays(dtype, sb, elements=st.one_of(nonzero.map(lambda k: k / 2),
                                                                 st.floats(-3, 3, allow_subnormal=False))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = DIVISIONS[op](mg, mg.from_numpy(a).to(device),
                          mg.from_numpy(b).to(device))
    ty = DIVISIONS[op](torch, torch.from_numpy(a), torch.from_numpy(b))
    assert y.dtype == dtype
    assert_close(y, ty, rtol=1e-12)


def test_divisions_with_python_numbers_and_zero(device):
    torch = pytest.importorskip("torch")
    a = np.array([-7.5, -3.0, 0.0, 4.0, 6.25])
    for fn in (lambda m, t: t % 2, lambda m, t: 5 % t, lambda m, t: t // -2, lambda m, t: 7 // t,
               lambda m, t: m.remainder(t, -1.5), lambda m, t: m.fmod(t, 2.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = fn(mg, mg.from_numpy(a).to(device))
        assert_close(y, fn(torch, torch.from_numpy(a)))
    i = mg.tensor([5, -3], device=device)
    for fn in (lambda: i // 0, lambda: i % 0, lambda: mg.fmod(i, mg.tensor([1, 0], device=device))):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn()
    assert (i % 2).tolist() == [1, 1] and (i // 2).tolist() == [2, -2]
    assert mg.div(mg.tensor([-7.0, 7.0], device=device), 2,
                  rounding_mode="floor").tolist() == [-4.0, 3.0]


@given(data=st.data())
def test_remainder_and_fmod_gradients(data, device):
    torch = pytest.importorskip("torch")
    sa, sb = data.draw(broadcastable_shapes(max_dims=2, max_side=3))
    a = data.draw(grid_arrays(sa))
    # |b| = m/4 + 1/2: a/b = (k + 0.4)/(m + 2) is never an integer, so no jump is near.
    b = data.draw(hnp.arrays(np.int64, sb, elements=st.integers(0, 10))) / 4 + 0.5
    b = np.asarray(b * data.draw(hnp.arrays(np.int64, sb, elements=st.sampled_from([-1, 1]))))
    x, w = leaf(a, device=device), leaf(b, device=device)
    for name in ("remainder", "fmod"):
        fn = getattr(mg, name)
        assert gradcheck(fn, (x, w), **GRADCHECK)
        y = fn(x, w)
        g = np.ones(y.shape)
        tx, tw = as_torch(torch, a, True), as_torch(torch, b, True)
        expected = torch.autograd.grad(getattr(torch, name)(tx, tw), (tx, tw), torch.from_numpy(g))
        for r, e in zip(grads(y, [x, w], g), expected):
            assert_close(r, e)


def test_floor_divide_and_rounding_have_zero_gradient(device):
    x = mg.tensor([-2.5, 1.5, 3.0], requires_grad=True, device=device)
    w = mg.tensor([2.0, -1.0, 0.5], requires_grad=True, device=device)
    y = x // w
    assert y.requires_grad
    dx, dw = grads(y, [x, w], np.ones(3, dtype=np.float32))
    assert not dx.cpu().numpy().any() and not dw.cpu().numpy().any()
    for fn in (mg.floor, mg.ceil, mg.round, mg.trunc, mg.sign):
        (dx,) = grads(fn(x), [x], np.ones(3, dtype=np.float32))
        assert dx.dtype == mg.float32 and not dx.cpu().numpy().any()


# ---------------------------------------------------------------------- errors
def test_where_rejects_a_non_bool_condition(device):
    x = mg.ones(3, device=device)
    with pytest.raises(RuntimeError, match="boolean"):
        mg.where(mg.tensor([1, 0, 1], device=device), x, x)
    with pytest.raises(TypeError):
        mg.where([True, False, True], x, x)
    with pytest.raises(TypeError):
        mg.where(mg.tensor([True, False, True], device=device), x)


@pytest.mark.parametrize("fn", [
    lambda a, b: mg.where(mg.ones(2, dtype=mg.bool, device=a.device), a, b),
    mg.maximum, mg.minimum, lambda a, b: mg.clamp(a, b), lambda a, b: mg.clamp(a, max=b),
    mg.remainder, mg.floor_divide, mg.fmod])
def test_mismatched_shapes_raise_runtime_error_naming_them(fn, device):
    with pytest.raises(RuntimeError, match=r"\(2, 3\)") as info:
        fn(mg.ones(2, 3, device=device), mg.ones(4, 1, device=device))
    assert "(4, 1)" in str(info.value)


def test_misuse_raises_pytorch_exception_types(device):
    x = mg.ones(3, device=device)
    with pytest.raises(TypeError, match="maximum"):
        mg.maximum(x, 2.0)                         # PyTorch requires two tensors
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        mg.clamp(x)
    with pytest.raises(TypeError, match="exp"):
        mg.exp([1.0, 2.0])
    with pytest.raises(RuntimeError, match="approximate"):
        A.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError, match="Boolean"):
        mg.relu(mg.tensor([True], device=device))
    with pytest.raises(NotImplementedError):
        mg.abs(mg.tensor([True], device=device))
    with pytest.raises(NotImplementedError):
        mg.frac(mg.tensor([1, 2], device=device))
    for name in ACTIVATIONS:
        with pytest.raises(NotImplementedError, match=name):
            getattr(mg.nn.functional, name)(mg.tensor([1, 2], device=device))
    leaf_ = mg.ones(2, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="leaf"):
        A.elu(leaf_, inplace=True)
