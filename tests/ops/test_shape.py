"""Shape ops (reshape/view, flatten, squeeze/unsqueeze, transpose/permute/.T/.mT,
expand/broadcast_to): values and gradients against PyTorch, gradcheck in float64, view
semantics (memory and version counter shared with the base) and PyTorch's errors."""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import nonempty_shapes, shapes, tensors


def compare_with_torch(fn, array, rtol=1e-12, *, device):
    """fn applied to a minigrad and a torch leaf made from ``array``: same shape, values,
    and gradient for a random upstream gradient."""
    torch = pytest.importorskip("torch")
    ours = mg.tensor(array, requires_grad=True, device=device)
    theirs = torch.tensor(array, requires_grad=True)
    out, expected = fn(ours), fn(theirs)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(out.detach().cpu().numpy(), expected.detach().numpy())
    upstream = np.random.default_rng(0).standard_normal(tuple(out.shape))
    (g,) = mg.autograd.grad(out, [ours], grad_outputs=mg.tensor(upstream, device=device))
    (e,) = torch.autograd.grad(expected, [theirs], grad_outputs=torch.tensor(upstream))
    np.testing.assert_allclose(g.cpu().numpy(), e.numpy(), rtol=rtol)


@st.composite
def arrays_with_dims(draw, min_dims=0, max_dims=4, min_side=0):
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side))
    return np.random.default_rng(draw(st.integers(0, 2 ** 16))).standard_normal(shape)


def divisors_shape(draw, numel):
    """A random shape with the given number of elements (a -1 placeholder sometimes)."""
    dims, rest = [], numel
    for _ in range(draw(st.integers(0, 3))):
        d = draw(st.sampled_from([k for k in range(1, rest + 1) if rest % k == 0] or [1]))
        dims.append(d)
        rest //= d
    dims.append(rest)
    if draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


# ---------------------------------------------------------------------- reshape / view
@given(data=st.data(), array=arrays_with_dims(min_side=1))
def test_reshape_and_view_match_torch(data, array, device):
    target = divisors_shape(data.draw, array.size)
    compare_with_torch(lambda t: t.reshape(target), array, device=device)
    compare_with_torch(lambda t: t.view(*target), array, device=device)


@given(x=tensors(shape_strategy=nonempty_shapes(max_dims=3, max_side=3)))
def test_reshape_gradcheck_and_gradgradcheck(x, device):
    x = on_device(x, device)
    assert gradcheck(lambda t: t.reshape(-1) * 2.0, (x,))
    assert gradgradcheck(lambda t: t.reshape(-1) * t.reshape(-1), (x,))


def test_reshape_accepts_tuple_list_and_varargs(device):
    x = mg.arange(24.0, device=device)
    assert tuple(x.reshape(2, 3, 4).shape) == (2, 3, 4)
    assert tuple(x.reshape((4, 6)).shape) == (4, 6)
    assert tuple(x.view([6, -1]).shape) == (6, 4)
    assert tuple(mg.reshape(x, (3, 8)).shape) == (3, 8)
    assert tuple(mg.tensor([3.0], device=device).reshape(()).shape) == ()
    assert tuple(mg.zeros(0, 3, device=device).reshape(-1, 3).shape) == (0, 3)
    with pytest.raises(RuntimeError):  # -1 is ambiguous with zero elements
        mg.zeros(0, 3, device=device).reshape(0, -1)


@pytest.mark.parametrize("shape", [(5, 5), (-1, -1), (7, -1), (-2, 12)])
def test_reshape_invalid_shape_raises(shape, device):
    with pytest.raises(RuntimeError):
        mg.arange(24.0, device=device).reshape(shape)


def test_reshape_of_non_contiguous_copies_but_view_raises(device):
    torch = pytest.importorskip("torch")
    x = mg.arange(24.0, device=device).reshape(2, 3, 4).transpose(0, 1)
    expected = torch.arange(24.0).reshape(2, 3, 4).transpose(0, 1)
    np.testing.assert_array_equal(x.reshape(-1).cpu().numpy(), expected.reshape(-1).numpy())
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view(-1)
    with pytest.raises(RuntimeError):
        expected.view(-1)
    # Views that only split or merge dims whose strides allow it still work, as in torch.
    np.testing.assert_array_equal(x.view(3, 2, 2, 2).cpu().numpy(),
                                  expected.view(3, 2, 2, 2).numpy())


def test_view_shares_memory_with_base(device):
    x = mg.zeros(2, 3, device=device)
    v = x.view(6)
    v.add_(1.0)
    np.testing.assert_array_equal(x.cpu().numpy(), np.ones((2, 3)))
    assert x._version == v._version == 1


def test_view_dtype_reinterprets_bits(device):
    torch = pytest.importorskip("torch")
    expected = torch.tensor([1.0, 2.0]).view(torch.int32)
    assert mg.tensor([1.0, 2.0], device=device).view(mg.int32).tolist() == expected.tolist()
    assert mg.tensor([0.5], device=device).view(mg.int32).tolist() == [1056964608]


VIEW_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("target", VIEW_DTYPES)
@pytest.mark.parametrize("source", ["float32", "float64", "int16", "uint8"])
@pytest.mark.parametrize("layout", ["contiguous", "0-d", "transposed", "column", "offset", "rows"])
def test_view_dtype_matches_torch_shapes_values_and_errors(source, target, layout, device):
    torch = pytest.importorskip("torch")
    base = np.arange(1, 25).reshape(4, 6).astype(source) if source != "uint8" else \
        np.arange(24, dtype=np.uint8).reshape(4, 6)
    pick = {"contiguous": lambda t: t, "0-d": lambda t: t[1, 2], "transposed": lambda t: t.t(),
            "column": lambda t: t[:, 2:3], "offset": lambda t: t[:, 1:5], "rows": lambda t: t[::2]}
    x = pick[layout](mg.from_numpy(base.copy()).to(device))
    tx = pick[layout](torch.from_numpy(base.copy()))
    tdtype = getattr(torch, target)
    try:
        expected = tx.view(tdtype)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=re.escape(str(error).split(",")[0])):
            x.view(getattr(mg, target))
        return
    got = x.view(getattr(mg, target))
    assert tuple(got.shape) == tuple(expected.shape) and str(got.dtype) == target
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


def test_view_dtype_shares_memory_and_is_not_differentiable(device):
    x = mg.ones(2, device=device, requires_grad=True)
    assert not x.view(mg.float32).requires_grad and not x.view(mg.float16).requires_grad
    y = mg.ones(2, device=device)
    v = y.view(mg.int32)
    v[0] = 0
    assert y.tolist() == [0.0, 1.0] and y._version == v._version == 1


# ---------------------------------------------------------------------- flatten
@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (0, 1), (-2, -1), (1, 1), (2, 3), (-4, 0)])
def test_flatten_matches_torch(start, end, device):
    array = np.random.default_rng(0).standard_normal((2, 3, 1, 4))
    compare_with_torch(lambda t: t.flatten(start, end), array, device=device)
    compare_with_torch(lambda t: t.flatten(start_dim=start, end_dim=end), array, device=device)


def test_flatten_edge_cases(device):
    compare_with_torch(lambda t: t.flatten(), np.array(2.0), device=device)
    compare_with_torch(lambda t: t.flatten(), np.zeros((0, 3)), device=device)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        mg.ones(2, 3, 4, device=device).flatten(2, 1)
    with pytest.raises(IndexError):
        mg.ones(2, 3, device=device).flatten(3)


# ---------------------------------------------------------------------- squeeze / unsqueeze
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1, (0, 2), (0, 1, 3)])
def test_squeeze_matches_torch(dim, device):
    array = np.random.default_rng(0).standard_normal((1, 3, 1, 1))
    compare_with_torch(lambda t: t.squeeze() if dim is None else t.squeeze(dim), array,
                       device=device)


def test_squeeze_zero_dim_and_errors(device):
    compare_with_torch(lambda t: t.squeeze(0), np.array(1.5), device=device)
    compare_with_torch(lambda t: t.squeeze(-1), np.array(1.5), device=device)
    compare_with_torch(lambda t: t.squeeze(dim=0), np.zeros((1, 0)), device=device)
    with pytest.raises(IndexError):
        mg.zeros(1, 2, device=device).squeeze(2)


@given(array=arrays_with_dims(max_dims=3), data=st.data())
def test_unsqueeze_matches_torch(array, data, device):
    dim = data.draw(st.integers(-array.ndim - 1, array.ndim))
    compare_with_torch(lambda t: t.unsqueeze(dim), array, device=device)


def test_unsqueeze_out_of_range_raises_index_error(device):
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.ones(2, 3, device=device).unsqueeze(3)
    with pytest.raises(IndexError):
        mg.ones(2, 3, device=device).unsqueeze(-4)


@given(x=tensors(shape_strategy=st.sampled_from([(1, 3), (2, 1, 2), (1,)])))
def test_squeeze_unsqueeze_gradcheck(x, device):
    x = on_device(x, device)
    assert gradcheck(lambda t: t.squeeze().unsqueeze(0) * 3.0, (x,))


# ---------------------------------------------------------------------- transpose / permute
@given(array=arrays_with_dims(min_dims=1), data=st.data())
def test_transpose_matches_torch(array, data, device):
    d0 = data.draw(st.integers(-array.ndim, array.ndim - 1))
    d1 = data.draw(st.integers(-array.ndim, array.ndim - 1))
    compare_with_torch(lambda t: t.transpose(d0, d1), array, device=device)
    compare_with_torch(lambda t: t.swapaxes(d0, d1), array, device=device)


@given(array=arrays_with_dims(min_dims=1), data=st.data())
def test_permute_matches_torch(array, data, device):
    dims = data.draw(st.permutations(range(array.ndim)))
    negative = [d - array.ndim if data.draw(st.booleans()) else d for d in dims]
    compare_with_torch(lambda t: t.permute(*negative), array, device=device)
    compare_with_torch(lambda t: t.permute(tuple(dims)), array, device=device)


@given(x=tensors(shape_strategy=nonempty_shapes(min_dims=2, max_dims=3, max_side=3)))
def test_permute_gradcheck_and_gradgradcheck(x, device):
    x = on_device(x, device)
    dims = tuple(reversed(range(x.ndim)))
    assert gradcheck(lambda t: t.permute(*dims) * 2.0, (x,))
    assert gradgradcheck(lambda t: t.transpose(0, -1) * t.transpose(0, -1), (x,))


@pytest.mark.parametrize("dims", [(0, 0, 1), (0, 1), (0, 1, 3)])
def test_permute_invalid_dims_raise(dims, device):
    with pytest.raises((RuntimeError, IndexError)):
        mg.ones(2, 3, 4, device=device).permute(*dims)


def test_transpose_out_of_range_raises_index_error(device):
    with pytest.raises(IndexError):
        mg.ones(2, 3, device=device).transpose(0, 2)


def test_T_mT_and_t_match_torch(device):
    array = np.random.default_rng(0).standard_normal((2, 3, 4))
    compare_with_torch(lambda t: t.mT, array, device=device)
    compare_with_torch(lambda t: t.reshape(6, 4).T, array, device=device)
    compare_with_torch(lambda t: t.reshape(6, 4).t(), array, device=device)
    compare_with_torch(lambda t: t.reshape(24).t(), array, device=device)
    with pytest.raises(RuntimeError):
        mg.ones(2, 3, 4, device=device).t()
    with pytest.raises(RuntimeError):
        mg.ones(3, device=device).mT


def test_T_on_other_ranks_warns_and_reverses_like_torch(device):
    # PyTorch 2.13: deprecated (a UserWarning), reversed dimensions above 2, identity below.
    with pytest.warns(UserWarning, match=r"x\.mT"):
        assert mg.ones(2, 3, 4, device=device).T.shape == (4, 3, 2)
    with pytest.warns(UserWarning, match="0-D"):
        assert mg.tensor(1.0, device=device).T.shape == ()
    x = mg.arange(3.0, device=device)
    assert x.T.shape == (3,)
    compare_with_torch(lambda t: t.T, np.arange(24.0).reshape(2, 3, 4), device=device)


# ---------------------------------------------------------------------- expand / broadcast_to
@pytest.mark.parametrize("shape,size", [((3, 1), (2, 3, 4)), ((3, 1), (-1, 4)), ((1,), (0,)),
                                        ((), (2, 2)), ((2, 1, 3), (2, 5, 3)), ((3, 1), (3, 0))])
def test_expand_and_broadcast_to_match_torch(shape, size, device):
    array = np.random.default_rng(0).standard_normal(shape)
    compare_with_torch(lambda t: t.expand(*size), array, device=device)
    compare_with_torch(lambda t: t.expand(size), array, device=device)
    compare_with_torch(lambda t: t.broadcast_to(size), array, device=device)


def test_expand_as_and_functional_broadcast_to(device):
    out = mg.broadcast_to(mg.ones(3, 1, device=device), (2, 3, 4))
    assert tuple(out.shape) == (2, 3, 4)
    assert tuple(mg.ones(1, 4,
                         device=device).expand_as(mg.zeros(3, 4, device=device)).shape) == (3, 4)


@pytest.mark.parametrize("size", [(3, 4), (2,), (-1, 3, 2)])
def test_expand_errors(size, device):
    with pytest.raises(RuntimeError):
        mg.ones(3, 2, device=device).expand(*size)


def test_broadcast_to_error_names_both_shapes(device):
    with pytest.raises(RuntimeError) as info:
        mg.ones(3, 2, device=device).broadcast_to((3, 4))
    assert "3, 4" in str(info.value) and "3, 2" in str(info.value)


@given(x=tensors(shape_strategy=st.sampled_from([(3, 1), (1,), (), (2, 1, 1)])))
def test_expand_gradcheck_and_gradgradcheck(x, device):
    x = on_device(x, device)
    size = (2,) + tuple(3 if s == 1 else s for s in x.shape)
    assert gradcheck(lambda t: t.expand(*size) * 1.5, (x,))
    assert gradgradcheck(lambda t: t.expand(*size) * t.expand(*size), (x,))


def test_writing_into_an_expanded_tensor_raises(device):
    with pytest.raises(RuntimeError, match="single memory location"):
        mg.ones(3, 1, device=device).expand(3, 4).add_(1.0)


# ---------------------------------------------------------------------- views and versions
VIEWS = {
    "reshape": lambda b: b.reshape(3, 1),
    "view": lambda b: b.view(-1, 1),
    "flatten": lambda b: b.flatten().unsqueeze(1),
    "squeeze": lambda b: b.unsqueeze(0).squeeze(0),
    "transpose": lambda b: b.transpose(0, 1).transpose(0, 1),
    "permute": lambda b: b.permute(1, 0).mT,
    "expand": lambda b: b.expand(3, 4),
    "broadcast_to": lambda b: b.broadcast_to((3, 4)),
    "detach": lambda b: b.detach(),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_share_the_version_counter(name, device):
    base = mg.ones(3, 1, device=device) * 2.0
    v = VIEWS[name](base)
    base.add_(1.0)
    assert v._version == base._version == 1
    np.testing.assert_array_equal(v.cpu().numpy()[:, :1], np.full((3, 1), 3.0))


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_inplace_write_to_base_makes_saved_view_stale(name, device):
    x = mg.ones(3, 1, requires_grad=True, device=device)
    w = mg.ones(3, 4, requires_grad=True, device=device)
    base = x * 2.0
    out = VIEWS[name](base) * w  # saves the view for w's gradient
    with mg.no_grad():
        base.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        mg.autograd.grad(out, [w], grad_outputs=mg.ones(out.shape, device=device))


@pytest.mark.parametrize("name", ["reshape", "view", "transpose", "permute", "flatten", "squeeze"])
def test_inplace_write_through_view_makes_saved_base_stale(name, device):
    w = mg.ones(3, 1, requires_grad=True, device=device)
    base = mg.ones(3, 1, device=device)
    out = base * w  # saves base for w's gradient
    VIEWS[name](base).add_(1.0)
    assert base._version == 1
    np.testing.assert_array_equal(base.cpu().numpy(), np.full((3, 1), 2.0))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        mg.autograd.grad(out, [w], grad_outputs=mg.ones(3, 1, device=device))


def test_clone_and_contiguous_copy_do_not_share_the_version(device):
    base = mg.ones(2, 3, device=device) * 2.0
    c = base.clone()
    t = base.t().contiguous()
    base.add_(1.0)
    assert c._version == 0 and t._version == 0
    assert c.tolist() == [[2.0] * 3] * 2 and t.tolist() == [[2.0] * 2] * 3


def test_inplace_through_view_of_tensor_requiring_grad(device):
    x = mg.ones(2, 3, requires_grad=True, device=device)
    base = x * 2.0
    base.view(-1).mul_(3.0)
    base.backward(mg.ones(2, 3, device=device))
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full((2, 3), 6.0))
