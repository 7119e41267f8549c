"""Rearranging ops: flip/fliplr/flipud, roll, Tensor.repeat, tile, repeat_interleave,
diag/diagonal/diag_embed/trace, Tensor.unfold, meshgrid, nonzero/argwhere, masked_select,
tril_indices/triu_indices — forward and gradients against PyTorch (float64, hypothesis
shapes, negative dims), gradcheck/gradgradcheck, views, and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.oracle import assert_same_surface, compare_with_torch
from tests.strategies import shapes, float_arrays

CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


def leaf(array, device):
    return mg.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


@st.composite
def arrays(draw, min_dims=0, max_dims=3, min_side=0):
    return draw(float_arrays(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                    max_side=4)))


def dims_of(ndim):
    return st.integers(-max(ndim, 1), max(ndim, 1) - 1)


# ---------------------------------------------------------------------- flip / roll
@given(arrays(), st.data())
def test_flip_and_roll_match_torch(device, a, data):
    torch = pytest.importorskip("torch")
    dims = data.draw(st.lists(dims_of(a.ndim), min_size=1, max_size=max(a.ndim, 1),
                              unique_by=lambda d: d % max(a.ndim, 1)))
    compare_with_torch(lambda x: mg.flip(x, dims), lambda x: torch.flip(x, dims), [a], device)
    compare_with_torch(lambda x: x.flip(*dims), lambda x: x.flip(*dims), [a], device)
    shifts = data.draw(st.lists(st.integers(-6, 6), min_size=len(dims), max_size=len(dims)))
    if a.ndim:
        compare_with_torch(lambda x: mg.roll(x, shifts, dims), lambda x: torch.roll(x, shifts, dims),
                           [a], device)
    shift = data.draw(st.integers(-7, 7))
    compare_with_torch(lambda x: x.roll(shift), lambda x: x.roll(shift), [a], device)


def test_fliplr_flipud_and_errors(device):
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3)
    compare_with_torch(mg.fliplr, torch.fliplr, [a], device)
    compare_with_torch(lambda x: x.flipud(), lambda x: x.flipud(), [a], device)
    with pytest.raises(RuntimeError, match="Input must be >= 2-d."):
        mg.fliplr(mg.ones(2, device=device))
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        mg.flip(mg.ones(2, 3, device=device), (0, -2))
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        mg.roll(mg.ones(2, 3, device=device), (1, 2), 0)
    with pytest.raises(TypeError, match="missing 1 required positional arguments"):
        mg.ones(2, device=device).flip()
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        mg.tensor(1.0, device=device).roll(1, 0)
    x = leaf(np.random.default_rng(0).standard_normal((3, 4)), device)
    assert gradgradcheck(lambda t: mg.roll(mg.flip(t, (1,)), (1, -1), (0, 1)) ** 2, (x,), **CHECK)


# ---------------------------------------------------------------------- repeat family
@given(arrays(max_dims=2), st.data())
def test_repeat_and_tile_match_torch(device, a, data):
    torch = pytest.importorskip("torch")
    extra = data.draw(st.integers(0, 2))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=max(a.ndim + extra, 1),
                               max_size=max(a.ndim + extra, 1)))
    compare_with_torch(lambda x: x.repeat(*sizes), lambda x: x.repeat(*sizes), [a], device)
    reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=3)))
    compare_with_torch(lambda x: mg.tile(x, reps), lambda x: torch.tile(x, reps), [a], device)


@given(arrays(), st.data())
def test_repeat_interleave_matches_torch(device, a, data):
    torch = pytest.importorskip("torch")
    if a.ndim == 0 or data.draw(st.booleans()):
        dim = None
        length = a.size
    else:
        dim = data.draw(dims_of(a.ndim))
        length = a.shape[dim] if a.ndim else 1
    counts = st.lists(st.integers(0, 3), min_size=length, max_size=length)
    repeats = data.draw(st.integers(0, 3) | counts.map(lambda v: np.array(v, dtype=np.int64)))
    if isinstance(repeats, np.ndarray):
        compare_with_torch(lambda x, r: mg.repeat_interleave(x, r, dim),
                           lambda x, r: torch.repeat_interleave(x, r, dim), [a, repeats], device)
    else:
        compare_with_torch(lambda x: x.repeat_interleave(repeats, dim),
                           lambda x: x.repeat_interleave(repeats, dim), [a], device)


def test_repeat_interleave_forms_and_errors(device):
    torch = pytest.importorskip("torch")
    compare_with_torch(mg.repeat_interleave, torch.repeat_interleave, [np.array([1, 0, 2])], device)
    x = leaf(np.arange(4.0).reshape(2, 2), device)
    with pytest.raises(RuntimeError, match="repeats must have the same size as input along dim"):
        mg.repeat_interleave(x, mg.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        mg.repeat_interleave(x, -1)
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller"):
        x.repeat(2)
    assert gradgradcheck(lambda t: t.repeat(2, 1, 2) ** 2, (x,), **CHECK)
    assert gradcheck(lambda t: mg.repeat_interleave(t, mg.tensor([2, 1], device=device), 1), (x,), **CHECK)
    r = mg.tensor([1.0, 2.0], device=device).repeat(1)
    assert r.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------- diagonals
@given(arrays(min_dims=2, max_dims=4), st.data())
def test_diagonal_matches_torch(device, a, data):
    torch = pytest.importorskip("torch")
    dim1 = data.draw(dims_of(a.ndim))
    dim2 = data.draw(dims_of(a.ndim).filter(lambda d: d % a.ndim != dim1 % a.ndim))
    offset = data.draw(st.integers(-4, 4))
    compare_with_torch(lambda x: mg.diagonal(x, offset, dim1, dim2),
                       lambda x: torch.diagonal(x, offset, dim1, dim2), [a], device)


@given(arrays(min_dims=1, max_dims=3), st.data())
def test_diag_embed_matches_torch(device, a, data):
    torch = pytest.importorskip("torch")
    dim1 = data.draw(dims_of(a.ndim + 1))
    dim2 = data.draw(dims_of(a.ndim + 1).filter(lambda d: d % (a.ndim + 1) != dim1 % (a.ndim + 1)))
    offset = data.draw(st.integers(-3, 3))
    compare_with_torch(lambda x: mg.diag_embed(x, offset, dim1, dim2),
                       lambda x: torch.diag_embed(x, offset, dim1, dim2), [a], device)


@given(arrays(min_dims=1, max_dims=2), st.integers(-3, 3))
def test_diag_and_trace_match_torch(device, a, k):
    torch = pytest.importorskip("torch")
    compare_with_torch(lambda x: mg.diag(x, k), lambda x: torch.diag(x, k), [a], device)
    if a.ndim == 2:
        compare_with_torch(mg.trace, torch.trace, [a], device)


def test_diagonal_is_a_writable_view_and_differentiable(device):
    m = mg.zeros(3, 4, device=device)
    m.diagonal(1).fill_(7.0)
    assert m.tolist()[0] == [0.0, 7.0, 0.0, 0.0] and m.tolist()[2] == [0.0, 0.0, 0.0, 7.0]
    d = mg.diag(m)           # diag of a matrix is a copy
    d.fill_(1.0)
    assert m.tolist()[0][0] == 0.0
    x = leaf(np.random.default_rng(1).standard_normal((2, 3, 4)), device)
    assert gradgradcheck(lambda t: mg.diagonal(t, -1, 2, 1) ** 2, (x,), **CHECK)
    v = leaf([1.0, -2.0, 0.5], device)
    assert gradgradcheck(lambda t: mg.diag_embed(t, 1) ** 2, (v,), **CHECK)
    assert mg.trace(mg.ones(2, 3, dtype=mg.int32, device=device)).dtype == mg.int64
    with pytest.raises(RuntimeError, match="diag\\(\\): Supports 1D or 2D tensors. Got 3D"):
        mg.diag(x)
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 1"):
        mg.trace(v)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, -3"):
        mg.diagonal(x, 0, 0, -3)


# ---------------------------------------------------------------------- unfold
@given(arrays(min_dims=1), st.data())
def test_unfold_matches_torch(device, a, data):
    torch = pytest.importorskip("torch")
    dim = data.draw(dims_of(a.ndim))
    size = data.draw(st.integers(0, a.shape[dim]))
    step = data.draw(st.integers(1, 3))
    compare_with_torch(lambda x: x.unfold(dim, size, step), lambda x: x.unfold(dim, size, step),
                       [a], device)


def test_unfold_gradgradcheck_view_and_errors(device):
    x = leaf(np.random.default_rng(2).standard_normal((2, 7)), device)
    assert gradgradcheck(lambda t: t.unfold(1, 3, 2) ** 2, (x,), **CHECK)
    assert gradcheck(lambda t: t.unfold(-1, 4, 1), (x,), **CHECK)
    plain = mg.arange(6.0, device=device)
    windows = plain.unfold(0, 2, 2)
    assert windows._version_counter is plain._version_counter
    assert mg.tensor(5.0, device=device).unfold(0, 1, 1).tolist() == [5.0]
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 5 but size is 6"):
        mg.ones(5, device=device).unfold(0, 6, 1)
    with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
        mg.ones(5, device=device).unfold(0, 2, 0)


# ---------------------------------------------------------------------- meshgrid
@given(st.lists(st.integers(0, 3), min_size=1, max_size=3), st.sampled_from(["ij", "xy"]))
def test_meshgrid_matches_torch(device, lengths, indexing):
    torch = pytest.importorskip("torch")
    arrays_ = [np.arange(n, dtype=np.float64) + i for i, n in enumerate(lengths)]
    compare_with_torch(lambda *ts: mg.meshgrid(*ts, indexing=indexing),
                       lambda *ts: torch.meshgrid(*ts, indexing=indexing), arrays_, device)
    compare_with_torch(lambda *ts: mg.meshgrid(list(ts), indexing=indexing),
                       lambda *ts: torch.meshgrid(list(ts), indexing=indexing), arrays_, device)


def test_meshgrid_warning_and_errors(device):
    a, b = mg.arange(2, device=device), mg.arange(3, device=device)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        x, y = mg.meshgrid(a, b)
    assert x.shape == (2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.meshgrid(a, b, indexing="ij")
    with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij", but received: foo'):
        mg.meshgrid(a, b, indexing="foo")
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        mg.meshgrid(mg.zeros(2, 2, device=device), indexing="ij")
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.meshgrid(a, b.float(), indexing="ij")


# ---------------------------------------------------------------------- positions
@given(st.data())
def test_nonzero_argwhere_masked_select_match_torch(device, data):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(max_dims=3))
    a = data.draw(float_arrays(shape).map(lambda v: np.where(np.abs(v) < 1.0, 0.0, v)))
    compare_with_torch(mg.nonzero, torch.nonzero, [a], device)
    compare_with_torch(lambda x: mg.nonzero(x, as_tuple=True),
                       lambda x: torch.nonzero(x, as_tuple=True), [a], device)
    compare_with_torch(lambda x: x.argwhere(), lambda x: x.argwhere(), [a], device)
    trailing = shape[data.draw(st.integers(0, len(shape))):]
    mask = data.draw(st.lists(st.booleans(), min_size=int(np.prod(trailing)),
                              max_size=int(np.prod(trailing)))).copy()
    mask = np.array(mask, dtype=bool).reshape(trailing)
    compare_with_torch(lambda x, m: mg.masked_select(x, m), lambda x, m: torch.masked_select(x, m),
                       [a, mask], device)
    compare_with_torch(lambda x, m: x.masked_select(m), lambda x, m: x.masked_select(m),
                       [mask.astype(np.float64), a != 0], device)


def test_masked_select_gradcheck_and_errors(device):
    x = leaf([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]], device)
    mask = mg.tensor([True, False, True], device=device)
    assert gradgradcheck(lambda t: mg.masked_select(t, mask) ** 2, (x,), **CHECK)
    with pytest.raises(RuntimeError, match="masked_select: expected BoolTensor for mask"):
        mg.masked_select(x, mg.tensor([1, 0, 1], device=device))


def test_tril_triu_indices_match_torch(device):
    torch = pytest.importorskip("torch")
    for row, col, offset in [(3, 3, 0), (4, 3, 1), (3, 5, -1), (0, 2, 0), (2, 4, 5)]:
        for name in ("tril_indices", "triu_indices"):
            got = getattr(mg, name)(row, col, offset, device=device)
            expected = getattr(torch, name)(row, col, offset)
            assert got.dtype == mg.int64 and got.device.type == mg.device(device).type
            np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    assert mg.tril_indices(3, 3, dtype=mg.int32).dtype == mg.int32
    with pytest.raises(RuntimeError, match="row must be non-negative"):
        mg.tril_indices(-1, 3)


def test_functions_and_methods_exist_where_torch_has_them():
    assert_same_surface(["flip", "fliplr", "flipud", "roll", "repeat", "tile", "repeat_interleave",
                         "diag", "diagonal", "diag_embed", "trace", "unfold", "meshgrid", "nonzero",
                         "argwhere", "masked_select", "tril_indices", "triu_indices"])
