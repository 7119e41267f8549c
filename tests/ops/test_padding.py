"""The ConstantPad Function (ops/padding.py): forward against numpy.pad (and slicing for
negative, cropping amounts), first and second derivatives, and its VJP being ConstantPad
with the amounts negated."""
import numpy as np
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.ops.padding import ConstantPad


def pad_reference(x, dims, pairs, value):
    """numpy.pad for the positive amounts, then a slice for the negative (cropping) ones."""
    widths = [(0, 0)] * x.ndim
    crops = [slice(None)] * x.ndim
    for d, (left, right) in zip(dims, pairs):
        widths[d] = (max(left, 0), max(right, 0))
    out = np.pad(x, widths, constant_values=value)
    for d, (left, right) in zip(dims, pairs):
        start = max(-left, 0)
        crops[d] = slice(start, out.shape[d] - max(-right, 0))
    return out[tuple(crops)]


@settings(max_examples=30)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data(), st.integers(0, 2 ** 16))
def test_forward_matches_numpy(shape, data, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    k = data.draw(st.integers(1, len(shape)))
    dims = tuple(len(shape) - 1 - i for i in range(k))
    amounts = [st.integers(-(shape[d] // 2), 2) for d in dims]
    pairs = tuple((data.draw(a), data.draw(a)) for a in amounts)
    y = ConstantPad.apply(mg.tensor(x), dims, pairs, 1.5)
    np.testing.assert_array_equal(y.numpy(), pad_reference(x, dims, pairs, 1.5))


def test_vjp_is_constant_pad_with_negated_amounts():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    dims, pairs = (2, 1), ((1, -1), (2, 0))
    y = ConstantPad.apply(x, dims, pairs, 7.0)
    dy = rng.standard_normal(y.shape)
    y.backward(mg.tensor(dy))
    expected = ConstantPad.apply(mg.tensor(dy), dims, ((-1, 1), (-2, 0)), 0).numpy()
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert x.grad.numpy()[:, :, -1].sum() == 0          # the cropped column gets no gradient


def test_first_and_second_derivatives():
    x = mg.tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda t: ConstantPad.apply(t, (1, 0), ((2, -1), (0, 1)), 0.5), (x,))
    assert gradgradcheck(lambda t: ConstantPad.apply(t, (1,), ((1, 1),), 0.0) ** 2, (x,))
