"""Reductions: sum mean var std prod max min amax amin argmax argmin logsumexp.

Forward values and gradients are compared with PyTorch on hypothesis-drawn shapes (zero-size
and non-contiguous included) for every dim/keepdim combination; gradients are checked
numerically in float64 (and twice for the smooth reductions)."""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import shapes, nonempty_shapes, tensors, non_contiguous

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------------------- strategies
@st.composite
def dims(draw, ndim, allow_none=True, allow_tuple=True, single=False):
    """None, one (possibly negative) dim, or a tuple of distinct dims of a rank-``ndim`` tensor."""
    rank = max(ndim, 1)
    one = st.integers(-rank, rank - 1)
    choices = [one]
    if allow_none:
        choices.append(st.none())
    if allow_tuple and not single:
        choices.append(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True)
                       .flatmap(lambda ds: st.tuples(*[st.sampled_from([d, d - rank]) for d in ds])))
    return draw(st.one_of(*choices))


@st.composite
def case(draw, shape_strategy=None, **dim_kwargs):
    """(tensor, dim, keepdim) with the tensor float64, requires_grad, maybe non-contiguous."""
    x = draw(tensors(shape_strategy if shape_strategy is not None else shapes(max_dims=3)))
    return x, draw(dims(x.ndim, **dim_kwargs)), draw(st.booleans())


def spread_arrays(shape):
    """Distinct values at least 0.1 apart: smooth points for std, amax and prod gradchecks."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-30, 30).map(lambda k: k / 10),
                      unique=True)


@st.composite
def spread_case(draw, **dim_kwargs):
    shape = draw(nonempty_shapes(min_dims=0, max_dims=3, max_side=3))
    array = draw(spread_arrays(shape))
    if draw(st.booleans()):
        array = non_contiguous(array)
    x = mg.from_numpy(array).requires_grad_()
    return x, draw(dims(x.ndim, **dim_kwargs)), draw(st.booleans())


@st.composite
def tied_case(draw, single=False, allow_none=True):
    """Small-integer-valued floats, so ties are common (for max/amax gradient splitting)."""
    shape = draw(nonempty_shapes(min_dims=0, max_dims=3))
    array = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 2.0])))
    if draw(st.booleans()):
        array = non_contiguous(array)
    x = mg.from_numpy(array).requires_grad_()
    return x, draw(dims(x.ndim, single=single, allow_none=allow_none)), draw(st.booleans())


# ---------------------------------------------------------------------- torch helpers
def as_torch(torch, t):
    out = torch.from_numpy(np.array(t.detach().cpu().numpy()))
    return out.requires_grad_(t.requires_grad)


def torch_dim(dim):
    return list(dim) if isinstance(dim, tuple) else dim


def assert_close(actual, expected, rtol=1e-7, atol=1e-9, exact=False):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if exact:
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def compare_with_torch(mg_fn, torch_fn, x, seed=0, exact=False):
    """Forward values and the VJP of a random cotangent, minigrad vs PyTorch."""
    torch = pytest.importorskip("torch")
    tx = as_torch(torch, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, ty = mg_fn(x), torch_fn(tx)
        assert y.dtype == x.dtype
        assert_close(y.detach().cpu().numpy(), ty.detach().numpy(), exact=exact)
        g = np.random.default_rng(seed).standard_normal(ty.shape)
        y.backward(mg.tensor(g, device=y.device))
        ty.backward(torch.from_numpy(g))
    assert x.grad.dtype == x.dtype
    assert_close(x.grad.cpu().numpy(), tx.grad.numpy(), exact=exact)


# ---------------------------------------------------------------------- sum / mean / var / std
@given(case())
def test_sum_matches_torch(device, c):
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    compare_with_torch(lambda t: mg.sum(t, dim, keepdim),
                       lambda t: torch.sum(t, torch_dim(dim), keepdim), x)


@given(case())
def test_mean_matches_torch(device, c):
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    compare_with_torch(lambda t: t.mean(dim, keepdim=keepdim),
                       lambda t: t.mean(torch_dim(dim), keepdim=keepdim), x)


@given(case(), st.sampled_from(["var", "std"]), st.sampled_from([0, 1, 2, 0.5, None, False]))
def test_var_std_match_torch(device, c, name, correction):
    """Includes N − correction ≤ 0 (nan/inf values and gradients) and empty dims."""
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    if correction is False:  # the legacy unbiased= spelling
        kw = dict(unbiased=False)
    else:
        kw = {} if correction is None else dict(correction=correction)
    if name == "std":
        # At a (nearly) constant slice √ has no derivative; both libraries then return
        # rounding noise (or PyTorch's 0 convention, tested below), so skip such draws.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = x.detach().std(dim, keepdim=keepdim, **kw).cpu().numpy()
            theirs = as_torch(torch, x.detach()).std(torch_dim(dim), keepdim=keepdim, **kw).numpy()
        assume(not np.any((np.abs(theirs) < 1e-6) & (theirs != ours)))
    compare_with_torch(lambda t: getattr(t, name)(dim, keepdim=keepdim, **kw),
                       lambda t: getattr(t, name)(torch_dim(dim), keepdim=keepdim, **kw), x)


@given(st.data())
def test_prod_matches_torch_with_and_without_zeros(device, data):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(max_dims=3))
    array = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-2, -1.5, -0.5, 0, 0.5, 1, 1.5, 3])))
    x = mg.from_numpy(array).to(device).requires_grad_()
    dim, keepdim = data.draw(dims(x.ndim, allow_tuple=False)), data.draw(st.booleans())
    if dim is None:
        compare_with_torch(lambda t: t.prod(), lambda t: t.prod(), x)
    else:
        compare_with_torch(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim), x)


@settings(max_examples=25)
@given(spread_case(), st.sampled_from(["sum", "mean", "var", "std", "logsumexp", "prod", "amax"]))
def test_gradcheck(device, c, name):
    x, dim, keepdim = c
    x = on_device(x, device)
    if name in ("logsumexp", "amax") and dim is None:
        dim = tuple(range(x.ndim))
    if name == "prod" and isinstance(dim, tuple):
        dim = dim[0]
    kw = {}
    if name in ("var", "std"):
        n = x.numel() if dim is None or x.ndim == 0 else int(np.prod(
            [x.shape[d] for d in (dim if isinstance(dim, tuple) else (dim,))]))
        kw = dict(correction=1 if n > 1 else 0)
    if name == "prod" and dim is None:
        assert gradcheck(lambda t: t.prod(), (x,), **GRADCHECK)
    else:
        assert gradcheck(lambda t: getattr(mg, name)(t, dim, keepdim=keepdim, **kw), (x,), **GRADCHECK)


@settings(max_examples=12)
@given(spread_case(), st.sampled_from(["sum", "mean", "var", "std", "logsumexp", "prod"]))
def test_gradgradcheck(device, c, name):
    x, dim, keepdim = c
    x = on_device(x, device)
    if name == "logsumexp" and dim is None:
        dim = tuple(range(x.ndim))
    if name == "prod":
        dim = None if dim is None else dim[0] if isinstance(dim, tuple) else dim
        with mg.no_grad():
            x.array[x.array == 0] = 0.5  # second derivative at zeros is not implemented
    kw = {}
    if name in ("var", "std"):
        n = x.numel() if dim is None or x.ndim == 0 else int(np.prod(
            [x.shape[d] for d in (dim if isinstance(dim, tuple) else (dim,))]))
        kw = dict(correction=1 if n > 1 else 0)
        if n == 1 and name == "std":
            return  # std of one element is 0: the gradient is the convention 0, not smooth
    if name == "prod" and dim is None:
        fn = lambda t: t.prod()  # noqa: E731
    else:
        fn = lambda t: getattr(mg, name)(t, dim, keepdim=keepdim, **kw)  # noqa: E731
    assert gradgradcheck(fn, (x,), **GRADCHECK)


def test_var_argument_forms(device):
    x = mg.tensor([[0.0, 1.0, 5.0], [2.0, 2.0, 8.0]], dtype=mg.float64, device=device)
    np.testing.assert_allclose(x.var().item(), np.var(x.cpu().numpy(), ddof=1))
    np.testing.assert_allclose(x.var(False).item(), np.var(x.cpu().numpy()))             # (input, unbiased)
    np.testing.assert_allclose(mg.var(x, 1, True, True).cpu().numpy(),
                               np.var(x.cpu().numpy(), 1, ddof=1, keepdims=True))
    np.testing.assert_allclose(x.std(0, unbiased=False).cpu().numpy(), np.std(x.cpu().numpy(), 0))
    np.testing.assert_allclose(x.var(1, correction=0.5).cpu().numpy(),
                               np.var(x.cpu().numpy(), 1, ddof=0.5))
    with pytest.raises(TypeError):
        x.var(unbiased=False, correction=0)
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], device=device).var()
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(mg.tensor([1.0], device=device).var().item())


def test_std_of_constant_slice_has_zero_gradient(device):
    x = mg.tensor([[1.0, 1.0], [1.0, 2.0]], requires_grad=True, device=device)
    x.std(0).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [[0.0, -0.70710677], [0.0, 0.70710677]],
                               rtol=1e-6)


def test_prod_gradient_at_zeros_and_its_unimplemented_second_derivative(device):
    x = mg.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]], dtype=mg.float64, requires_grad=True,
                  device=device)
    (g,) = mg.autograd.grad(x.prod(1).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().cpu().numpy(), [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(RuntimeError, match="second derivative of prod"):
        g.sum().backward()


# ---------------------------------------------------------------------- dtypes and empty inputs
def test_dtypes(device):
    ints = mg.tensor([1, 2, 3], dtype=mg.int32, device=device)
    assert ints.sum().dtype == mg.int64 and ints.sum().item() == 6
    assert mg.tensor([True, True, False], device=device).sum().dtype == mg.int64
    assert mg.tensor([True, True], device=device).prod().dtype == mg.int64
    assert ints.sum(dtype=mg.int32).dtype == mg.int32
    assert ints.mean(dtype=mg.float64).item() == 2.0
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype.*Got: Int"):
        ints.mean()
    with pytest.raises(RuntimeError, match="Got: Bool"):
        mg.tensor([True], device=device).mean()
    assert ints.max().dtype == mg.int32 and ints.max(0).values.item() == 3
    assert mg.tensor([1, 2], device=device).logsumexp(0).dtype == mg.float32
    x32 = mg.randn(3, 4, requires_grad=True, device=device)
    for name in ("sum", "mean", "var", "std", "prod", "amax", "amin", "logsumexp"):
        y = getattr(x32, name)(1)
        assert y.dtype == mg.float32, name
        y.sum().backward()
        assert x32.grad.dtype == mg.float32, name
    s = x32.sum(dtype=mg.float64)
    assert s.dtype == mg.float64
    half = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float16, device=device)
    assert half.mean().dtype == mg.float16 and half.var().item() == 1.0


def test_zero_size_reductions_follow_torch(device):
    z = mg.zeros(0, 3, requires_grad=True, device=device)
    np.testing.assert_array_equal(z.sum(0).detach().cpu().numpy(), [0.0, 0.0, 0.0])
    assert z.sum().item() == 0.0 and z.sum(1).shape == (0,)
    assert np.isnan(z.mean(0).detach().cpu().numpy()).all() and np.isnan(z.mean().item())
    assert z.prod(0).detach().cpu().numpy().tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(z.logsumexp(0).detach().cpu().numpy(), [-np.inf] * 3)
    assert z.amax(1).shape == (0,) and z.max(1).indices.shape == (0,)
    z.mean(0).sum().backward()
    assert z.grad.shape == (0, 3)
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        z.max()
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        z.amax()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        z.max(0)
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        z.amin((0, 1))
    with pytest.raises(IndexError):
        z.argmax()
    with pytest.raises(IndexError):
        z.argmin(0)
    assert z.argmax(1).shape == (0,)


def test_dim_errors(device):
    x = mg.ones(2, 3, device=device)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum((0, -2))
    with pytest.raises(TypeError):
        x.sum(1.0)
    with pytest.raises(TypeError):
        x.max((0, 1))
    with pytest.raises(TypeError):
        x.prod((0, 1))
    with pytest.raises(TypeError):
        mg.logsumexp(x)


# ---------------------------------------------------------------------- max / min / amax / argmax
@given(tied_case(), st.sampled_from(["amax", "amin"]))
def test_amax_amin_split_ties_like_torch(device, c, name):
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    dim = () if dim is None else dim
    compare_with_torch(lambda t: getattr(t, name)(dim, keepdim),
                       lambda t: getattr(t, name)(torch_dim(dim), keepdim), x, exact=True)


@given(tied_case(single=True, allow_none=False), st.sampled_from(["max", "min"]))
def test_max_min_with_dim_match_torch(device, c, name):
    """Values, first-occurrence indices, and the gradient routed to the selected index."""
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    result, expected = getattr(x, name)(dim, keepdim), getattr(as_torch(torch, x), name)(dim, keepdim)
    values, indices = result
    assert values is result.values and indices is result.indices and result[1] is indices
    assert indices.dtype == mg.int64 and not indices.requires_grad
    assert_close(indices.cpu().numpy(), expected.indices.numpy(), exact=True)
    compare_with_torch(lambda t: getattr(t, name)(dim, keepdim).values,
                       lambda t: getattr(t, name)(dim, keepdim).values, x, exact=True)


@given(tied_case(), st.sampled_from(["max", "min"]))
def test_max_min_without_dim_split_ties_evenly_like_torch(device, c, name):
    torch = pytest.importorskip("torch")
    x = on_device(c[0], device)
    compare_with_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x, exact=True)


@given(tied_case(), st.sampled_from(["argmax", "argmin"]))
def test_argmax_argmin_match_torch(device, c, name):
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    if isinstance(dim, tuple):
        dim = dim[0]
    got = getattr(x, name)(dim, keepdim)
    expected = getattr(as_torch(torch, x), name)(dim, keepdim)
    assert got.dtype == mg.int64
    assert_close(got.cpu().numpy(), expected.numpy(), exact=True)


def test_nan_propagates_like_torch(device):
    torch = pytest.importorskip("torch")
    rows = np.array([[np.nan, 1.0, np.nan], [2.0, 1.0, 2.0]])
    for name in ("max", "min"):
        compare_with_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(),
                           mg.tensor(rows, requires_grad=True, device=device), exact=True)
        compare_with_torch(lambda t: getattr(t, name)(1).values, lambda t: getattr(t, name)(1).values,
                           mg.tensor(rows, requires_grad=True, device=device), exact=True)
        compare_with_torch(lambda t: getattr(t, "a" + name)(1), lambda t: getattr(t, "a" + name)(1),
                           mg.tensor(rows, requires_grad=True, device=device), exact=True)
        assert getattr(mg.tensor(rows, device=device), "arg" + name)(1).tolist() == \
            getattr(torch.from_numpy(rows), "arg" + name)(1).tolist()


def test_max_two_tensor_form_delegates_to_maximum(device):
    pytest.importorskip("minigrad.ops.pointwise")
    a, b = mg.tensor([1.0, 5.0, 3.0], device=device), mg.tensor([4.0, 2.0, 3.0], device=device)
    assert mg.max(a, b).tolist() == [4.0, 5.0, 3.0]
    assert mg.min(a, other=b).tolist() == [1.0, 2.0, 3.0]
    assert a.max(b).tolist() == [4.0, 5.0, 3.0]


def test_zero_dim_inputs(device):
    x = mg.tensor(3.0, requires_grad=True, device=device)
    values, indices = x.max(0)
    assert values.item() == 3.0 and indices.item() == 0 and indices.shape == ()
    assert x.argmax().item() == 0 and x.argmax(0, keepdim=True).shape == ()
    assert x.sum((0,)).item() == 3.0 and x.logsumexp(0).item() == 3.0
    assert x.var(correction=0).item() == 0.0
    with pytest.warns(UserWarning):
        assert np.isnan(x.var().item())  # N − correction = 0
    values.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------------- logsumexp
@given(case(shape_strategy=shapes(min_dims=1, max_dims=3), allow_none=False))
def test_logsumexp_matches_torch(device, c):
    torch = pytest.importorskip("torch")
    x, dim, keepdim = c
    x = on_device(x, device)
    compare_with_torch(lambda t: mg.logsumexp(t, dim, keepdim),
                       lambda t: torch.logsumexp(t, torch_dim(dim), keepdim), x)


def test_logsumexp_is_stable_and_handles_infinite_rows(device):
    x = mg.tensor([[-np.inf, -np.inf, -np.inf], [1e4, 1e4, -1e4], [0.0, -np.inf, np.log(3.0)]],
                  dtype=mg.float64, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) or inf − inf warnings
        y = x.logsumexp(1)
    np.testing.assert_allclose(y.cpu().numpy(), [-np.inf, 1e4 + np.log(2.0), np.log(4.0)],
                               rtol=1e-12)
    big = mg.tensor([1e4, 1e4 - 1.0], dtype=mg.float32, device=device)
    assert np.isfinite(big.logsumexp(0).item())


def test_logsumexp_gradient_is_softmax(device):
    x = mg.tensor([[1.0, 2.0, 3.0], [-1e3, 0.0, 1e3]], dtype=mg.float64, requires_grad=True,
                  device=device)
    x.logsumexp(1).sum().backward()
    e = np.exp(x.detach().cpu().numpy() - x.detach().cpu().numpy().max(1, keepdims=True))
    np.testing.assert_allclose(x.grad.cpu().numpy(), e / e.sum(1, keepdims=True), rtol=1e-12)
