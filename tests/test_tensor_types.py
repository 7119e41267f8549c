"""Legacy tensor types and Tensor API bits (minigrad/tensor_types.py, creation.py's
new_* and size=, ops/conversion.py's __format__, indexing with range), checked against
PyTorch."""
import numpy as np
import pytest

import minigrad as mg

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
          "CharTensor", "ByteTensor", "BoolTensor"]


def _same(mine, theirs):
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    assert tuple(mine.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors_match_torch(name):
    torch = pytest.importorskip("torch")
    mine, theirs = getattr(mg, name), getattr(torch, name)
    _same(mine(2, 3), theirs(2, 3))
    _same(mine(mg.Size([4])), theirs(torch.Size([4])))
    _same(mine(), theirs())
    for data in ([1, 0, 2], (2, 3), [[1.5, 2.0]], np.array([3, 4])):
        m, t = mine(data), theirs(data)
        _same(m, t)
        assert m.tolist() == t.tolist()
    with pytest.raises(TypeError, match="data must be a sequence"):
        mine(2.5)
    with pytest.raises(TypeError):
        theirs(2.5)


@pytest.mark.parametrize("name", LEGACY)
def test_isinstance_checks_dtype_and_cpu(name):
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "int64", "uint8", "bool"):
        mine = isinstance(mg.ones(2, dtype=getattr(mg, dtype)), getattr(mg, name))
        theirs = isinstance(torch.ones(2, dtype=getattr(torch, dtype)), getattr(torch, name))
        assert mine == theirs, dtype
    assert not isinstance(np.ones(2), getattr(mg, name))
    assert mg.LongTensor.dtype == mg.int64


def test_legacy_constructor_with_a_tensor():
    x = mg.tensor([1.0, 2.0])
    assert mg.FloatTensor(x) is x
    with pytest.raises(TypeError):
        mg.FloatTensor(mg.tensor([1, 2]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16",
                                   "int8", "uint8", "bool"])
def test_type_strings_match_torch(dtype):
    torch = pytest.importorskip("torch")
    assert mg.ones(2, dtype=getattr(mg, dtype)).type() == torch.ones(2, dtype=getattr(torch, dtype)).type()


def test_type_conversions_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = mg.tensor([1.5, -2.5]), torch.tensor([1.5, -2.5])
    for mine, theirs in [(x.type(mg.LongTensor), tx.type(torch.LongTensor)),
                         (x.type("torch.IntTensor"), tx.type("torch.IntTensor")),
                         (x.type(mg.float64), tx.type(torch.float64)),
                         (x.type(dtype=mg.int16), tx.type(dtype=torch.int16))]:
        _same(mine, theirs)
        assert mine.tolist() == theirs.tolist()
    assert x.type(mg.FloatTensor) is x and x.type("torch.FloatTensor") is x
    for bad in ("torch.int32", "LongTensor"):
        with pytest.raises(ValueError, match=f"invalid type: '{bad}'"):
            x.type(bad)
        with pytest.raises(ValueError):
            tx.type(bad)
    y = mg.tensor([1.0], requires_grad=True)
    z = y.type(mg.DoubleTensor)
    z.sum().backward()
    assert y.grad.dtype == mg.float32 and y.grad.tolist() == [1.0]


def test_new_methods_match_torch():
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "int64"):
        x = mg.ones(2, dtype=getattr(mg, dtype))
        tx = torch.ones(2, dtype=getattr(torch, dtype))
        pairs = [(x.new_zeros(2, 3), tx.new_zeros(2, 3)), (x.new_zeros((2, 3)), tx.new_zeros((2, 3))),
                 (x.new_zeros(size=(1,)), tx.new_zeros(size=(1,))),
                 (x.new_ones(3), tx.new_ones(3)), (x.new_ones(3, dtype=mg.float64), tx.new_ones(3, dtype=torch.float64)),
                 (x.new_full((2,), 3.5), tx.new_full((2,), 3.5)),
                 (x.new_tensor([1, 2]), tx.new_tensor([1, 2])),
                 (x.new_tensor([1.5], dtype=mg.float64), tx.new_tensor([1.5], dtype=torch.float64))]
        for mine, theirs in pairs:
            _same(mine, theirs)
            assert mine.tolist() == theirs.tolist()
        _same(x.new_empty(3), tx.new_empty(3))
    g = mg.ones(2, requires_grad=True)
    assert not g.new_ones(2).requires_grad and g.new_ones(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        g.new_full(2, 3)
    assert g.new_tensor(g).grad_fn is None and not g.new_tensor(g).requires_grad


def test_nelement_and_false_predicates():
    torch = pytest.importorskip("torch")
    x, tx = mg.ones(2, 3), torch.ones(2, 3)
    assert x.nelement() == tx.nelement() == 6
    for name in ("is_sparse", "is_quantized", "is_meta", "is_xpu", "is_mps"):
        assert getattr(x, name) is getattr(tx, name) is False


def test_format_of_tensors_matches_torch():
    torch = pytest.importorskip("torch")
    for value, spec in [(2.345, ".2f"), (3, ">4"), (0.5, ".1%"), (7, "d"), (1e-7, ".3e")]:
        assert format(mg.tensor(value), spec) == format(torch.tensor(value), spec)
        assert f"{mg.tensor(value):{spec}}" == format(torch.tensor(value), spec)
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(mg.tensor([2.345]), ".2f")
    assert format(mg.tensor([1.0]), "") == repr(mg.tensor([1.0]))


def test_size_keyword_for_zeros_ones_empty():
    torch = pytest.importorskip("torch")
    for name in ("zeros", "ones", "empty"):
        _same(getattr(mg, name)(size=(2, 3)), getattr(torch, name)(size=(2, 3)))
        _same(getattr(mg, name)(size=[4], dtype=mg.int64), getattr(torch, name)(size=[4], dtype=torch.int64))
        with pytest.raises(TypeError, match="got multiple values for argument 'size'"):
            getattr(mg, name)(2, size=(2, 3))
    assert mg.zeros(size=(2,)).tolist() == [0.0, 0.0] and mg.ones(size=(1,)).tolist() == [1.0]


def test_indexing_with_range_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12).reshape(3, 4)
    x, tx = mg.tensor(a), torch.tensor(a)
    for key in [range(3), range(1, 3), (range(2), range(2)), (slice(None), range(0)),
                (slice(None), range(3, 0, -2))]:
        mine, theirs = x[key], tx[key]
        _same(mine, theirs)
        assert mine.tolist() == theirs.tolist()
    y = mg.tensor(a.astype(np.float64), requires_grad=True)
    y[range(1, 3)].sum().backward()
    assert y.grad.tolist() == [[0.0] * 4, [1.0] * 4, [1.0] * 4]
    x[range(2)] = 0
    assert x.tolist()[:2] == [[0] * 4] * 2
