"""Norms (minigrad/ops/norms.py): linalg.vector_norm / matrix_norm / norm and torch.norm
(Tensor.norm) vs PyTorch, values and gradients in float64 including zeros, ties and
zero rows (PyTorch's norm_backward conventions), gradcheck, dispatch and errors."""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import assert_close
from tests.strategies import shapes, non_contiguous

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)
ORDS = [2, 1, 0, 3, 1.5, 0.5, -1, -0.5, math.inf, -math.inf]


@st.composite
def arrays(draw, min_dims=0, min_side=0):
    """Values on a coarse grid, so zeros, zero rows and ties (max |x| twice) are common."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, min_side=min_side, max_side=3))
    array = np.asarray(draw(hnp.arrays(np.int64, shape, elements=st.integers(-4, 4))) / 2.0)
    return non_contiguous(array) if draw(st.booleans()) else array


def _dims(data, ndim):
    options = [None] + ([0, -1, (0,), tuple(range(ndim))] if ndim else [0])
    if ndim >= 2:
        options.append((-1, 0))
    return data.draw(st.sampled_from(options), label="dim")


def _compare(torch, fn, torch_fn, a, device, data):
    x = mg.from_numpy(a).to(device).requires_grad_()
    tx = torch.from_numpy(a.copy()).requires_grad_()
    try:
        ty = torch_fn(tx)
    except (RuntimeError, IndexError, TypeError) as error:  # the same error from both
        with pytest.raises(type(error), match=re.escape(str(error)[:40])):
            fn(x)
        return
    try:
        y = fn(x)
    except NotImplementedError as error:  # ord ±2 / 'nuc' of a matrix: singular values
        assert "singular values" in str(error)
        return
    assert y.dtype == mg.float64
    assert_close(y, ty, rtol=1e-10, atol=1e-12, equal_nan=True)
    g = data.draw(hnp.arrays(np.float64, tuple(ty.shape), elements=st.floats(-2, 2)), label="g")
    (dx,) = mg.autograd.grad(y, [x], grad_outputs=mg.from_numpy(g).to(device))
    if ty.grad_fn is None:  # PyTorch's norm of an empty matrix: a constant 0
        tdx = np.zeros(a.shape)
    else:
        (tdx,) = torch.autograd.grad(ty, [tx], torch.from_numpy(g), allow_unused=True,
                                     materialize_grads=True)
    assert_close(dx, tdx, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("ord", ORDS)
@given(data=st.data())
def test_vector_norm_matches_torch(ord, data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(), label="x")
    dim, keepdim = _dims(data, a.ndim), data.draw(st.booleans())
    _compare(torch, lambda x: mg.linalg.vector_norm(x, ord, dim, keepdim),
             lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim), a, device, data)


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
@given(data=st.data())
def test_matrix_norm_matches_torch(ord, data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(min_dims=2, min_side=1), label="A")
    dim = data.draw(st.sampled_from([(-2, -1), (-1, -2), (0, -1)]))
    keepdim = data.draw(st.booleans())
    _compare(torch, lambda x: mg.linalg.matrix_norm(x, ord, dim, keepdim),
             lambda x: torch.linalg.matrix_norm(x, ord, dim, keepdim), a, device, data)


@pytest.mark.parametrize("p", ["fro", 2, 1, math.inf, 3, None])
@given(data=st.data())
def test_torch_norm_and_linalg_norm_match_torch(p, data, device):
    torch = pytest.importorskip("torch")
    a = data.draw(arrays(), label="x")
    dim = _dims(data, a.ndim)
    keepdim = data.draw(st.booleans())
    if p is not None:
        _compare(torch, lambda x: mg.norm(x, p, dim, keepdim),
                 lambda x: torch.norm(x, p, dim, keepdim), a, device, data)
        _compare(torch, lambda x: x.norm(p=p, dim=dim, keepdim=keepdim),
                 lambda x: x.norm(p=p, dim=dim, keepdim=keepdim), a, device, data)
    _compare(torch, lambda x: mg.linalg.norm(x, p, dim, keepdim),
             lambda x: torch.linalg.norm(x, p, dim, keepdim), a, device, data)


@pytest.mark.parametrize("ord", [2, 1, 3, 1.5, 0.5, -1, math.inf])
@settings(max_examples=10)
@given(data=st.data())
def test_vector_norm_gradcheck(ord, data, device):
    shape = data.draw(shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    # |x| ≥ 0.5 and distinct magnitudes: away from 0 and from ties of the max
    a = np.arange(1, math.prod(shape) + 1, dtype=np.float64).reshape(shape) * 0.37 + 0.5
    a = a * data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    x = mg.from_numpy(a).to(device).requires_grad_()
    dim = data.draw(st.sampled_from([None, -1]))

    def fn(t):
        return mg.linalg.vector_norm(t, ord, dim)
    assert gradcheck(fn, (x,), **GRADCHECK)
    if ord != math.inf:
        assert gradgradcheck(fn, (x,), **GRADCHECK)


def test_dtypes_and_errors_match_torch(device):
    x = mg.ones(2, 3, device=device)
    assert mg.linalg.vector_norm(x).dtype == mg.float32
    assert mg.linalg.vector_norm(x, dtype=mg.float64).dtype == mg.float64
    assert mg.norm(x.half()).dtype == mg.float16
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or complex "
                                           "tensor as input. Got Long"):
        mg.norm(x.long())
    with pytest.raises(RuntimeError, match="dtype should be floating point or complex, but got Long"):
        mg.linalg.vector_norm(x, dtype=mg.int64)
    with pytest.raises(TypeError, match="argument 'ord' must be Number, not str"):
        mg.linalg.vector_norm(x, "fro")
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        mg.linalg.vector_norm(mg.zeros(0, device=device), math.inf)
    with pytest.raises(RuntimeError, match="cannot compute the -1 norm on an empty tensor"):
        mg.linalg.vector_norm(mg.zeros(0, device=device), -1)
    assert mg.linalg.vector_norm(mg.zeros(0, 3, device=device), math.inf, dim=1).shape == (0,)
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        mg.linalg.matrix_norm(mg.ones(3, device=device))
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple. Got 0 1 2"):
        mg.norm(mg.ones(2, 2, 2, device=device), p="fro", dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        mg.linalg.matrix_norm(x, 3)
    with pytest.raises(RuntimeError, match="If dim is not specified but ord is, the input must be "
                                           "1D or 2D. Got 3D."):
        mg.linalg.norm(mg.ones(2, 2, 2, device=device), 1)
    with pytest.raises(NotImplementedError, match="singular values"):
        mg.norm(x, p="nuc")


def test_norm_gradient_at_zero_is_zero_like_torch(device):
    x = mg.zeros(3, dtype=mg.float64, device=device, requires_grad=True)
    for p in (2, 3, 1.5):
        (dx,) = mg.autograd.grad(mg.norm(x, p), x)
        assert dx.tolist() == [0.0, 0.0, 0.0]
