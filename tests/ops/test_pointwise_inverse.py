"""Inverse trigonometric/hyperbolic functions, sinc and angle conversions
(minigrad/ops/pointwise_inverse.py): values and gradients vs PyTorch (in and out of the
domain, its edges, ±inf), gradcheck and gradgradcheck inside the domain, dtypes, aliases."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import assert_close
from tests.strategies import shapes, float_arrays, non_contiguous

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)
# name: gradcheck domain (open intervals well inside the function's domain)
DOMAINS = {"asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3.0, 3.0), "asinh": (-3.0, 3.0),
           "acosh": (1.2, 4.0), "atanh": (-0.9, 0.9), "sinc": (-3.0, 3.0),
           "deg2rad": (-3.0, 3.0), "rad2deg": (-3.0, 3.0)}
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-9, np.inf, -np.inf, np.nan]


@st.composite
def arrays(draw, low=-4.0, high=4.0, shape=None, special=True):
    shape = draw(shapes(max_dims=3)) if shape is None else shape
    elements = st.floats(low, high, width=32)
    if special:
        elements = st.one_of(elements, st.sampled_from(SPECIAL))
    array = draw(hnp.arrays(np.float64, shape, elements=elements))
    return non_contiguous(array) if draw(st.booleans()) else array


@pytest.mark.parametrize("name", list(DOMAINS))
@given(data=st.data())
def test_matches_torch_values_and_gradients(name, data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(), label="x")
    g = data.draw(arrays(shape=a.shape, special=False), label="grad_output")
    x = mg.from_numpy(a).to(device).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning for nan/inf results
        y = getattr(mg, name)(x)
        (dx,) = mg.autograd.grad(y, [x], grad_outputs=mg.from_numpy(g).to(device))
    tx = torch.from_numpy(a.copy()).requires_grad_()
    ty = getattr(torch, name)(tx)
    (tdx,) = torch.autograd.grad(ty, tx, torch.from_numpy(g))
    assert y.dtype == mg.float64 and y.shape == tuple(ty.shape)
    assert_close(y, ty, rtol=1e-12, atol=1e-300)
    assert_close(dx, tdx, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("name", list(DOMAINS))
@settings(max_examples=10)
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(name, data, device):
    low, high = DOMAINS[name]
    a = data.draw(float_arrays(data.draw(shapes(max_dims=2, max_side=3)), np.float64, low, high))
    if name == "sinc":  # at 0 PyTorch's (and so our) first derivative is a constant 0
        a = np.where(np.abs(a) < 0.1, 0.5, a)
    x = mg.from_numpy(a).to(device).requires_grad_()
    fn = getattr(mg, name)
    assert gradcheck(fn, (x,), **GRADCHECK)
    assert gradgradcheck(fn, (x,), **GRADCHECK)


def test_sinc_gradient_at_zero_is_zero_and_value_one(device):
    x = mg.tensor([0.0, 1.0], dtype=mg.float64, device=device, requires_grad=True)
    y = mg.sinc(x)
    (dx,) = mg.autograd.grad(y.sum(), x)
    assert y.tolist()[0] == 1.0 and dx.tolist()[0] == 0.0
    assert abs(dx.tolist()[1] + 1.0) < 1e-12  # d/dx sin(πx)/(πx) at 1 is −1


@pytest.mark.parametrize("name", list(DOMAINS))
def test_dtypes_follow_torch(name, device):
    torch = pytest.importorskip("torch")
    fn = getattr(mg, name)
    for dtype in ("float16", "float32", "float64", "int32", "int64", "bool"):
        mine = fn(mg.ones(3, dtype=getattr(mg, dtype), device=device)).dtype
        theirs = getattr(torch, name)(torch.ones(3, dtype=getattr(torch, dtype))).dtype
        assert str(mine) == str(theirs).replace("torch.", ""), dtype
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' must be Tensor"):
        fn([1.0])


@pytest.mark.parametrize("alias, name", [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                                         ("arcsinh", "asinh"), ("arccosh", "acosh"),
                                         ("arctanh", "atanh")])
def test_numpy_style_aliases_and_methods(alias, name, device):
    x = mg.tensor([0.25, 0.5], device=device) + (1.5 if name == "acosh" else 0.0)
    expected = getattr(mg, name)(x).tolist()
    assert getattr(mg, alias)(x).tolist() == expected
    assert getattr(x, alias)().tolist() == expected == getattr(x, name)().tolist()


def test_float32_close_to_torch(device):
    torch = pytest.importorskip("torch")
    a = np.linspace(-0.99, 0.99, 41, dtype=np.float32)
    for name in ("asin", "acos", "atan", "asinh", "atanh", "sinc", "deg2rad", "rad2deg"):
        y = getattr(mg, name)(mg.from_numpy(a).to(device))
        assert y.dtype == mg.float32
        assert_close(y, getattr(torch, name)(torch.from_numpy(a)), rtol=2e-6, atol=1e-6)
