"""F.pad: PyTorch parity for constant (including negative, cropping pads and a fill
value), reflect, replicate and circular modes, gradients accumulating where pixels are
read twice, second derivatives of constant padding, and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both


@given(st.integers(1, 4), st.data(), st.integers(0, 2 ** 16))
def test_constant_matches_torch(device, ndim, data, seed):
    torch = pytest.importorskip("torch")
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(ndim))
    pairs = data.draw(st.integers(1, ndim))
    pad = []
    for i in range(pairs):
        size = shape[ndim - 1 - i]
        pad += [data.draw(st.integers(-(size // 2), 2)), data.draw(st.integers(-(size // 2), 2))]
    value = data.draw(st.sampled_from([None, 0.0, 1.5]))
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    run_both(torch, lambda t: F.pad(t, pad, value=value),
             lambda t: torch.nn.functional.pad(t, pad, value=value), [x], seed)


@given(st.sampled_from(["reflect", "replicate", "circular"]), st.sampled_from([1, 2, 3]),
       st.data(), st.integers(0, 2 ** 16))
def test_other_modes_match_torch(device, mode, dims, data, seed):
    torch = pytest.importorskip("torch")
    shape = (2, 2) + tuple(data.draw(st.integers(2, 4)) for _ in range(dims))
    pad = []
    for i in range(dims):
        size = shape[-1 - i]
        pad += [data.draw(st.integers(0, size - 1)), data.draw(st.integers(0, size - 1))]
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    run_both(torch, lambda t: F.pad(t, pad, mode=mode),
             lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x], seed)


def test_gradients(device):
    x = leaf(np.random.default_rng(0).standard_normal((1, 2, 3)), device=device)
    assert gradcheck(lambda t: F.pad(t, (2, -1), value=3.0), (x,))
    assert gradgradcheck(lambda t: F.pad(t, (1, 2, 0, 1)), (x,))
    assert gradcheck(lambda t: F.pad(t, (2, 2), mode="reflect"), (x,))
    assert gradcheck(lambda t: F.pad(t, (1, 3), mode="replicate"), (x,))


def test_reflect_gradient_accumulates(device):
    x = leaf([[1.0, 2.0, 3.0]], device=device)
    F.pad(x, (2, 2), mode="reflect").sum().backward()     # 3 2 | 1 2 3 | 2 1
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[2.0, 3.0, 2.0]])


def test_dtype_kept(device):
    assert F.pad(mg.randn(2, 3, device=device), (1, 1)).dtype == mg.float32
    assert F.pad(mg.tensor([[1, 2]], device=device), (1, 0), value=7).tolist() == [[7, 1, 2]]


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.pad(mg.randn(3, 5), (1,)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda: F.pad(mg.randn(3, 5), (1, 1, 1, 1, 1, 1)), RuntimeError,
     "Padding length should be less than or equal to two times the input dimension but got "
     "padding length 6 and input of dimension 2"),
    (lambda: F.pad(mg.randn(1, 2, 3), (3, 0), mode="reflect"), RuntimeError,
     "Padding size should be less than the corresponding input dimension, but got: padding (3, 0) "
     "at dimension 2 of input [1, 2, 3]"),
    (lambda: F.pad(mg.randn(3), (1, 1), mode="reflect"), NotImplementedError,
     "Padding size 2 is not supported for 1D input tensor"),
    (lambda: F.pad(mg.randn(3, 3), (1, 1), mode="foo"), NotImplementedError,
     "Unrecognised padding mode foo"),
    (lambda: F.pad(mg.randn(1, 2, 3), (1, 1), mode="reflect", value=1.0), RuntimeError,
     "Padding mode \"reflect\" doesn't take in value argument"),
    (lambda: F.pad(mg.randn(2, 3), (-2, -2)), RuntimeError, "negative output size"),
])
def test_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


@settings(max_examples=120, deadline=None)
@given(st.sampled_from([1, 2, 3]), st.data(), st.integers(0, 2 ** 16))
def test_circular_with_negative_padding_matches_torch(device, dims, data, seed):
    """PyTorch crops by the negative pads first and wraps what is left (not the uncropped
    input).  Where that leaves fewer entries than a positive pad needs (PyTorch fails on an
    overlapping copy, or returns uninitialised memory when nothing is left) minigrad raises."""
    torch = pytest.importorskip("torch")
    shape = (2, 2) + tuple(data.draw(st.integers(1, 5)) for _ in range(dims))
    pad, valid = [], True
    for i in range(dims):
        size = shape[-1 - i]
        left, right = (data.draw(st.integers(-size, size)) for _ in range(2))
        if size + left + right <= 0:
            right = 1 - size - left
        kept = size + min(left, 0) + min(right, 0)
        valid &= kept > 0 and left <= kept and right <= kept
        pad += [left, right]
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    if not valid:
        with pytest.raises(RuntimeError, match="wrapping around more than once"):
            F.pad(x, pad, mode="circular")
        return
    run_both(torch, lambda t: F.pad(t, pad, mode="circular"),
             lambda t: torch.nn.functional.pad(t, pad, mode="circular"), [x], seed)


@pytest.mark.parametrize("pad,expected", [((-1, 2), [1, 2, 3, 1, 2]), ((2, -1), [1, 2, 0, 1, 2]),
                                          ((-2, 1), [2, 3, 2]), ((1, -2), [1, 0, 1]),
                                          ((-1, -1), [1, 2]), ((0, 0), [0, 1, 2, 3])])
def test_circular_negative_padding_examples(pad, expected):
    """x = [0, 1, 2, 3]: (−1, 2) crops to [1, 2, 3] and wraps it: [1, 2, 3, 1, 2]."""
    x = mg.tensor([[[0.0, 1.0, 2.0, 3.0]]])
    assert F.pad(x, pad, mode="circular").tolist() == [[expected]]


def test_one_dim_reflect_and_replicate_to_nothing_raise_as_torch():
    x = mg.randn(1, 1, 3)
    for mode in ("reflect", "replicate"):
        with pytest.raises(RuntimeError, match="input \\(W: 3\\) is too small. Calculated output "
                                               "W: 0"):
            F.pad(x, (-1, -2), mode=mode)
    assert F.pad(mg.randn(1, 1, 3, 4), (0, 0, -3, 0), mode="replicate").shape == (1, 1, 0, 4)
    assert F.pad(x, (1, -4), mode="circular").shape == (1, 1, 0)
