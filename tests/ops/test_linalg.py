"""Matrix multiplication (``@``, ``matmul``, ``mm``, ``bmm``): every 1-D/2-D/batched and
broadcast-batch combination against PyTorch (values and gradients), gradcheck and
gradgradcheck in float64, zero-size operands, and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.strategies import non_contiguous

SHAPE_PAIRS = [
    ((3,), (3,)),                 # dot → 0-d
    ((3,), (3, 4)),               # row vector
    ((2, 3), (3,)),               # column vector
    ((2, 3), (3, 4)),
    ((3,), (5, 3, 4)),            # 1-D with a batch
    ((5, 2, 3), (3,)),
    ((5, 2, 3), (5, 3, 4)),       # batched
    ((2, 3), (5, 3, 4)),          # matrix broadcast over a batch
    ((5, 2, 3), (3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),    # broadcast batch dims
    ((1, 2, 3), (4, 3, 2)),
    ((4, 1, 2, 3), (1, 6, 3, 2)),
    ((0, 3), (3, 4)),             # zero-size
    ((2, 0), (0, 4)),             # empty contraction → zeros
    ((5, 0, 2, 3), (3, 4)),
    ((0,), (0,)),
]


def random(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def compare_with_torch(fn, arrays, rtol=1e-10, atol=1e-12, contiguous=True, *, device):
    torch = pytest.importorskip("torch")
    ours = [mg.from_numpy(a if contiguous else non_contiguous(a)).to(device).requires_grad_()
            for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), fn(*theirs)
    assert tuple(out.shape) == tuple(expected.shape)
    assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    upstream = random(tuple(out.shape), seed=1, dtype=arrays[0].dtype)
    grads = mg.autograd.grad(out, ours, grad_outputs=mg.tensor(upstream, device=device))
    expected_grads = torch.autograd.grad(expected, theirs, grad_outputs=torch.tensor(upstream))
    for g, e, x in zip(grads, expected_grads, ours):
        assert tuple(g.shape) == tuple(x.shape) and g.dtype == x.dtype and g.device == device
        np.testing.assert_allclose(g.cpu().numpy(), e.numpy(), rtol=rtol, atol=atol)



@pytest.mark.parametrize("shape_a,shape_b", SHAPE_PAIRS)
def test_matmul_matches_torch(shape_a, shape_b, device):
    a, b = random(shape_a, 2), random(shape_b, 3)
    compare_with_torch(lambda x, y: x @ y, [a, b], device=device)
    compare_with_torch(lambda x, y: x.matmul(y), [a, b], device=device)


@pytest.mark.parametrize("shape_a,shape_b", [p for p in SHAPE_PAIRS if len(p[0]) > 1 and len(p[1]) > 1])
def test_matmul_non_contiguous_operands(shape_a, shape_b, device):
    compare_with_torch(lambda x, y: x @ y, [random(shape_a, 4), random(shape_b, 5)],
                       contiguous=False, device=device)


def test_matmul_float32_keeps_dtype_and_matches_torch(device):
    compare_with_torch(lambda x, y: x @ y, [random((4, 5), dtype=np.float32),
                                            random((3, 5, 2), dtype=np.float32)], rtol=1e-5, atol=1e-5, device=device)


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    left_batch = [draw(st.sampled_from([b, 1])) for b in batch]
    right_batch = [draw(st.sampled_from([b, 1])) for b in batch]
    left = draw(st.sampled_from([(k,), tuple(left_batch) + (n, k), (n, k)]))
    right = draw(st.sampled_from([(k,), tuple(right_batch) + (k, m), (k, m)]))
    return left, right


@given(shapes=matmul_shapes(), seed=st.integers(0, 1000))
def test_matmul_hypothesis_matches_torch(shapes, seed, device):
    a, b = random(shapes[0], seed), random(shapes[1], seed + 1)
    compare_with_torch(lambda x, y: x @ y, [a, b], device=device)


@given(shapes=matmul_shapes(), seed=st.integers(0, 1000))
def test_matmul_gradcheck(shapes, seed, device):
    a = mg.tensor(random(shapes[0], seed), requires_grad=True, device=device)
    b = mg.tensor(random(shapes[1], seed + 1), requires_grad=True, device=device)
    assert gradcheck(lambda x, y: x @ y, (a, b), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("shape_a,shape_b", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                             ((2, 3), (3, 2)), ((2, 1, 3), (2, 3, 2))])
def test_matmul_gradgradcheck(shape_a, shape_b, device):
    a = mg.tensor(random(shape_a, 6), requires_grad=True, device=device)
    b = mg.tensor(random(shape_b, 7), requires_grad=True, device=device)
    assert gradgradcheck(lambda x, y: x @ y, (a, b))


def test_matmul_with_only_one_operand_requiring_grad(device):
    a = mg.tensor(random((2, 3)), requires_grad=True, device=device)
    b = mg.tensor(random((3, 4)), device=device)
    out = a @ b
    (ga,) = mg.autograd.grad(out, [a], grad_outputs=mg.ones(2, 4, dtype=mg.float64, device=device))
    np.testing.assert_allclose(ga.cpu().numpy(), np.ones((2, 4)) @ b.cpu().numpy().T)
    assert not (mg.tensor(random((2, 3)), device=device) @ b).requires_grad


def test_integer_matmul_matches_torch(device):
    torch = pytest.importorskip("torch")
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    out = mg.tensor(a, device=device) @ mg.tensor(b, device=device)
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.cpu().numpy(), (torch.tensor(a) @ torch.tensor(b)).numpy())


def test_empty_contraction_gives_zeros(device):
    out = mg.ones(2, 0, device=device) @ mg.ones(0, 3, device=device)
    np.testing.assert_array_equal(out.cpu().numpy(), np.zeros((2, 3), dtype=np.float32))


# ---------------------------------------------------------------------- mm / bmm
def test_mm_and_bmm_match_torch(device):
    compare_with_torch(lambda x, y: x.mm(y), [random((2, 3)), random((3, 4))], device=device)
    compare_with_torch(lambda x, y: x.bmm(y), [random((5, 2, 3)), random((5, 3, 4))], device=device)


@pytest.mark.parametrize("shape_a,shape_b", [((3,), (3, 4)), ((2, 3), (3,)), ((1, 2, 3), (3, 4))])
def test_mm_requires_matrices(shape_a, shape_b, device):
    with pytest.raises(RuntimeError):
        mg.mm(mg.ones(*shape_a, device=device), mg.ones(*shape_b, device=device))


@pytest.mark.parametrize("shape_a,shape_b", [((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                                             ((5, 2, 3), (4, 3, 4)), ((1, 2, 3), (5, 3, 4))])
def test_bmm_requires_equal_batches_of_matrices(shape_a, shape_b, device):
    with pytest.raises(RuntimeError):
        mg.bmm(mg.ones(*shape_a, device=device), mg.ones(*shape_b, device=device))


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("shape_a,shape_b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)),
                                             ((3,), (4, 5)), ((7, 2, 3), (7, 4, 5))])
def test_shape_mismatch_names_both_shapes(shape_a, shape_b, device):
    with pytest.raises(RuntimeError) as info:
        mg.ones(*shape_a, device=device) @ mg.ones(*shape_b, device=device)
    message = str(info.value)
    assert str(list(shape_a)) in message and str(list(shape_b)) in message


def test_batch_dims_that_do_not_broadcast_raise(device):
    with pytest.raises(RuntimeError):
        mg.ones(2, 2, 3, device=device) @ mg.ones(3, 3, 4, device=device)


def test_zero_dim_operand_raises(device):
    with pytest.raises(RuntimeError, match="at least 1D"):
        mg.tensor(2.0, device=device) @ mg.ones(3, device=device)
    with pytest.raises(RuntimeError, match="at least 1D"):
        mg.ones(3, device=device).matmul(mg.tensor(2.0, device=device))


def test_dtype_mismatch_raises_naming_both_dtypes(device):
    with pytest.raises(RuntimeError) as info:
        mg.ones(2, 3, device=device) @ mg.ones(3, 4, dtype=mg.float64, device=device)
    assert "float32" in str(info.value) and "float64" in str(info.value)
    with pytest.raises(RuntimeError):
        mg.ones(2, 3, device=device) @ mg.ones(3, 4, dtype=mg.int64, device=device)


def test_matmul_with_non_tensor_raises_type_error(device):
    with pytest.raises(TypeError):
        mg.ones(2, 3, device=device) @ [[1.0], [2.0], [3.0]]


def test_numpy_array_on_the_left_gives_a_tensor():
    out = np.ones((2, 3), dtype=np.float32) @ mg.ones(3, 4)
    assert isinstance(out, mg.Tensor) and tuple(out.shape) == (2, 4)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 4), 3.0))
