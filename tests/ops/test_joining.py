"""Joining and splitting: cat/concat, stack, split, chunk, unbind — forward values, dtypes and
gradients against PyTorch, gradcheck/gradgradcheck in float64, views, and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd import grad, gradcheck, gradgradcheck
from tests.devices import on_device
from tests.strategies import shapes, nonempty_shapes, float_arrays, tensors, non_contiguous

CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


def leaf(array, dtype=np.float64, *, device):
    return mg.tensor(np.asarray(array, dtype=dtype), requires_grad=True, device=device)


def as_torch(torch, t):
    return torch.from_numpy(t.detach().cpu().numpy().copy()).requires_grad_(t.requires_grad)


def vjp(outputs, inputs, dys):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    dys = dys if isinstance(dys, (list, tuple)) else [dys]
    return grad(list(outputs), list(inputs), grad_outputs=[mg.tensor(d, device=outputs[0].device) for d in dys],
                allow_unused=True)



@st.composite
def cat_cases(draw):
    """Tensors that agree except along ``dim`` (sizes there may be 0), often non-contiguous."""
    base = list(draw(shapes(min_dims=1, max_dims=3, max_side=3)))
    dim = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(1, 4))
    inputs = []
    for _ in range(count):
        shape = list(base)
        shape[dim] = draw(st.integers(0, 3))
        inputs.append(draw(tensors(st.just(tuple(shape)))))
    return inputs, dim


# ---------------------------------------------------------------------- cat
@given(cat_cases())
def test_cat_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    inputs, dim = case
    inputs = [on_device(t, device) for t in inputs]
    y = mg.cat(inputs, dim)
    tinputs = [as_torch(torch, t) for t in inputs]
    ty = torch.cat(tinputs, dim)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(0).standard_normal(ty.shape)
    grads = vjp(y, inputs, dy)
    tgrads = torch.autograd.grad(ty, tinputs, torch.tensor(dy))
    for g, tg in zip(grads, tgrads):
        np.testing.assert_array_equal(g.cpu().numpy(), tg.numpy())


@settings(max_examples=15)
@given(cat_cases())
def test_cat_gradcheck_and_gradgradcheck(device, case):
    inputs, dim = case
    inputs = [on_device(t, device) for t in inputs]
    assert gradcheck(lambda *ts: mg.cat(ts, dim), inputs, **CHECK)
    assert gradgradcheck(lambda *ts: mg.cat(ts, dim) ** 2, inputs, **CHECK)


def test_cat_backward_slices_are_differentiable(device):
    a, b = leaf([1.0, 2.0], device=device), leaf([3.0], device=device)
    y = mg.cat([a, b]) ** 2
    ga, gb = grad(y, [a, b], grad_outputs=mg.ones(3, dtype=mg.float64, device=device),
                  create_graph=True)
    np.testing.assert_allclose(ga.detach().cpu().numpy(), [2.0, 4.0])
    (gga,) = grad(ga, a, grad_outputs=mg.ones(2, dtype=mg.float64, device=device))
    np.testing.assert_allclose(gga.cpu().numpy(), [2.0, 2.0])


def test_cat_promotes_dtypes_like_torch(device):
    torch = pytest.importorskip("torch")
    cases = [(mg.float32, mg.float64), (mg.int64, mg.float16), (mg.int64, mg.bool), (mg.int32, mg.int64),
             (mg.bool, mg.bool)]
    for a, b in cases:
        x, y = mg.ones(2, 2, dtype=a, device=device), mg.zeros(1, 2, dtype=b, device=device)
        expected = torch.cat([torch.from_numpy(x.cpu().numpy()),
                              torch.from_numpy(y.cpu().numpy())]).numpy().dtype
        assert mg.cat([x, y]).dtype == expected, (a, b)
    f32 = leaf(np.ones((1, 2)), np.float32, device=device)
    f64 = leaf(np.ones((1, 2)), device=device)
    out = mg.cat([f32, f64])
    assert out.dtype == mg.float64
    g32, g64 = vjp(out, [f32, f64], np.ones((2, 2)))
    assert g32.dtype == mg.float32 and g64.dtype == mg.float64


def test_cat_skips_legacy_empty_tensors(device):
    torch = pytest.importorskip("torch")
    m = leaf(np.arange(6.0).reshape(2, 3), device=device)
    e1, e2 = leaf(np.zeros(0), device=device), leaf(np.zeros(0), device=device)
    y = mg.cat([e1, m, e2], dim=1)
    assert tuple(y.shape) == (2, 3)
    ge1, gm, ge2 = vjp(y, [e1, m, e2], np.ones((2, 3)))
    assert tuple(ge1.shape) == tuple(ge2.shape) == (0,) and gm.tolist() == [[1.0] * 3] * 2
    assert tuple(mg.cat([mg.zeros(0, device=device), mg.zeros(0, device=device)], 1).shape) == (0,)
    mixed = mg.cat([mg.zeros(0, dtype=mg.float64, device=device), mg.zeros(2, 2, device=device)], 1)
    assert mixed.dtype == torch.cat([torch.zeros(0, dtype=torch.float64), torch.zeros(2, 2)], 1).numpy().dtype


def test_cat_aliases_and_non_contiguous(device):
    a = mg.from_numpy(non_contiguous(np.arange(6.0).reshape(2, 3))).to(device)
    assert not a.is_contiguous()
    assert mg.concat([a, a], 1).tolist() == mg.concatenate((a, a), dim=-1).tolist()
    assert mg.cat([a, a]).tolist() == np.concatenate([a.cpu().numpy(), a.cpu().numpy()]).tolist()


@pytest.mark.parametrize("call, exc, message", [
    (lambda: mg.cat([mg.zeros(3, 4), mg.zeros(4, 4)], 1), RuntimeError,
     r"Sizes of tensors must match except in dimension 1\. Expected size 3 but got size 4 for tensor "
     r"number 1 in the list\."),
    (lambda: mg.cat([mg.zeros(3, 4), mg.zeros(3, 4), mg.zeros(3, 5)], 0), RuntimeError,
     "Expected size 4 but got size 5 for tensor number 2 in the list"),
    (lambda: mg.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda: mg.cat([mg.zeros(3, 4), mg.zeros(3)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    (lambda: mg.cat([mg.tensor(1.0), mg.zeros(3)]), RuntimeError,
     r"zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    (lambda: mg.cat([mg.zeros(3, 4)] * 2, 2), IndexError,
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda: mg.cat(mg.zeros(3, 4)), TypeError, "must be tuple of Tensors, not Tensor"),
    (lambda: mg.stack([mg.zeros(2, 3), mg.zeros(2, 4)]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1"),
    (lambda: mg.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda: mg.stack([mg.zeros(3, 4)] * 2, 3), IndexError,
     r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"),
    (lambda: mg.split(mg.zeros(3, 4), [1, 3, -1]), RuntimeError,
     r"split_with_sizes expects split_sizes have only non-negative entries, but got "
     r"split_sizes=\[1, 3, -1\]"),
    (lambda: mg.split(mg.zeros(3, 4), [1, 1]), RuntimeError,
     r"split_with_sizes expects split_sizes to sum exactly to 3 \(input tensor's size at dimension 0\), "
     r"but got split_sizes=\[1, 1\]"),
    (lambda: mg.split(mg.zeros(3, 4), 0), RuntimeError,
     "split_size can only be 0 if dimension size is 0, but got dimension size of 3"),
    (lambda: mg.split(mg.zeros(3, 4), -1), RuntimeError,
     "split expects split_size be non-negative, but got split_size=-1"),
    (lambda: mg.split(mg.tensor(1.0), 1), RuntimeError, "split expects at least a 1-dimensional tensor"),
    (lambda: mg.chunk(mg.zeros(3, 4), 0), RuntimeError,
     "chunk expects `chunks` to be greater than 0, got: 0"),
    (lambda: mg.chunk(mg.tensor(1.0), 1), RuntimeError, "chunk expects at least a 1-dimensional tensor"),
    (lambda: mg.tensor(1.0).unbind(0), IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    (lambda: mg.zeros(3, 4).unbind(2), IndexError, "Dimension out of range"),
])
def test_errors(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_error_messages_equal_torch():
    torch = pytest.importorskip("torch")
    pairs = [(lambda m: m.cat([m.zeros(3, 4), m.zeros(4, 4)], 1)),
             (lambda m: m.stack([m.zeros(2, 3), m.zeros(2, 4)])),
             (lambda m: m.split(m.zeros(3, 4), [1, 1])),
             (lambda m: m.chunk(m.zeros(3), -2))]
    for call in pairs:
        with pytest.raises(Exception) as ours:
            call(mg)
        with pytest.raises(Exception) as theirs:
            call(torch)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value).split("\n")[0]


# ---------------------------------------------------------------------- stack
@given(tensors(shapes(min_dims=0, max_dims=3, max_side=3)), st.integers(1, 3), st.data())
def test_stack_matches_torch(device, first, count, data):
    first = on_device(first, device)
    torch = pytest.importorskip("torch")
    inputs = [first] + [on_device(data.draw(tensors(st.just(tuple(first.shape)))), device)
                        for _ in range(count - 1)]
    dim = data.draw(st.integers(-first.ndim - 1, first.ndim))
    y = mg.stack(inputs, dim)
    tinputs = [as_torch(torch, t) for t in inputs]
    ty = torch.stack(tinputs, dim)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(1).standard_normal(ty.shape)
    for g, tg in zip(vjp(y, inputs, dy), torch.autograd.grad(ty, tinputs, torch.tensor(dy))):
        np.testing.assert_array_equal(g.cpu().numpy(), tg.numpy())


def test_stack_gradgradcheck_and_dtypes(device):
    rng = np.random.default_rng(2)
    a, b = (leaf(rng.standard_normal((2, 3)), device=device),
            leaf(rng.standard_normal((2, 3)), device=device))
    assert gradcheck(lambda a, b: mg.stack([a, b, a], 1), (a, b), **CHECK)
    assert gradgradcheck(lambda a, b: mg.stack([a * b, b], -1) ** 2, (a, b), **CHECK)
    assert mg.stack([mg.zeros(2, dtype=mg.int64, device=device),
                     mg.zeros(2, dtype=mg.float64, device=device)]).dtype == mg.float64
    assert mg.stack([mg.tensor(1.0, device=device),
                     mg.tensor(2, device=device)]).dtype == mg.float32
    assert tuple(mg.stack([mg.zeros(0, 2, device=device)] * 3, 1).shape) == (0, 3, 2)


# ---------------------------------------------------------------------- split / chunk
@given(tensors(nonempty_shapes(min_dims=1, max_dims=3)), st.data())
def test_split_and_chunk_match_torch(device, x, data):
    x = on_device(x, device)
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = x.shape[dim]
    how = data.draw(st.sampled_from(["size", "sections", "chunk"]))
    if how == "size":
        arg = data.draw(st.integers(1, size + 1))
    elif how == "sections":
        cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3)))
        arg = [b - a for a, b in zip([0] + cuts, cuts + [size])]
    else:
        arg = data.draw(st.integers(1, 5))
    tx = as_torch(torch, x)
    if how == "chunk":
        pieces, tpieces = x.chunk(arg, dim), torch.chunk(tx, arg, dim)
    else:
        pieces, tpieces = mg.split(x, arg, dim), tx.split(arg, dim)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in tpieces]
    for p, tp in zip(pieces, tpieces):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), tp.detach().cpu().numpy())
    # Use only every other piece: the unused ones contribute zeros.
    used = list(range(0, len(pieces), 2))
    rng = np.random.default_rng(3)
    dys = [rng.standard_normal(tuple(pieces[i].shape)) for i in used]
    (g,) = vjp([pieces[i] for i in used], [x], dys)
    (tg,) = torch.autograd.grad([tpieces[i] for i in used], tx, [torch.tensor(d) for d in dys])
    np.testing.assert_array_equal(g.cpu().numpy(), tg.numpy())


def test_split_chunk_sizes_like_torch(device):
    torch = pytest.importorskip("torch")
    for n in range(0, 9):
        for chunks in range(1, 6):
            ours = [p.shape[0] for p in mg.chunk(mg.zeros(n, device=device), chunks)]
            assert ours == [p.shape[0] for p in torch.chunk(torch.zeros(n), chunks)], (n, chunks)
        for size in range(0 if n == 0 else 1, 5):
            ours = [p.shape[0] for p in mg.zeros(n, device=device).split(size)]
            assert ours == [p.shape[0] for p in torch.zeros(n).split(size)], (n, size)


def test_split_gradgradcheck_and_views(device):
    x = leaf(np.random.default_rng(4).standard_normal((5, 2)), device=device)
    assert gradcheck(lambda t: mg.split(t, [2, 0, 3]), (x,), **CHECK)
    assert gradgradcheck(lambda t: tuple(p ** 2 for p in t.chunk(3)), (x,), **CHECK)
    base = mg.zeros(4, 3, device=device)
    first, second = base.split(2)
    row0, row1, row2 = base.unbind(1)
    assert first._base is base and row2._base is base
    base[3, 2] = 1.0
    assert second.tolist()[1] == [0.0, 0.0, 1.0] and row2.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert second._version == row0._version == base._version == 1


def test_split_pieces_saved_then_modified_raise(device):
    a = leaf(np.ones(4), device=device)
    h = a * 1.0
    left, right = h.split(2)
    out = left * left
    h[0] = 3.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        vjp(out, [a], np.ones(2))


# ---------------------------------------------------------------------- unbind
@given(tensors(shapes(min_dims=1, max_dims=3, max_side=3)), st.data())
def test_unbind_matches_torch(device, x, data):
    x = on_device(x, device)
    torch = pytest.importorskip("torch")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    tx = as_torch(torch, x)
    pieces, tpieces = x.unbind(dim), tx.unbind(dim)
    assert len(pieces) == len(tpieces)
    for p, tp in zip(pieces, tpieces):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), tp.detach().cpu().numpy())
    if not pieces:
        return
    rng = np.random.default_rng(5)
    dys = [rng.standard_normal(tuple(pieces[0].shape)) for _ in pieces[:2]]
    (g,) = vjp(list(pieces[:2]), [x], dys)
    (tg,) = torch.autograd.grad(list(tpieces[:2]), tx, [torch.tensor(d) for d in dys])
    np.testing.assert_array_equal(g.cpu().numpy(), tg.numpy())


def test_unbind_gradgradcheck(device):
    x = leaf(np.random.default_rng(6).standard_normal((2, 3)), device=device)
    assert gradcheck(lambda t: mg.unbind(t, 1), (x,), **CHECK)
    assert gradgradcheck(lambda t: tuple(p * p for p in t.unbind()), (x,), **CHECK)
    assert x.unbind(0)[1].tolist() == x.detach().cpu().numpy()[1].tolist()
