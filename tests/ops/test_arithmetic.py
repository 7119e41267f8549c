"""Elementwise arithmetic (+ − × ÷ ** and negation, their reflected forms) and comparisons:
values and gradients against PyTorch on hypothesis-drawn broadcastable shapes, zero-size
and non-contiguous operands, gradcheck/gradgradcheck in float64, dtypes, and errors."""
import operator
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import broadcastable_shapes, float_arrays, non_contiguous, tensors

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
COMPARISONS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
               "gt": operator.gt, "ge": operator.ge}


def away_from_zero(array):
    """Denominators and bases bounded away from 0 (|x| ≥ 0.5) keep ÷ and ** well-conditioned."""
    return np.where(array >= 0, array + 0.5, array - 0.5)


def pointwise_available():
    """The gradients of tensor ** tensor use log/where from the pointwise family."""
    try:
        import minigrad.ops.pointwise  # noqa: F401
    except ImportError:
        return False
    return True


def leaf(array, requires_grad=True, contiguous=True, *, device):
    """A float leaf on ``device`` holding ``array`` as is (from_numpy keeps a non-contiguous
    layout on the CPU)."""
    t = mg.from_numpy(array if contiguous else non_contiguous(array)).to(device)
    return t.requires_grad_(requires_grad and t.is_floating_point())


def compare_with_torch(fn, arrays, requires_grad=None, contiguous=True, rtol=1e-7, atol=1e-10, *,
                       device):
    """Run ``fn`` on minigrad and on torch tensors made from ``arrays``; compare the outputs
    (values and dtype) and the gradients for one random upstream gradient."""
    torch = pytest.importorskip("torch")
    requires_grad = requires_grad or [True] * len(arrays)
    ours = [leaf(a, r, contiguous, device=device) for a, r in zip(arrays, requires_grad)]
    theirs = [torch.tensor(a, requires_grad=bool(r) and a.dtype.kind == "f")
              for a, r in zip(arrays, requires_grad)]
    out, expected = fn(ours), fn(theirs)
    assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    wrt = [(o, t) for o, t in zip(ours, theirs) if t.requires_grad]
    if not wrt:
        return
    upstream = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(out.dtype)
    grads = mg.autograd.grad(out, [o for o, _ in wrt],
                             grad_outputs=mg.tensor(upstream, device=device))
    expected_grads = torch.autograd.grad(expected, [t for _, t in wrt], grad_outputs=torch.tensor(upstream))
    for g, e, (o, _) in zip(grads, expected_grads, wrt):
        assert g.dtype == o.dtype and tuple(g.shape) == tuple(o.shape)
        assert g.device == device
        np.testing.assert_allclose(g.cpu().numpy(), e.numpy(), rtol=rtol, atol=atol)


@st.composite
def operand_pairs(draw, max_dims=4, min_side=1, positive_rhs=False):
    shape_a, shape_b = draw(broadcastable_shapes(max_dims=max_dims, min_side=min_side, max_side=4))
    a = draw(float_arrays(shape_a))
    b = draw(float_arrays(shape_b))
    return a, np.asarray(np.abs(b) + 0.5 if positive_rhs else away_from_zero(b))


# ---------------------------------------------------------------------- against torch
@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=operand_pairs(), contiguous=st.booleans())
def test_binary_matches_torch(name, pair, contiguous, device):
    compare_with_torch(lambda ts: BINARY[name](*ts), list(pair), contiguous=contiguous,
                       device=device)


@given(pair=operand_pairs(positive_rhs=True))
def test_pow_tensor_exponent_matches_torch(pair, device):
    base, exponent = pair
    base = np.asarray(np.abs(base) + 0.5)  # a positive base keeps real results for fractional exponents
    needs = [pointwise_available()] * 2
    compare_with_torch(lambda ts: ts[0] ** ts[1], [base, exponent], requires_grad=needs,
                       device=device)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=operand_pairs(min_side=0))
def test_binary_zero_size_matches_torch(name, pair, device):
    compare_with_torch(lambda ts: BINARY[name](*ts), list(pair), device=device)


@pytest.mark.parametrize("shape_a,shape_b", [((0, 3), (3,)), ((2, 0), (1, 0)), ((0,), ()),
                                             ((4, 1, 0), (3, 1))])
def test_zero_size_broadcast_shapes_and_grads(shape_a, shape_b, device):
    a = mg.zeros(shape_a, dtype=mg.float64, requires_grad=True, device=device)
    b = mg.ones(shape_b, dtype=mg.float64, requires_grad=True, device=device)
    out = a * b + b
    expected = np.broadcast_shapes(shape_a, shape_b)
    assert tuple(out.shape) == expected
    ga, gb = mg.autograd.grad(out, [a, b],
                              grad_outputs=mg.zeros(expected, dtype=mg.float64, device=device))
    assert tuple(ga.shape) == shape_a and tuple(gb.shape) == shape_b
    np.testing.assert_array_equal(gb.cpu().numpy(), np.zeros(shape_b))


@given(x=tensors(contiguous=False))
def test_non_contiguous_inputs_give_contiguous_values(x, device):
    x = on_device(x, device)
    expected = x.detach().cpu().numpy() * 2.0 - 1.0
    out = x * 2.0 - 1.0
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected)
    out.backward(mg.ones(out.shape, dtype=out.dtype, device=device))
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.full(x.shape, 2.0))


@pytest.mark.parametrize("scalar", [2, 2.5, -1.5, np.float64(0.75), np.int64(3)])
@pytest.mark.parametrize("name", ["radd", "rsub", "rmul", "rtruediv", "rpow"])
def test_reflected_forms_match_torch(name, scalar, device):
    ops = {"radd": lambda s, t: s + t, "rsub": lambda s, t: s - t, "rmul": lambda s, t: s * t,
           "rtruediv": lambda s, t: s / t, "rpow": lambda s, t: abs(s) ** t}
    x = np.array([[0.7, -1.2, 2.0], [1.5, -0.6, 0.9]], dtype=np.float32)
    grad = name != "rpow" or pointwise_available()
    compare_with_torch(lambda ts: ops[name](scalar, ts[0]), [x], requires_grad=[grad],
                       rtol=1e-6, atol=1e-6, device=device)


def test_add_sub_alpha_match_torch(device):
    x, y = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, -1.0])
    compare_with_torch(lambda ts: ts[0].add(ts[1], alpha=3), [x, y], device=device)
    compare_with_torch(lambda ts: ts[0].sub(ts[1], alpha=-2), [x, y], device=device)


def test_neg_matches_torch_and_rejects_bool(device):
    compare_with_torch(lambda ts: -ts[0], [np.array([[1.0, -2.0], [0.0, 3.5]])], device=device)
    compare_with_torch(lambda ts: ts[0].neg(), [np.array([1, -2, 3])], device=device)
    with pytest.raises(RuntimeError, match="logical_not"):
        -mg.tensor([True, False], device=device)


def test_mixed_dtype_gradient_comes_back_in_input_dtype(device):
    compare_with_torch(lambda ts: ts[0] * ts[1],
                       [np.array([1.0, 2.0], np.float32), np.array([[3.0], [4.0]], np.float64)],
                       rtol=1e-6, device=device)


# ---------------------------------------------------------------------- pow
@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, 0.5, 2.5, -0.5, np.float64(2.0), np.int32(2)])
def test_pow_scalar_exponent_matches_torch(exponent, device):
    x = np.array([[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]], dtype=np.float32)
    compare_with_torch(lambda ts: ts[0] ** exponent, [x], rtol=1e-6, atol=1e-6, device=device)
    compare_with_torch(lambda ts: ts[0].pow(exponent), [x.astype(np.float64)], device=device)


def test_pow_integer_tensor(device):
    compare_with_torch(lambda ts: ts[0] ** 2, [np.array([1, -2, 3])], device=device)
    compare_with_torch(lambda ts: ts[0] ** 0.5, [np.array([1, 4, 9])], rtol=1e-6, device=device)
    compare_with_torch(lambda ts: ts[0] ** ts[1], [np.array([2, 3]), np.array([3, 2])],
                       device=device)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        mg.tensor([1, 2], device=device) ** -1


def test_scalar_base_matches_torch(device):
    x = np.array([-1.0, 0.0, 0.5, 2.0], dtype=np.float32)
    compare_with_torch(lambda ts: 2 ** ts[0], [x], requires_grad=[pointwise_available()], rtol=1e-6,
                       device=device)
    compare_with_torch(lambda ts: 2.5 ** ts[0], [np.array([1, 2, 3])], rtol=1e-6, device=device)
    out = 2 ** mg.tensor([1, 2, 3], device=device)
    assert out.dtype == mg.int64 and out.tolist() == [2, 4, 8]


def test_pow_zero_base_gradient_matches_torch(device):
    if not pointwise_available():
        pytest.skip("the exponent's gradient needs minigrad.ops.pointwise")
    base = np.array([0.0, 0.0, 2.0, 1.0])
    exponent = np.array([2.0, 0.0, 0.5, 3.0])
    compare_with_torch(lambda ts: ts[0] ** ts[1], [base, exponent], device=device)


def test_pow_scalar_zero_exponent_gradient_is_zero(device):
    x = mg.tensor([0.0, 2.0, -3.0], requires_grad=True, device=device)
    (x ** 0).backward(mg.ones(3, device=device))
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 0.0, 0.0])


# ---------------------------------------------------------------------- numerical checks
@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=operand_pairs(max_dims=3))
def test_binary_gradcheck(name, pair, device):
    a, b = (mg.tensor(v, requires_grad=True, device=device) for v in pair)
    assert gradcheck(BINARY[name], (a, b), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=operand_pairs(max_dims=2))
def test_binary_gradgradcheck(name, pair, device):
    a, b = (mg.tensor(v, requires_grad=True, device=device) for v in pair)
    assert gradgradcheck(BINARY[name], (a, b), eps=1e-6, atol=1e-5, rtol=1e-3)


@given(pair=operand_pairs(max_dims=2, positive_rhs=True),
       exponent=st.sampled_from([2, 3, 0.5, -1.5, 1]))
def test_pow_gradcheck_and_gradgradcheck(pair, exponent, device):
    base = mg.tensor(np.asarray(np.abs(pair[0]) + 0.5), requires_grad=True, device=device)
    assert gradcheck(lambda x: x ** exponent, (base,))
    assert gradgradcheck(lambda x: x ** exponent, (base,))
    if not pointwise_available():
        return
    other = mg.tensor(pair[1], requires_grad=True, device=device)
    assert gradcheck(lambda x, y: x ** y, (base, other))
    assert gradgradcheck(lambda x, y: x ** y, (base, other))


@given(x=tensors(shape_strategy=st.sampled_from([(), (3,), (2, 2)])))
def test_neg_gradgradcheck(x, device):
    x = on_device(x, device)

    assert gradgradcheck(lambda t: -t * t, (x,))


# ---------------------------------------------------------------------- comparisons
@pytest.mark.parametrize("name", sorted(COMPARISONS))
@given(pair=operand_pairs())
def test_comparisons_match_torch_and_have_no_grad(name, pair, device):
    torch = pytest.importorskip("torch")
    a, b = pair
    b = np.where(np.random.default_rng(1).random(b.shape) < 0.3, 0.5, b)  # some ties
    a = np.where(a > 1, 0.5, a)
    ours = COMPARISONS[name](mg.tensor(a, requires_grad=True, device=device),
                             mg.tensor(b, device=device))
    expected = COMPARISONS[name](torch.tensor(a), torch.tensor(b))
    assert ours.dtype == mg.bool
    assert not ours.requires_grad and ours.grad_fn is None
    np.testing.assert_array_equal(ours.cpu().numpy(), expected.numpy())


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@pytest.mark.parametrize("other", [1, 1.5, True, np.float64(1.0)])
def test_comparisons_with_scalars(name, other, device):
    torch = pytest.importorskip("torch")
    x = [0.0, 1.0, 1.5, 2.0]
    ours = COMPARISONS[name](mg.tensor(x, requires_grad=True, device=device), other)
    expected = COMPARISONS[name](torch.tensor(x), other)
    assert ours.dtype == mg.bool and not ours.requires_grad
    assert ours.tolist() == expected.tolist()
    reflected = COMPARISONS[name](other, mg.tensor(x, device=device))
    assert reflected.tolist() == COMPARISONS[name](other, torch.tensor(x)).tolist()


def test_equality_with_non_numbers_is_identity(device):
    x = mg.tensor([1.0, 2.0], device=device)
    assert (x == None) is False  # noqa: E711
    assert (x != "a") is True
    assert x in [x]


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", sorted(BINARY) + ["pow", "eq", "lt"])
def test_shape_mismatch_names_both_shapes(name, device):
    fn = {**BINARY, **COMPARISONS, "pow": operator.pow}[name]
    with pytest.raises(RuntimeError) as info:
        fn(mg.ones(2, 3, device=device), mg.ones(4, 1, 5, device=device))
    message = str(info.value)
    assert "(2, 3)" in message and "(4, 1, 5)" in message


def test_bool_subtraction_raises_like_torch(device):
    with pytest.raises(RuntimeError, match="Subtraction"):
        mg.tensor([True], device=device) - mg.tensor([False], device=device)
    with pytest.raises(RuntimeError, match="Subtraction"):
        mg.ones(2, device=device) - True
    with pytest.raises(RuntimeError, match="Subtraction"):
        1 - mg.tensor([True], device=device)


def test_unsupported_operand_raises_type_error(device):
    with pytest.raises(TypeError):
        mg.ones(2, device=device) + "a"
    with pytest.raises(TypeError):
        mg.ones(2, device=device) * None


def test_integer_division_is_true_division_in_default_float(device):
    out = mg.tensor([1, 2, 3], device=device) / mg.tensor([2, 2, 2], device=device)
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.cpu().numpy(), [0.5, 1.0, 1.5])
    assert (mg.tensor([1, 2], device=device) / 2).dtype == mg.float32


def test_division_by_zero_gives_inf_and_nan_like_torch(device):
    torch = pytest.importorskip("torch")
    x = [1.0, -1.0, 0.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = mg.tensor(x, device=device) / mg.tensor([0.0, 0.0, 0.0], device=device)
    np.testing.assert_array_equal(ours.cpu().numpy(), (torch.tensor(x) / 0.0).numpy())


# ---------------------------------------------------------------------- issue 10 regressions
@pytest.mark.parametrize("mode", ["bad", "true", "Floor", "TRUNC", ""])
def test_div_unknown_rounding_mode_raises_like_torch(mode, device):
    torch = pytest.importorskip("torch")
    message = ("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
               f"'{mode}'")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        torch.div(torch.ones(2), 2, rounding_mode=mode)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        mg.div(mg.ones(2, device=device), 2, rounding_mode=mode)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        mg.ones(2, device=device).div(2, rounding_mode=mode)


def test_pow_gradients_at_base_zero_match_torch(device):
    """d/de 0**e is 0 for e ≥ 0 and ∞·ln 0 = −∞ for e < 0 (PyTorch's masked_fill), for a
    tensor base and a Python-number base; no numpy warning escapes."""
    torch = pytest.importorskip("torch")
    bases = [0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -1.0, -1.0, 0.0, 2.0, 0.0]
    exponents = [2.0, 0.0, -1.0, 0.5, -0.5, 2.0, 2.0, 0.5, -2.0, 0.0, 1.0]
    a = mg.tensor(bases, dtype=mg.float64, device=device, requires_grad=True)
    b = mg.tensor(exponents, dtype=mg.float64, device=device, requires_grad=True)
    ta = torch.tensor(bases, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(exponents, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        da, db = mg.autograd.grad((a ** b).sum(), [a, b])
        (dr,) = mg.autograd.grad((0.0 ** b).sum(), [b])
    tda, tdb = torch.autograd.grad((ta ** tb).sum(), [ta, tb])
    (tdr,) = torch.autograd.grad((0.0 ** tb).sum(), [tb])
    for mine, theirs in ((da, tda), (db, tdb), (dr, tdr)):
        np.testing.assert_array_equal(mine.cpu().numpy(), theirs.numpy())
    assert db.tolist()[2] == -np.inf
