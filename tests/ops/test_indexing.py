"""Indexing: t[key] (basic, advanced, masks, mixed), t[key] = v through autograd, and
masked_fill, tril/triu, gather, index_select, take_along_dim, narrow, select — forward and
gradients against PyTorch, gradcheck/gradgradcheck in float64, views, and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd import grad, gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import shapes, nonempty_shapes, float_arrays, tensors, non_contiguous

CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


def leaf(array, *, device):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=True, device=device)


def vjp(out, inputs, dy):
    return grad(out, inputs, grad_outputs=mg.tensor(dy, device=out.device), allow_unused=True)


def to_torch(torch, item):
    """The same index item for PyTorch."""
    if isinstance(item, tuple):
        return tuple(to_torch(torch, i) for i in item)
    if isinstance(item, mg.Tensor):
        return torch.from_numpy(item.cpu().numpy().copy())

    if isinstance(item, np.ndarray):
        return torch.from_numpy(item.copy())
    if isinstance(item, list):
        return torch.tensor(item, dtype=torch.bool if item and isinstance(item[0], bool) else torch.long)
    return item


# ---------------------------------------------------------------------- key strategies
def _wrap_array(draw, array):
    form = draw(st.sampled_from(["list", "numpy", "tensor", "tensor32"]))
    if form == "list":
        return array.tolist()
    if form == "numpy":
        return array
    if form == "tensor32" and array.dtype != bool:
        return mg.tensor(array.astype(np.int32))
    return mg.tensor(array)


def _is_full(item):
    return isinstance(item, slice) and item == slice(None)


@st.composite
def index_keys(draw, shape, allow_advanced=True, allow_repeats=True):
    """An index for ``shape``: ints, slices (positive steps), None, Ellipsis, integer arrays
    (one shared broadcast shape, repeats allowed), or one boolean mask."""
    index_shape = draw(st.sampled_from([(2,), (3,), (1,), (2, 2), (0,), (2, 1)]))
    unique_length = draw(st.integers(0, 3))
    kinds = ["int", "slice", "full"] + (["array", "mask"] if allow_advanced else [])
    items, used_mask, used_array = [], False, False
    for size in shape:
        kind = draw(st.sampled_from(kinds))
        if kind in ("int", "array") and size == 0:
            kind = "slice"
        if (kind == "mask" and used_array) or (kind == "array" and used_mask) or (kind == "mask" and used_mask):
            kind = "full"
        if kind == "int":
            items.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            items.append(slice(draw(st.none() | st.integers(-5, 5)), draw(st.none() | st.integers(-5, 5)),
                               draw(st.none() | st.integers(1, 3))))
        elif kind == "full":
            items.append(slice(None))
        elif kind == "array":
            used_array = True
            if allow_repeats:
                values = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(index_shape)),
                                       max_size=int(np.prod(index_shape))))
                items.append(_wrap_array(draw, np.array(values, dtype=np.int64).reshape(index_shape)))
            elif unique_length <= size:  # distinct positions, one length for all arrays
                perm = draw(st.permutations(range(size)))[:unique_length]
                items.append(_wrap_array(draw, np.array(perm, dtype=np.int64)))
            else:
                items.append(slice(None))
        else:
            used_mask = True
            mask = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
            items.append(_wrap_array(draw, mask))
    # Drop trailing full slices, or fold a run of them into an Ellipsis.
    if draw(st.booleans()):
        while items and _is_full(items[-1]) and draw(st.booleans()):
            items.pop()
    elif draw(st.booleans()):  # every dim is listed, so the Ellipsis stands for this run exactly
        start = draw(st.integers(0, len(items)))
        stop = start
        while stop < len(items) and _is_full(items[stop]):
            stop += 1
        items[start:stop] = [Ellipsis]
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    # A lone item may stand alone, except a nested list: PyTorch's legacy rule reads
    # x[[[0, 0], [0, 0]]] as the tuple x[[0, 0], [0, 0]], not as one 2-D index.
    nested = isinstance(items[0], list) and any(isinstance(v, list) for v in items[0]) \
        if len(items) == 1 else False
    if len(items) == 1 and not nested and draw(st.booleans()):
        return items[0]
    return tuple(items)


@st.composite
def indexing_cases(draw, allow_advanced=True, allow_repeats=True, min_dims=0):
    x = draw(tensors(shapes(min_dims=min_dims, max_dims=3, max_side=4)))
    key = draw(index_keys(tuple(x.shape), allow_advanced, allow_repeats))
    return x, key


# ---------------------------------------------------------------------- getitem vs PyTorch
@given(indexing_cases())
def test_getitem_matches_torch_forward_and_gradient(device, case):
    torch = pytest.importorskip("torch")
    x, key = case
    x = on_device(x, device)
    tx = torch.from_numpy(x.detach().cpu().numpy().copy()).requires_grad_()
    expected = tx[to_torch(torch, key)]
    y = x[key]
    assert tuple(y.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), expected.detach().numpy())
    dy = np.random.default_rng(0).standard_normal(tuple(y.shape))
    (gx,) = vjp(y, x, dy)
    (tgx,) = torch.autograd.grad(expected, tx, torch.from_numpy(dy))
    np.testing.assert_allclose(gx.cpu().numpy(), tgx.numpy(), rtol=1e-12, atol=1e-12)


def test_mixed_advanced_and_basic_follow_pytorch_not_numpy(device):
    torch = pytest.importorskip("torch")
    a = np.arange(60.0).reshape(3, 4, 5)
    x, tx = leaf(a, device=device), torch.tensor(a)
    for key in [(0, slice(None), [1, 2]), ([0, 1], slice(None), [0, 1]), ([0, 2], 1),
                (slice(None), [[0], [1]], [1, 2]), (Ellipsis, None, [0, 0]), (True, [0, 1]),
                (False,), ([0, 1], True), (slice(1, None), np.array([True, False, True, True]))]:
        expected = tx[to_torch(torch, key)].numpy()
        np.testing.assert_array_equal(x[key].detach().cpu().numpy(), expected, err_msg=str(key))
    assert tuple(x[0, :, [1, 2]].shape) == (4, 2)  # numpy would say (2, 4)


def test_repeated_indices_accumulate(device):
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(4, 3)
    x, tx = leaf(a, device=device), torch.tensor(a, requires_grad=True)
    index = [0, 0, 2, 0, 3, 2]
    dy = np.arange(18.0).reshape(6, 3)
    (gx,) = vjp(x[index], x, dy)
    tx[index].backward(torch.tensor(dy))
    np.testing.assert_array_equal(gx.cpu().numpy(), tx.grad.numpy())
    assert gx.cpu().numpy()[0].tolist() == (dy[0] + dy[1] + dy[3]).tolist()


def test_boolean_masks(device):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((3, 4))
    x, tx = leaf(a, device=device), torch.tensor(a, requires_grad=True)
    mask = a > 0
    for key in [mg.tensor(mask, device=device), mask, (mg.tensor(mask[:, 0], device=device), 1), (slice(None), mask[0]),
                (slice(None), mg.tensor(mask[1], device=device)), (slice(None), mask[2].tolist())]:
        y, ty = x[key], tx[to_torch(torch, key)]
        np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
        dy = np.ones(tuple(y.shape))
        (gx,) = vjp(y, x, dy)
        (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(dy))
        np.testing.assert_array_equal(gx.cpu().numpy(), tgx.numpy())
    assert x[x > 0].shape == (int(mask.sum()),)


def test_zero_size_and_non_contiguous_inputs(device):
    a = non_contiguous(np.arange(24.0).reshape(2, 3, 4))
    x = mg.from_numpy(a).to(device).requires_grad_()
    assert not x.is_contiguous()
    np.testing.assert_array_equal(x[:, 1:, [3, 0]].detach().cpu().numpy(), a[:, 1:, [3, 0]])
    empty = leaf(np.zeros((0, 3)), device=device)
    assert empty[:, [0, 2]].shape == (0, 2)
    assert empty[[]].shape == (0, 3)
    (g,) = vjp(empty[:, 1], empty, np.zeros(0))
    assert g.shape == (0, 3)


def test_zero_dim_tensor_indexing(device):
    x = leaf(3.0, device=device)
    assert x[None].shape == (1,) and x[...].shape == () and x[()].shape == ()
    (g,) = vjp(x[None, None], x, np.ones((1, 1)))
    assert g.item() == 1.0


def test_integer_scalars_of_every_kind(device):
    x = leaf(np.arange(6.0).reshape(2, 3), device=device)
    for i in [1, np.int64(1), mg.tensor(1, device=device), np.array(1), mg.tensor(1, dtype=mg.int32, device=device)]:
        assert x[i].tolist() == [3.0, 4.0, 5.0]
    assert x[:,
             mg.tensor(1, device=device):mg.tensor(3, device=device)].tolist() == [[1.0, 2.0], [4.0, 5.0]]


# ---------------------------------------------------------------------- getitem gradcheck
@settings(max_examples=15)
@given(indexing_cases())
def test_getitem_gradcheck_and_gradgradcheck(device, case):
    x, key = case
    x = on_device(x, device)
    assert gradcheck(lambda t: t[key], (x,), **CHECK)
    assert gradgradcheck(lambda t: t[key], (x,), **CHECK)


def test_index_backward_is_differentiable(device):
    # d/dx of sum((x[idx])²) is a scatter of 2·x[idx]; its own derivative needs Index again.
    x = leaf([1.0, 2.0, 3.0], device=device)
    y = x[[0, 0, 2]]
    (g,) = grad(y * y, x, grad_outputs=mg.ones(3, dtype=mg.float64, device=device),
                create_graph=True)
    np.testing.assert_allclose(g.detach().cpu().numpy(), [4.0, 0.0, 6.0])
    (gg,) = grad(g, x, grad_outputs=mg.ones(3, dtype=mg.float64, device=device))
    np.testing.assert_allclose(gg.cpu().numpy(), [4.0, 0.0, 2.0])


# ---------------------------------------------------------------------- views
def test_basic_indexing_returns_views_sharing_version(device):
    x = mg.zeros(3, 4, device=device)
    y = x[0]
    z = x[[0]]
    assert y._base is x and z._base is None
    x[0, 1] = 5.0
    assert y.tolist() == [0.0, 5.0, 0.0, 0.0]
    assert z.tolist() == [[0.0, 0.0, 0.0, 0.0]]
    assert y._version == x._version == 1 and z._version == 0
    assert x.narrow(1, 1, 2)._base is x and x.select(1, 2)._base is x


def test_saved_view_modified_in_place_raises(device):
    a = leaf(np.ones((2, 3)), device=device)
    h = a * 1.0
    row = h[0]
    out = row * row  # saves row, a view of h
    h[0, 0] = 7.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        vjp(out, a, np.ones(3))


# ---------------------------------------------------------------------- getitem errors
@pytest.mark.parametrize("shape, key, exc, message", [
    ((3,), 5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3,), -4, IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    ((3, 4), (0, 7), IndexError, "index 7 is out of bounds for dimension 1 with size 4"),
    ((3, 4), [0, 5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3, 4, 5), (slice(None), [0, 1], [0, 9]), IndexError,
     "index 9 is out of bounds for dimension 1 with size 5"),
    ((0, 3), [0], IndexError, "index is out of bounds for dimension with size 0"),
    ((3,), (0, 0), IndexError, "too many indices for tensor of dimension 1"),
    ((), 0, IndexError, "invalid index of a 0-dim tensor"),
    ((3,), slice(None, None, -1), ValueError, "step must be greater than zero"),
    ((3,), slice(None, None, 0), ValueError, "slice step cannot be zero"),
    ((3,), 1.5, IndexError, r"only integers, slices \(`:`\), ellipsis"),
    ((3,), "a", IndexError, "valid indices"),
    ((3, 4), np.ones(4, dtype=bool), IndexError,
     r"The shape of the mask \[4\] at index 0 does not match the shape of the indexed tensor "
     r"\[3, 4\] at index 0"),
    ((3, 4), ([0, 1], [0, 1, 2]), IndexError, "shape mismatch: indexing tensors could not be broadcast"),
])
def test_getitem_errors(shape, key, exc, message, device):
    with pytest.raises(exc, match=message):
        mg.zeros(*shape, device=device)[key]


def test_getitem_errors_match_torch_messages(device):
    torch = pytest.importorskip("torch")
    x, tx = mg.zeros(3, 4, 5, device=device), torch.zeros(3, 4, 5)
    for key in [(0, 7), (None, 0, 7), (Ellipsis, 9), ([0, 1], slice(None), [0, 9]),
                (slice(None), np.ones(3, dtype=bool))]:
        with pytest.raises(IndexError) as ours:
            x[key]
        with pytest.raises(IndexError) as theirs:
            tx[to_torch(torch, key)]
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[mg.tensor([1.0], device=device)]


# ---------------------------------------------------------------------- setitem
@given(indexing_cases(allow_repeats=False), st.booleans())
def test_setitem_through_autograd_matches_torch(device, case, scalar_value):
    torch = pytest.importorskip("torch")
    x, key = case
    x = on_device(x, device)
    target_shape = tuple(x.detach()[key].shape)
    rng = np.random.default_rng(2)
    a = x.detach().cpu().numpy().copy()
    v = rng.standard_normal(target_shape[1:] if target_shape and rng.integers(2) else target_shape)
    base, tbase = leaf(a, device=device), torch.tensor(a, requires_grad=True)
    value, tvalue = leaf(v, device=device), torch.tensor(v, requires_grad=True)
    h, th = base * 2.0, tbase * 2.0
    if scalar_value:
        h[key], th[to_torch(torch, key)] = 1.5, 1.5
    else:
        h[key], th[to_torch(torch, key)] = value, tvalue
    np.testing.assert_array_equal(h.detach().cpu().numpy(), th.detach().cpu().numpy())
    dy = rng.standard_normal(h.shape)
    inputs, tinputs = ([base], [tbase]) if scalar_value else ([base, value], [tbase, tvalue])
    grads = vjp(h, inputs, dy)
    tgrads = torch.autograd.grad(th, tinputs, torch.tensor(dy), allow_unused=True)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g.cpu().numpy(), tg.numpy(), rtol=1e-12, atol=1e-12)


def test_setitem_on_zero_dim_arithmetic_result(device):
    a = leaf(2.0, device=device)
    for h in (a * 2.0, a.clone()):
        h[()] = a * a
        assert h.shape == ()
        (g,) = vjp(h, a, np.ones(()))
        assert g.item() == 4.0


def test_setitem_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(3)
    a, v = (leaf(rng.standard_normal((3, 4)), device=device),
            leaf(rng.standard_normal((2,)), device=device))

    def put(a, v):
        h = a * 1.0
        h[[0, 2], 1] = v
        h[1:, ::2] = h[1:, ::2] * 3.0 + v[0]  # reads h before the write: a copy-free view
        return h

    assert gradcheck(put, (a, v), **CHECK)
    assert gradgradcheck(put, (a, v), **CHECK)


def test_setitem_on_leaf_requiring_grad_raises(device):
    x = mg.zeros(3, 4, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        x[0] = 1.0
    with mg.no_grad():
        x[0] = 1.0
    assert x._version == 1 and x.tolist()[0] == [1.0] * 4 and x.grad_fn is None


def test_setitem_value_conversion_and_broadcasting(device):
    x = mg.zeros(3, 4, device=device)
    x[0] = mg.ones(1, 1, 4, device=device)           # leading 1-dims are dropped
    x[1:, 1] = mg.tensor([2.0, 3.0], device=device)
    x[2, :, None] = mg.ones(4, 1, device=device) * 4
    x[x == 0] = -1.0
    assert x.tolist() == [[1.0] * 4, [-1.0, 2.0, -1.0, -1.0], [4.0, 4.0, 4.0, 4.0]]
    ints = mg.zeros(3, dtype=mg.int64, device=device)
    ints[0] = 2.7
    ints[1] = mg.tensor(3.9, device=device)
    assert ints.tolist() == [2, 3, 0] and ints.dtype == mg.int64
    with pytest.raises(RuntimeError, match=r"value tensor of shape \[3, 4\] cannot be broadcast to "
                                           r"indexing result of shape \[2, 4\]"):
        x[[0, 1]] = mg.ones(3, 4, device=device)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = mg.ones(5, device=device)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        ints[[0, 1]] = mg.tensor([1.5, 2.5], device=device)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5] = 1.0
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1] = 1.0


def test_setitem_float64_target_float32_value_keeps_gradient(device):
    torch = pytest.importorskip("torch")
    v = mg.ones(4, requires_grad=True, device=device)
    h = mg.zeros(3, 4, dtype=mg.float64, device=device) * 1.0
    h[0] = v
    assert h.grad_fn is not None and h.dtype == mg.float64
    (g,) = vjp(h, v, np.full((3, 4), 2.0))
    assert g.dtype == mg.float32 and g.tolist() == [2.0] * 4
    tv = torch.ones(4, requires_grad=True)
    th = torch.zeros(3, 4, dtype=torch.float64)
    th[0] = tv
    th.backward(torch.full((3, 4), 2.0, dtype=torch.float64))
    assert tv.grad.tolist() == g.tolist()


def test_setitem_then_saved_tensor_raises(device):
    a = leaf(np.ones(3), device=device)
    h = a * 1.0
    out = h * h
    h[0] = 2.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        vjp(out, a, np.ones(3))


# ---------------------------------------------------------------------- masked_fill
@given(st.data())
def test_masked_fill_matches_torch(device, data):
    torch = pytest.importorskip("torch")
    from tests.strategies import broadcastable_shapes
    shape, mask_shape = data.draw(broadcastable_shapes(max_dims=3))
    x = data.draw(tensors(st.just(shape)))
    x = on_device(x, device)
    mask = np.asarray(data.draw(float_arrays(mask_shape)) > 0)
    value_is_tensor = data.draw(st.booleans())
    value = leaf(1.25, device=device) if value_is_tensor else -2.5
    y = mg.masked_fill(x, mg.tensor(mask, device=device), value)
    tx = torch.from_numpy(x.detach().cpu().numpy().copy()).requires_grad_()
    tvalue = torch.tensor(1.25, dtype=torch.float64, requires_grad=True) if value_is_tensor else -2.5
    ty = tx.masked_fill(torch.from_numpy(mask), tvalue)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(4).standard_normal(ty.shape)
    inputs, tinputs = ([x, value], [tx, tvalue]) if value_is_tensor else ([x], [tx])
    for g, tg in zip(vjp(y, inputs, dy), torch.autograd.grad(ty, tinputs, torch.tensor(dy))):
        np.testing.assert_allclose(g.cpu().numpy(), tg.numpy(), rtol=1e-12, atol=1e-12)


def test_masked_fill_gradcheck_and_dtypes(device):
    rng = np.random.default_rng(5)
    x, value = leaf(rng.standard_normal((3, 4)), device=device), leaf(0.5, device=device)
    mask = mg.tensor(rng.standard_normal((4,)) > 0, device=device)
    assert gradcheck(lambda x, v: x.masked_fill(mask, v), (x, value), **CHECK)
    assert gradgradcheck(lambda x, v: x.masked_fill(mask, v) * x, (x, value), **CHECK)
    ints = mg.zeros(2, dtype=mg.int64,
                    device=device).masked_fill(mg.tensor([True, False], device=device), 1.7)
    assert ints.dtype == mg.int64 and ints.tolist() == [1, 0]
    f32 = mg.zeros(2, device=device).masked_fill(mg.tensor([True, False], device=device),
                                                 mg.tensor(2.0, dtype=mg.float64, device=device))
    assert f32.dtype == mg.float32


def test_masked_fill_errors(device):
    x = mg.zeros(3, 4, device=device)
    with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks, but got mask "
                                           "with dtype float"):
        x.masked_fill(mg.zeros(3, 4, device=device), 1.0)
    with pytest.raises(RuntimeError, match=r"only supports a 0-dimensional value tensor, but got "
                                           r"tensor with 1 dimension\(s\)"):
        x.masked_fill(mg.ones(3, 4, dtype=mg.bool, device=device), mg.ones(1, device=device))
    with pytest.raises(RuntimeError):
        x.masked_fill(mg.ones(2, 4, dtype=mg.bool, device=device), 1.0)


# ---------------------------------------------------------------------- tril / triu
@given(tensors(shapes(min_dims=2, max_dims=4, max_side=4)), st.integers(-4, 4), st.booleans())
def test_tril_triu_match_torch(device, x, diagonal, upper):
    x = on_device(x, device)
    torch = pytest.importorskip("torch")
    fn = mg.triu if upper else mg.tril
    y = fn(x, diagonal)
    tx = torch.from_numpy(x.detach().cpu().numpy().copy()).requires_grad_()
    ty = (torch.triu if upper else torch.tril)(tx, diagonal)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(6).standard_normal(ty.shape)
    (g,) = vjp(y, x, dy)
    np.testing.assert_array_equal(g.cpu().numpy(),
                                  torch.autograd.grad(ty, tx, torch.tensor(dy))[0].numpy())


def test_tril_triu_gradcheck_and_errors(device):
    x = leaf(np.random.default_rng(7).standard_normal((2, 3, 4)), device=device)
    assert gradgradcheck(lambda t: t.tril(1) * t.triu(-1), (x,), **CHECK)
    assert gradcheck(lambda t: mg.triu(t), (x,), **CHECK)
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        mg.zeros(3, device=device).tril()
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        mg.zeros(3, device=device).triu()


# ---------------------------------------------------------------------- gather / index_select
@st.composite
def gather_cases(draw):
    shape = draw(nonempty_shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    index_shape = tuple(draw(st.integers(0, s)) if i != d else draw(st.integers(0, 4))
                        for i, s in enumerate(shape))
    index = np.array(draw(st.lists(st.integers(0, shape[d] - 1), min_size=int(np.prod(index_shape)),
                                   max_size=int(np.prod(index_shape)))), dtype=np.int64)
    return draw(tensors(st.just(shape))), dim, index.reshape(index_shape)


@given(gather_cases())
def test_gather_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    x, dim, index = case
    x = on_device(x, device)
    y = mg.gather(x, dim, mg.tensor(index, device=device))
    tx = torch.from_numpy(x.detach().cpu().numpy().copy()).requires_grad_()
    ty = torch.gather(tx, dim, torch.from_numpy(index))
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(8).standard_normal(index.shape)
    (g,) = vjp(y, x, dy)
    np.testing.assert_allclose(g.cpu().numpy(), torch.autograd.grad(ty, tx, torch.tensor(dy))[0].numpy(),
                               rtol=1e-12, atol=1e-12)


def test_gather_gradgradcheck_and_errors(device):
    x = leaf(np.random.default_rng(9).standard_normal((3, 4)), device=device)
    index = mg.tensor([[0, 0, 2], [1, 0, 0]], device=device)
    assert gradcheck(lambda t: t.gather(1, index) ** 2, (x,), **CHECK)
    assert gradgradcheck(lambda t: t.gather(0, index) ** 2, (x,), **CHECK)
    assert mg.gather(mg.tensor(2.0, device=device), 0, mg.tensor(0, device=device)).shape == ()
    m = mg.zeros(3, 4, device=device)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        m.gather(0, mg.tensor([[5]], device=device))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        m.gather(0, mg.tensor([[-1]], device=device))
    with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions"):
        m.gather(0, mg.tensor([0], device=device))
    with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int32/int64 for index"):
        m.gather(0, mg.tensor([[0.0]], device=device))
    with pytest.raises(RuntimeError, match=r"Size does not match at dimension 1 expected index \[2, 5\] "
                                           r"to be no larger than self \[3, 4\] apart from dimension 0"):
        m.gather(0, mg.zeros(2, 5, dtype=mg.int64, device=device))
    with pytest.raises(IndexError, match="Dimension out of range"):
        m.gather(2, mg.zeros(2, 2, dtype=mg.int64, device=device))


@given(tensors(nonempty_shapes(min_dims=1, max_dims=3)), st.data())
def test_index_select_matches_torch(device, x, data):
    x = on_device(x, device)
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = x.shape[dim]
    index = np.array(data.draw(st.lists(st.integers(0, size - 1), max_size=5)), dtype=np.int64)
    index_t = mg.tensor(index.astype(data.draw(st.sampled_from([np.int64, np.int32]))),
                        device=device)
    y = mg.index_select(x, dim, index_t)
    tx = torch.from_numpy(x.detach().cpu().numpy().copy()).requires_grad_()
    ty = torch.index_select(tx, dim, torch.from_numpy(index))
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(10).standard_normal(ty.shape)
    (g,) = vjp(y, x, dy)
    np.testing.assert_allclose(g.cpu().numpy(), torch.autograd.grad(ty, tx, torch.tensor(dy))[0].numpy(),
                               rtol=1e-12, atol=1e-12)


def test_index_select_gradgradcheck_and_errors(device):
    x = leaf(np.random.default_rng(11).standard_normal((3, 2)), device=device)
    assert gradgradcheck(lambda t: t.index_select(0,
                                                  mg.tensor([2, 2, 0], device=device)) ** 2, (x,), **CHECK)
    assert mg.zeros(3, 4, device=device).index_select(0,
                                                      mg.tensor(1, device=device)).shape == (1, 4)
    with pytest.raises(IndexError, match="index out of range in self"):
        mg.zeros(3, 4, device=device).index_select(0, mg.tensor([5], device=device))
    with pytest.raises(IndexError, match="index out of range in self"):
        mg.zeros(3, 4, device=device).index_select(0, mg.tensor([-1], device=device))
    with pytest.raises(IndexError, match=r"index_select\(\): Index is supposed to be a vector"):
        mg.zeros(3, 4, device=device).index_select(0, mg.tensor([[0]], device=device))
    with pytest.raises(RuntimeError, match="Expected dtype int32 or int64 for index"):
        mg.zeros(3, 4, device=device).index_select(0, mg.tensor([1.0], device=device))


def test_take_along_dim_matches_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    a = rng.standard_normal((3, 4))
    for index, dim in [(rng.integers(0, 4, (3, 2)), 1), (rng.integers(0, 4, (1, 5)), 1),
                       (rng.integers(0, 3, (2, 1)), 0), (rng.integers(0, 12, (5,)), None),
                       (np.argsort(a, axis=1), 1)]:
        x, tx = leaf(a, device=device), torch.tensor(a, requires_grad=True)
        y = mg.take_along_dim(x, mg.tensor(index, device=device), dim)
        ty = torch.take_along_dim(tx, torch.tensor(index), dim)
        np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
        dy = rng.standard_normal(ty.shape)
        (g,) = vjp(y, x, dy)
        np.testing.assert_allclose(g.cpu().numpy(),
                                   torch.autograd.grad(ty, tx, torch.tensor(dy))[0].numpy())
    with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Int"):
        mg.take_along_dim(x, mg.zeros(1, 1, dtype=mg.int32, device=device), 1)
    with pytest.raises(RuntimeError, match="should have the same number of dimensions"):
        mg.take_along_dim(x, mg.zeros(1, dtype=mg.int64, device=device), 1)


# ---------------------------------------------------------------------- narrow / select
@given(tensors(nonempty_shapes(min_dims=1, max_dims=3)), st.data())
def test_narrow_and_select_match_torch(device, x, data):
    x = on_device(x, device)
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = x.shape[dim]
    start = data.draw(st.integers(-size, size))
    length = data.draw(st.integers(0, size - (start % size if start < 0 else start)))
    index = data.draw(st.integers(-size, size - 1))
    tx = torch.from_numpy(x.detach().cpu().numpy().copy()).requires_grad_()
    for y, ty in [(x.narrow(dim, start, length), tx.narrow(dim, start, length)),
                  (mg.select(x, dim, index), tx.select(dim, index))]:
        np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
        dy = np.random.default_rng(13).standard_normal(ty.shape)
        (g,) = vjp(y, x, dy)
        np.testing.assert_array_equal(g.cpu().numpy(),
                                      torch.autograd.grad(ty, tx, torch.tensor(dy))[0].numpy())


@pytest.mark.parametrize("call, exc, message", [
    (lambda m: m.narrow(0, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)\."),
    (lambda m: m.narrow(0, -4, 1), IndexError, r"start out of range \(expected to be in range of \[-3, 3\], but got -4\)"),
    (lambda m: m.narrow(0, 1, -1), RuntimeError, r"narrow\(\): length must be non-negative\."),
    (lambda m: mg.tensor(1.0).narrow(0, 0, 1), RuntimeError, "narrow\\(\\) cannot be applied to a 0-dim tensor"),
    (lambda m: m.select(0, 5), IndexError, r"select\(\): index 5 out of range for tensor of size \[3, 4\] at dimension 0"),
    (lambda m: m.select(1, -5), IndexError, r"index -5 out of range for tensor of size \[3, 4\] at dimension 1"),
    (lambda m: m.select(2, 0), IndexError, "Dimension out of range"),
    (lambda m: mg.tensor(1.0).select(0, 0), IndexError, r"select\(\) cannot be applied to a 0-dim tensor"),
])
def test_narrow_select_errors(call, exc, message, device):
    with pytest.raises(exc, match=message):
        call(mg.zeros(3, 4, device=device))


def test_iteration_uses_indexing(device):
    x = leaf(np.arange(6.0).reshape(3, 2), device=device)
    rows = list(x)
    assert [r.tolist() for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    (g,) = vjp(rows[1], x, np.ones(2))
    assert g.tolist() == [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
