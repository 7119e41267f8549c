"""isclose/allclose/equal, all/any/count_nonzero, shifts and reflected bitwise operators
(minigrad/ops/logic.py): results, dtypes and errors compared with PyTorch."""
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from tests.strategies import broadcastable_shapes, shapes, non_contiguous

SPECIAL = [0.0, -0.0, 1.0, 1.0 + 1e-6, 1.0 + 1e-4, -1.0, np.inf, -np.inf, np.nan]


def _same(mine, theirs):
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@st.composite
def close_pairs(draw):
    sa, sb = draw(broadcastable_shapes(max_dims=3, max_side=3))
    elements = st.one_of(st.sampled_from(SPECIAL), st.floats(-2, 2))
    a = draw(hnp.arrays(np.float64, sa, elements=elements))
    b = draw(hnp.arrays(np.float64, sb, elements=elements))
    return non_contiguous(a), b


@given(pair=close_pairs(), rtol=st.sampled_from([0.0, 1e-5, 1e-3]),
       atol=st.sampled_from([0.0, 1e-8, 1e-3, np.inf]), equal_nan=st.booleans())
def test_isclose_and_allclose_match_torch(pair, rtol, atol, equal_nan, device):
    torch = pytest.importorskip("torch")
    a, b = pair
    x, y = mg.from_numpy(a).to(device), mg.from_numpy(b).to(device)
    tx, ty = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
    kw = dict(rtol=rtol, atol=atol, equal_nan=equal_nan)
    _same(mg.isclose(x, y, **kw).cpu(), torch.isclose(tx, ty, **kw))
    result = mg.allclose(x, y, **kw)
    assert type(result) is bool and result == torch.allclose(tx, ty, **kw)
    assert x.isclose(y, **kw).tolist() == mg.isclose(x, y, **kw).tolist()


def test_isclose_integers_and_errors(device):
    torch = pytest.importorskip("torch")
    for a, b, kw in [([1, 2, 5], [1, 3, 7], dict(atol=1)), ([1, 2], [1, 3], {}),
                     ([True, False], [True, True], {})]:
        _same(mg.isclose(mg.tensor(a, device=device), mg.tensor(b, device=device), **kw).cpu(),
              torch.isclose(torch.tensor(a), torch.tensor(b), **kw))
    f = mg.ones(2, device=device)
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        mg.isclose(f, f.double())
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        mg.allclose(f.long(), f)
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero, but got -1"):
        mg.isclose(f, f, rtol=-1)
    with pytest.raises(TypeError, match=r"isclose\(\): argument 'other' must be Tensor"):
        mg.isclose(f, 1.0)
    with pytest.raises(RuntimeError, match="size of tensor a"):
        mg.allclose(f, mg.ones(3, device=device))


def test_equal_matches_torch(device):
    torch = pytest.importorskip("torch")
    cases = [([1.0, 2.0], [1.0, 2.0]), ([1, 2], [1.0, 2.0]), ([1.0], [1.0, 1.0]),
             ([np.nan], [np.nan]), ([[1, 2]], [1, 2]), ([], [])]
    for a, b in cases:
        mine = mg.equal(mg.tensor(a, device=device), mg.tensor(b, device=device))
        assert type(mine) is bool and mine == torch.equal(torch.tensor(a), torch.tensor(b)), (a, b)
    assert mg.ones(2, device=device).equal(mg.ones(2, device=device))
    with pytest.raises(TypeError, match=r"equal\(\): argument 'other' must be Tensor"):
        mg.equal(mg.ones(2), 1)


@given(data=st.data())
def test_all_any_count_nonzero_match_torch(data, device):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from([np.float64, np.int64, np.uint8, np.bool_]))
    a = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from([0, 1, 2]).map(dtype)))
    ndim = len(shape)
    dims = [None] + ([0, -1, tuple(range(ndim)), (0,)] if ndim else [0])
    dim = data.draw(st.sampled_from(dims))
    keepdim = data.draw(st.booleans())
    x, tx = mg.from_numpy(a).to(device), torch.from_numpy(a.copy())
    for name in ("all", "any"):
        if dim is None:
            _same(getattr(mg, name)(x).cpu(), getattr(torch, name)(tx))
            _same(getattr(x, name)().cpu(), getattr(torch, name)(tx))
        else:
            _same(getattr(mg, name)(x, dim, keepdim).cpu(), getattr(torch, name)(tx, dim, keepdim))
            _same(getattr(x, name)(dim=dim, keepdim=keepdim).cpu(),
                  getattr(torch, name)(tx, dim=dim, keepdim=keepdim))
    _same(mg.count_nonzero(x, dim).cpu(), torch.count_nonzero(tx, dim))
    _same(x.count_nonzero(dim=dim).cpu(), torch.count_nonzero(tx, dim=dim))


def test_all_with_empty_dim_list_reduces_nothing(device):
    torch = pytest.importorskip("torch")
    a = np.array([[0.0, 1.0, 2.0]])
    _same(mg.all(mg.from_numpy(a).to(device), dim=()).cpu(), torch.all(torch.from_numpy(a), dim=()))
    _same(mg.count_nonzero(mg.from_numpy(a).to(device), dim=()).cpu(),
          torch.count_nonzero(torch.from_numpy(a), dim=()))


# ---------------------------------------------------------------------- shifts
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]


@given(data=st.data())
def test_shifts_match_torch(data, device):
    torch = pytest.importorskip("torch")
    dtype = data.draw(st.sampled_from(INT_DTYPES))
    info = np.iinfo(dtype)
    sa, sb = data.draw(broadcastable_shapes(max_dims=2, max_side=3))
    a = data.draw(hnp.arrays(dtype, sa, elements=st.integers(info.min, info.max)))
    low = 0 if dtype == "uint8" else -3
    b = data.draw(hnp.arrays(dtype, sb, elements=st.integers(low, min(info.max, 70))))
    x, y = mg.from_numpy(a).to(device), mg.from_numpy(b).to(device)
    tx, ty = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
    for op in (operator.lshift, operator.rshift):
        _same(op(x, y).cpu(), op(tx, ty))
    _same(mg.bitwise_left_shift(x, y).cpu(), torch.bitwise_left_shift(tx, ty))
    _same(x.bitwise_right_shift(y).cpu(), tx.bitwise_right_shift(ty))
    shift = data.draw(st.integers(-2, 70))
    for op in (operator.lshift, operator.rshift):
        _same(op(x, shift).cpu(), op(tx, shift))
    if a.size:
        k = data.draw(st.integers(-5, 5))
        _same(op(k, y).cpu(), op(k, ty))
        _same((k << y).cpu(), k << ty)


def test_shift_dtypes_and_errors_match_torch(device):
    torch = pytest.importorskip("torch")
    _same((mg.tensor([True], device=device) << 1).cpu(), torch.tensor([True]) << 1)
    _same((mg.tensor([5], dtype=mg.int16, device=device) << mg.tensor([3], device=device)).cpu(),
          torch.tensor([5], dtype=torch.int16) << torch.tensor([3]))
    with pytest.raises(NotImplementedError, match='"lshift_cpu" not implemented for \'Float\''):
        mg.ones(2, device=device) << 1
    with pytest.raises(NotImplementedError, match='"rshift_cpu" not implemented for \'Bool\''):
        mg.tensor([True], device=device) >> mg.tensor([True], device=device)
    with pytest.raises(NotImplementedError, match='"lshift_cpu" not implemented for \'Float\''):
        mg.tensor([1, 2], device=device) << 1.5


# ---------------------------------------------------------------------- reflected bitwise
@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor])
def test_reflected_bitwise_operators_match_torch(op, device):
    torch = pytest.importorskip("torch")
    for values, scalar in [([1, 2, 7, -4], 3), ([True, False], True), ([True, False], 1),
                           ([0, 255], 15)]:
        dtype = "uint8" if values == [0, 255] else None
        x = mg.tensor(values, dtype=getattr(mg, dtype) if dtype else None, device=device)
        tx = torch.tensor(values, dtype=getattr(torch, dtype) if dtype else None)
        _same(op(scalar, x).cpu(), op(scalar, tx))
        _same(op(x, scalar).cpu(), op(tx, scalar))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        op(1, mg.ones(2, device=device))
    with pytest.raises(TypeError):
        op("a", mg.tensor([1], device=device))
