"""einsum (minigrad/ops/einsum.py): random equations (repeated labels/diagonals, labels
summed inside one operand, implicit outputs, ellipsis, size-1 broadcasting) compared with
PyTorch forward and backward in float64, gradcheck/gradgradcheck, the list and sublist
calling forms, and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import assert_close

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


@st.composite
def einsum_cases(draw, max_operands=3):
    """(equation, [arrays]) PyTorch accepts."""
    labels = "abcdB"
    size = {c: draw(st.integers(1, 3)) for c in labels}
    count = draw(st.integers(1, max_operands))
    terms = [draw(st.lists(st.sampled_from(labels), max_size=3)) for _ in range(count)]
    ellipsis = draw(st.booleans())
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=count, max_dims=2, max_side=3)) \
        if ellipsis else None
    arrays = []
    for i, term in enumerate(terms):
        shape = [size[c] for c in term]
        # occasionally a size-1 axis that broadcasts (not on a repeated label)
        if term and draw(st.booleans()):
            j = draw(st.integers(0, len(term) - 1))
            if term.count(term[j]) == 1:
                shape[j] = 1
        if ellipsis:
            shape = list(batch.input_shapes[i]) + shape
        arrays.append(draw(hnp.arrays(np.float64, tuple(shape),
                                      elements=st.floats(-2, 2, width=32))))
    prefix = "..." if ellipsis else ""
    lhs = ",".join(prefix + "".join(t) for t in terms)
    used = sorted({c for t in terms for c in t})
    if draw(st.booleans()):
        return lhs, arrays  # implicit output
    out = draw(st.permutations(used))
    out = out[:draw(st.integers(0, len(out)))]
    return lhs + "->" + prefix + "".join(out), arrays


@settings(max_examples=150)
@given(case=einsum_cases(), data=st.data())
def test_matches_torch_forward_and_backward(case, data, device):
    torch = pytest.importorskip("torch")
    equation, arrays = case
    xs = [mg.from_numpy(a).to(device).requires_grad_() for a in arrays]
    ts = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    y, ty = mg.einsum(equation, *xs), torch.einsum(equation, *ts)
    assert y.dtype == mg.float64
    assert_close(y, ty, rtol=1e-10, atol=1e-12)
    g = data.draw(hnp.arrays(np.float64, tuple(ty.shape), elements=st.floats(-2, 2, width=32)))
    grads = mg.autograd.grad(y, xs, grad_outputs=mg.from_numpy(g).to(device))
    tgrads = torch.autograd.grad(ty, ts, torch.from_numpy(g))
    for mine, theirs in zip(grads, tgrads):
        assert_close(mine, theirs, rtol=1e-10, atol=1e-12)


@settings(max_examples=25)
@given(case=einsum_cases(max_operands=2))
def test_gradcheck_and_gradgradcheck(case, device):
    equation, arrays = case
    xs = tuple(mg.from_numpy(a).to(device).requires_grad_() for a in arrays)

    def fn(*operands):
        return mg.einsum(equation, *operands)
    assert gradcheck(fn, xs, **GRADCHECK)
    assert gradgradcheck(fn, xs, **GRADCHECK)


def test_calling_forms_match_torch(device):
    torch = pytest.importorskip("torch")
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    x, y = mg.from_numpy(a).to(device), mg.from_numpy(b).to(device)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    assert_close(mg.einsum("ij,jk", [x, y]), torch.einsum("ij,jk", [ta, tb]))
    assert_close(mg.einsum(" i j , j k -> k i ", x, y), torch.einsum("ij,jk->ki", ta, tb))
    assert_close(mg.einsum(x, [0, 1], y, [1, 2], [0, 2]), torch.einsum(ta, [0, 1], tb, [1, 2], [0, 2]))
    assert_close(mg.einsum(x, [1, 0]), torch.einsum(ta, [1, 0]))
    assert_close(mg.einsum(x, [0, Ellipsis], [Ellipsis]), torch.einsum(ta, [0, Ellipsis], [Ellipsis]))
    assert mg.einsum("ij,jk->ik", x.long(), y.long()).dtype == mg.int64
    assert mg.einsum("ij->", x.float()).dtype == mg.float32


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ik", [(2, 3), (3, 4)], None),
    ("i,i->i", [(2,), (3,)], "subscript i has size 3 for operand 1 which does not broadcast with previously seen size 2"),
    ("ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("i->ii", [(2,)], "output subscript i appears more than once in the output"),
    ("ij->k", [(2, 3)], "output subscript k does not appear in the equation for any input operand"),
    ("ij,jk", [(2, 3)], "fewer operands were provided than specified in the equation"),
    ("ij", [(2, 3), (3,)], "more operands were provided than specified in the equation"),
    ("ijk", [(2, 3)], r"the number of subscripts in the equation \(3\) does not match the number of dimensions \(2\) for operand 0"),
    ("ij,jk->i$", [(2, 3), (3, 4)], "invalid subscript given at index 8 in the equation string"),
])
def test_errors_match_torch(equation, shapes, message, device):
    torch = pytest.importorskip("torch")
    xs = [mg.ones(*s, device=device) for s in shapes]
    if message is None:  # mixed dtypes
        with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
            mg.einsum(equation, xs[0], xs[1].double())
        return
    with pytest.raises(RuntimeError, match=message):
        torch.einsum(equation, *[torch.ones(*s) for s in shapes])
    with pytest.raises(RuntimeError, match=message):
        mg.einsum(equation, *xs)
