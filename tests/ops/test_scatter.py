"""Scatter family: scatter (src / value / reduce), scatter_add, scatter_reduce (sum, prod,
mean, amax, amin; include_self), index_add/index_copy/index_fill, masked_scatter and the
in-place forms — forward and gradients against PyTorch (float64, hypothesis shapes,
negative dims), gradcheck/gradgradcheck, version counters, and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd import grad, gradcheck, gradgradcheck
from tests.oracle import assert_same_surface, compare_with_torch

CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


def leaf(array, device):
    return mg.tensor(np.asarray(array, dtype=np.float64), device=device, requires_grad=True)


def distinct(rng, shape):
    """float64 values without ties (so amax/amin and last-write-wins are unambiguous)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) + rng.uniform(0.1, 0.4)).reshape(shape) - n / 2


@st.composite
def scatter_cases(draw, unique=False, ties=False, larger_src=False):
    """(input, dim, index, src): index no larger than input off ``dim`` and than src
    everywhere (src the index's shape unless ``larger_src``: PyTorch's backward fails for a
    larger src); with ``unique`` no two index entries of one line along dim coincide."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = draw(st.integers(-ndim, ndim - 1))
    axis = dim % ndim
    index_shape = [draw(st.integers(0, s)) for s in shape]
    index_shape[axis] = draw(st.integers(0, shape[axis] if unique else 5))
    src_shape = tuple(s + (draw(st.integers(0, 1)) if larger_src else 0) for s in index_shape)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if unique and 0 not in index_shape:
        lines = np.moveaxis(np.zeros(index_shape, np.int64), axis, -1)
        flat = lines.reshape(-1, index_shape[axis])
        for row in flat:
            row[:] = rng.permutation(shape[axis])[:index_shape[axis]]
        index = np.moveaxis(flat.reshape(lines.shape), -1, axis)
    else:
        index = rng.integers(0, shape[axis], size=index_shape)
    if unique and 0 in index_shape:
        index = np.zeros(index_shape, np.int64)
    if ties:
        x = rng.integers(-2, 3, size=shape).astype(np.float64)
        src = rng.integers(-2, 3, size=src_shape).astype(np.float64)
    else:
        x, src = distinct(rng, shape), distinct(rng, src_shape)
    return x, dim, np.ascontiguousarray(index), src


@given(scatter_cases(unique=True))
def test_scatter_src_and_value_match_torch(device, case):
    torch = pytest.importorskip("torch")
    x, dim, index, src = case
    compare_with_torch(lambda t, i, s: mg.scatter(t, dim, i, s),
                       lambda t, i, s: torch.scatter(t, dim, i, s), [x, index, src], device)
    compare_with_torch(lambda t, i: t.scatter(dim, i, 2.5), lambda t, i: t.scatter(dim, i, 2.5),
                       [x, index], device)
    compare_with_torch(lambda t, i, s: mg.scatter(t, dim, i, value=-1.0),
                       lambda t, i, s: torch.scatter(t, dim, i, value=-1.0), [x, index, src], device)


@given(scatter_cases(larger_src=True), st.sampled_from(["sum", "prod", "mean", "amax", "amin"]),
       st.booleans())
def test_a_larger_src_is_cut_to_the_index(device, case, reduce, include_self):
    torch = pytest.importorskip("torch")
    x, dim, index, src = case
    compare_with_torch(lambda t, i, s: mg.scatter_reduce(t, dim, i, s, reduce,
                                                          include_self=include_self),
                       lambda t, i, s: torch.scatter_reduce(t, dim, i, s, reduce,
                                                            include_self=include_self),
                       [x, index, src], device, check_grad=False)
    cut = src[tuple(slice(0, n) for n in index.shape)]
    s = leaf(src, device)
    (g,) = grad(mg.scatter_add(mg.tensor(x, device=device), dim, mg.tensor(index, device=device),
                               s).sum(), s)
    expected = np.zeros(src.shape)
    expected[tuple(slice(0, n) for n in index.shape)] = np.ones(cut.shape)
    np.testing.assert_array_equal(g.cpu().numpy(), expected)


@given(scatter_cases(ties=True))
def test_scatter_add_and_sum_mean_prod_match_torch(device, case):
    torch = pytest.importorskip("torch")
    x, dim, index, src = case
    compare_with_torch(lambda t, i, s: mg.scatter_add(t, dim, i, s),
                       lambda t, i, s: torch.scatter_add(t, dim, i, s), [x, index, src], device)
    for reduce in ("sum", "mean", "prod"):
        for include_self in (True, False):
            compare_with_torch(
                lambda t, i, s: t.scatter_reduce(dim, i, s, reduce, include_self=include_self),
                lambda t, i, s: t.scatter_reduce(dim, i, s, reduce, include_self=include_self),
                [x, index, src], device)


@given(scatter_cases())
def test_scatter_reduce_amax_amin_match_torch(device, case):
    torch = pytest.importorskip("torch")
    x, dim, index, src = case
    for reduce in ("amax", "amin"):
        for include_self in (True, False):
            compare_with_torch(
                lambda t, i, s: mg.scatter_reduce(t, dim, i, s, reduce, include_self=include_self),
                lambda t, i, s: torch.scatter_reduce(t, dim, i, s, reduce, include_self=include_self),
                [x, index, src], device)


def test_amax_ties_share_the_gradient(device):
    torch = pytest.importorskip("torch")
    x, index, src = np.array([1.0, 4.0, 3.0]), np.array([1, 1, 2]), np.array([4.0, 4.0, 2.0])
    compare_with_torch(lambda t, i, s: mg.scatter_reduce(t, 0, i, s, "amax"),
                       lambda t, i, s: torch.scatter_reduce(t, 0, i, s, "amax"),
                       [x, index, src], device)
    # Without include_self the excluded input takes no share (PyTorch still counts it in
    # the divisor, so its src gradients sum to 2/3 here; minigrad's sum to 1).
    s = leaf(src, device)
    y = mg.scatter_reduce(leaf(x, device), 0, mg.tensor(index, device=device), s, "amin",
                          include_self=False)
    (g,) = grad(y.sum(), s)
    assert g.tolist() == [0.5, 0.5, 1.0]


def test_integer_mean_floors_and_reduce_dtypes(device):
    torch = pytest.importorskip("torch")
    for include_self in (True, False):
        compare_with_torch(
            lambda t, i, s: mg.scatter_reduce(t, 0, i, s, "mean", include_self=include_self),
            lambda t, i, s: torch.scatter_reduce(t, 0, i, s, "mean", include_self=include_self),
            [np.array([-1, 2, 3]), np.array([0, 0, 2]), np.array([-4, 5, -6])], device)
    for reduce in ("amax", "amin", "prod", "sum"):
        compare_with_torch(
            lambda t, i, s: mg.scatter_reduce(t, 0, i, s, reduce, include_self=False),
            lambda t, i, s: torch.scatter_reduce(t, 0, i, s, reduce, include_self=False),
            [np.array([1, 2, 3]), np.array([0, 0]), np.array([4, -5])], device)


def test_scatter_reduce_argument(device):
    torch = pytest.importorskip("torch")
    x, index, src = np.zeros((2, 3)), np.array([[0, 1, 0]]), np.array([[1.5, 2.0, 3.0]])
    for reduce in ("add", "multiply"):
        with pytest.warns(UserWarning, match="scatter_reduce"):
            got = mg.scatter(mg.tensor(x + 1, device=device), 0, mg.tensor(index, device=device),
                             mg.tensor(src, device=device), reduce=reduce)
        with warnings.catch_warnings():   # PyTorch warns once per process
            warnings.simplefilter("ignore")
            expected = torch.scatter(torch.tensor(x + 1), 0, torch.tensor(index), torch.tensor(src),
                                     reduce=reduce)
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    compare_with_torch(lambda t, i: t.scatter(1, i, 2.0, reduce="multiply"),
                       lambda t, i: t.scatter(1, i, 2.0, reduce="multiply"),
                       [x + 3, index], device, check_grad=False)
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply."):
        mg.scatter(mg.tensor(x, device=device), 0, mg.tensor(index, device=device), 1.0, reduce="mean")


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(4)
    x, s = leaf(distinct(rng, (3, 4)), device), leaf(distinct(rng, (2, 4)), device)
    index = mg.tensor([[0, 2, 2, 1], [0, 0, 1, 1]], device=device)
    for reduce in ("sum", "mean", "prod", "amax", "amin"):
        for include_self in (True, False):
            def fn(a, b):
                return mg.scatter_reduce(a, 1, index, b, reduce, include_self=include_self) ** 2
            assert gradcheck(fn, (x, s), **CHECK), reduce
            assert gradgradcheck(fn, (x, s), **CHECK), reduce
    unique = mg.tensor([[0, 2, 1, 1], [2, 0, 2, 0]], device=device)
    assert gradgradcheck(lambda a, b: mg.scatter(a, 0, unique, b) ** 2, (x, s), **CHECK)
    zeros = leaf([[0.0, 2.0, 0.0], [1.5, 0.0, -1.0]], device)
    src = leaf([[0.0, 3.0, 2.0], [0.5, 1.0, 0.0]], device)
    idx = mg.tensor([[0, 0, 2], [1, 1, 1]], device=device)
    for include_self in (True, False):
        assert gradcheck(lambda a, b: mg.scatter_reduce(a, 1, idx, b, "prod", include_self=include_self),
                         (zeros, src), **CHECK)


# ---------------------------------------------------------------------- index_* family
@st.composite
def index_cases(draw, unique=False):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = draw(st.integers(-ndim, ndim - 1))
    axis = dim % ndim
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if unique:
        index = rng.permutation(shape[axis])[:draw(st.integers(0, shape[axis]))]
    else:
        index = rng.integers(0, shape[axis], size=draw(st.integers(0, 5)))
    source_shape = shape[:axis] + (index.size,) + shape[axis + 1:]
    return distinct(rng, shape), dim, index.astype(np.int64), distinct(rng, source_shape)


@given(index_cases(), st.sampled_from([1, 2.5]))
def test_index_add_matches_torch(device, case, alpha):
    torch = pytest.importorskip("torch")
    x, dim, index, source = case
    compare_with_torch(lambda t, i, s: mg.index_add(t, dim, i, s, alpha=alpha),
                       lambda t, i, s: torch.index_add(t, dim, i, s, alpha=alpha),
                       [x, index, source], device)


@given(index_cases(unique=True))
def test_index_copy_and_fill_match_torch(device, case):
    torch = pytest.importorskip("torch")
    x, dim, index, source = case
    compare_with_torch(lambda t, i, s: t.index_copy(dim, i, s),
                       lambda t, i, s: t.index_copy(dim, i, s), [x, index, source], device)
    compare_with_torch(lambda t, i: mg.index_fill(t, dim, i, -3.0),
                       lambda t, i: torch.index_fill(t, dim, i, -3.0), [x, index], device)
    compare_with_torch(lambda t, i, v: t.index_fill(dim, i, v * 2),
                       lambda t, i, v: t.index_fill(dim, i, v * 2), [x, index, np.array(1.5)], device)


@given(st.data())
def test_masked_scatter_matches_torch(device, data):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    shape = tuple(data.draw(st.lists(st.integers(0, 3), max_size=3)))
    mask_shape = shape[data.draw(st.integers(0, len(shape))):]
    mask = rng.random(mask_shape) < 0.5
    x = distinct(rng, shape)
    source = distinct(rng, (int(np.prod(shape)) + data.draw(st.integers(0, 2)),))
    compare_with_torch(lambda t, m, s: mg.masked_scatter(t, m, s),
                       lambda t, m, s: torch.masked_scatter(t, m, s), [x, mask, source], device)
    compare_with_torch(lambda t, m, s: t.masked_scatter(m, s.reshape(-1)[:0].sum() + s[:3]),
                       lambda t, m, s: t.masked_scatter(m, s.reshape(-1)[:0].sum() + s[:3]),
                       [x, np.zeros(mask_shape, bool), source], device)


# ---------------------------------------------------------------------- in place
def test_inplace_forms_match_out_of_place_and_bump_versions(device):
    rng = np.random.default_rng(5)
    base = distinct(rng, (3, 4))
    src = distinct(rng, (2, 4))
    index = mg.tensor([[0, 1, 2, 0], [1, 2, 0, 1]], device=device)
    vector = mg.tensor([2, 0], device=device)
    mask = mg.tensor(base > 0, device=device)
    cases = [
        ("scatter_", (0, index, mg.tensor(src, device=device)), mg.scatter),
        ("scatter_add_", (0, index, mg.tensor(src, device=device)), mg.scatter_add),
        ("scatter_reduce_", (0, index, mg.tensor(src, device=device), "amax"), mg.scatter_reduce),
        ("index_add_", (0, vector, mg.tensor(src, device=device)), mg.index_add),
        ("index_copy_", (0, vector, mg.tensor(src, device=device)), mg.index_copy),
        ("index_fill_", (1, vector, 9.0), mg.index_fill),
        ("masked_scatter_", (mask, mg.tensor(src, device=device)), mg.masked_scatter),
    ]
    for name, args, out_of_place in cases:
        t = mg.tensor(base, device=device)
        version = t._version
        assert getattr(t, name)(*args) is t
        assert t._version == version + 1, name
        np.testing.assert_array_equal(t.cpu().numpy(),
                                      out_of_place(mg.tensor(base, device=device), *args).cpu().numpy())


def test_inplace_autograd_and_saved_tensor_check(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a, s = distinct(rng, (3, 4)), distinct(rng, (2, 4))
    index = np.array([[0, 1, 2, 0], [1, 2, 0, 1]])
    x, src = leaf(a, device), leaf(s, device)
    y = x * 2
    y.scatter_add_(0, mg.tensor(index, device=device), src ** 2)
    y.index_fill_(1, mg.tensor([3], device=device), 0.0)
    gx, gs = grad((y * y).sum(), (x, src))
    tx, ts = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    ty = tx * 2
    ty.scatter_add_(0, torch.tensor(index), ts ** 2)
    ty.index_fill_(1, torch.tensor([3]), 0.0)
    tgx, tgs = torch.autograd.grad((ty * ty).sum(), (tx, ts))
    np.testing.assert_allclose(gx.cpu().numpy(), tgx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gs.cpu().numpy(), tgs.numpy(), rtol=1e-12)
    z = x * 1
    w = z * z                      # saves z
    z.index_add_(0, mg.tensor([0], device=device), mg.ones(1, 4, dtype=mg.float64, device=device))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.scatter_(0, mg.tensor(index, device=device), src)
    s0 = mg.tensor(1.0, device=device)
    s0.scatter_(0, mg.tensor(0, device=device), mg.tensor(5.0, device=device))
    assert s0.item() == 5.0


# ---------------------------------------------------------------------- errors
def test_errors(device):
    x = mg.zeros(3, 2, device=device)
    i = mg.tensor([[1, 0]], device=device)
    with pytest.raises(RuntimeError, match=r"scatter\(\): Expected self.dtype to be equal to src.dtype"):
        mg.scatter(x, 0, i, mg.ones(1, 2, dtype=mg.float64, device=device))
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 0 with size 3"):
        mg.scatter(x, 0, mg.tensor([[3]], device=device), mg.ones(1, 2, device=device))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        mg.scatter_add(x, 0, mg.tensor([[-1]], device=device), mg.ones(1, 2, device=device))
    with pytest.raises(RuntimeError, match=r"Expected dtype int32/int64 for index"):
        mg.scatter(x, 0, mg.tensor([[1.0]], device=device), mg.ones(1, 2, device=device))
    with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions"):
        mg.scatter(x, 0, mg.tensor([1], device=device), mg.ones(2, device=device))
    with pytest.raises(RuntimeError, match=r"Expected index \[1, 3\] to be no larger than self "
                                           r"\[3, 2\] apart from dimension 0 and to be no larger "
                                           r"size than src \[2, 2\]"):
        mg.scatter(x, 0, mg.tensor([[1, 0, 1]], device=device), mg.ones(2, 2, device=device))
    with pytest.raises(RuntimeError, match="must be either sum, prod, mean, amax or amin, got foo"):
        mg.scatter_reduce(x, 0, i, mg.ones(1, 2, device=device), "foo")
    with pytest.raises(RuntimeError, match=r"index_add_\(\): self \(Float\) and source \(Double\)"):
        mg.index_add(x, 0, mg.tensor([0], device=device), mg.ones(1, 2, dtype=mg.float64, device=device))
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        mg.index_add(x, 0, mg.tensor([0, 1], device=device), mg.ones(2, 3, device=device))
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        mg.index_add(x, 0, mg.tensor([[0, 1]], device=device), mg.ones(2, 2, device=device))
    with pytest.raises(IndexError, match=r"index_copy_\(\): Number of indices \(2\) should be equal to "
                                         r"source.size\(dim\) \(3\)"):
        mg.index_copy(x, 0, mg.tensor([0, 1], device=device), mg.ones(3, 2, device=device))
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 3"):
        mg.index_fill(x, 0, mg.tensor([0, 4], device=device), 1.0)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        mg.index_fill(x, 1, mg.tensor([1], device=device), mg.tensor([7.0], device=device))
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        mg.masked_scatter(mg.zeros(3, device=device), mg.tensor([True, False, True], device=device),
                          mg.ones(1, device=device))
    with pytest.raises(RuntimeError, match="masked_scatter_ only supports boolean masks"):
        mg.masked_scatter(mg.zeros(3, device=device), mg.tensor([1, 0, 1], device=device),
                          mg.ones(3, device=device))


def test_functions_and_methods_exist_where_torch_has_them():
    assert_same_surface(["scatter", "scatter_", "scatter_add", "scatter_add_", "scatter_reduce",
                         "scatter_reduce_", "index_add", "index_add_", "index_copy", "index_copy_",
                         "index_fill", "index_fill_", "masked_scatter", "masked_scatter_"])
