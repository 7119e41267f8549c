"""atan2, hypot, logaddexp/logaddexp2, xlogy, copysign and lerp
(minigrad/ops/pointwise_binary.py): values and gradients vs PyTorch on broadcast pairs
with special values (0, ±0, ±inf, nan, the origin), gradcheck/gradgradcheck, dtype
promotion, scalar operands and PyTorch's errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import assert_close
from tests.strategies import broadcastable_shapes, float_arrays, non_contiguous

GRADCHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)
BINARY = ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign"]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -0.5, np.inf, -np.inf, np.nan]
# gradcheck domains (a, b) away from each function's kinks and singularities
DOMAINS = {"atan2": ((-3, 3), (0.5, 3)), "hypot": ((0.5, 3), (-3, -0.5)),
           "logaddexp": ((-3, 3), (-3, 3)), "logaddexp2": ((-3, 3), (-3, 3)),
           "xlogy": ((-3, 3), (0.5, 3)), "copysign": ((0.5, 3), (-3, 3))}


@st.composite
def arrays(draw, shape, special=True):
    elements = st.floats(-4, 4, width=32)
    if special:
        elements = st.one_of(elements, st.sampled_from(SPECIAL))
    array = draw(hnp.arrays(np.float64, shape, elements=elements))
    return non_contiguous(array) if draw(st.booleans()) else array


def _torch_pair(torch, a, b):
    return (torch.from_numpy(np.array(a)).requires_grad_(),
            torch.from_numpy(np.array(b)).requires_grad_())


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_matches_torch_values_and_gradients(name, data, device):
    torch = pytest.importorskip("torch")
    sa, sb = data.draw(broadcastable_shapes(max_dims=3, max_side=3), label="shapes")
    a, b = data.draw(arrays(sa), label="a"), data.draw(arrays(sb), label="b")
    x = mg.from_numpy(a).to(device).requires_grad_()
    y = mg.from_numpy(b).to(device).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = getattr(mg, name)(x, y)
        g = data.draw(arrays(tuple(z.shape), special=False), label="grad_output")
        dx, dy = mg.autograd.grad(z, [x, y], grad_outputs=mg.from_numpy(g).to(device))
    tx, ty = _torch_pair(torch, a, b)
    tz = getattr(torch, name)(tx, ty)
    tdx, tdy = torch.autograd.grad(tz, [tx, ty], torch.from_numpy(g))
    assert z.dtype == mg.float64
    # atol: PyTorch's logaddexp2 is m + log1p(2^−|a−b|)/ln 2, numpy's is exact at a = b
    assert_close(z, tz, rtol=1e-12, atol=1e-15)
    assert_close(dx, tdx, rtol=1e-10, atol=1e-15)
    assert_close(dy, tdy, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=8)
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(name, data, device):
    (la, ha), (lb, hb) = DOMAINS[name]
    sa, sb = data.draw(broadcastable_shapes(max_dims=2, max_side=3))
    x = mg.from_numpy(data.draw(float_arrays(sa, np.float64, la, ha))).to(device).requires_grad_()
    b = data.draw(float_arrays(sb, np.float64, lb, hb))
    if name == "copysign":  # the sign of b jumps at 0
        b = np.where(np.abs(b) < 0.1, 1.0, b)
    y = mg.from_numpy(b).to(device).requires_grad_()
    fn = getattr(mg, name)
    assert gradcheck(fn, (x, y), **GRADCHECK)
    assert gradgradcheck(fn, (x, y), **GRADCHECK)


def test_atan2_origin_gradients_are_zero_as_in_torch(device):
    a = mg.tensor([0.0, 1e-200], dtype=mg.float64, device=device, requires_grad=True)
    b = mg.tensor([-0.0, 1e-200], dtype=mg.float64, device=device, requires_grad=True)
    da, db = mg.autograd.grad(mg.atan2(a, b).sum(), [a, b])
    assert da.tolist() == [0.0, 0.0] and db.tolist() == [0.0, 0.0]


def test_dtype_promotion_and_scalars_match_torch(device):
    torch = pytest.importorskip("torch")
    i = [1, 2, -3]
    cases = [("atan2", lambda M, t: M.atan2(t(i), t(i))),
             ("atan2", lambda M, t: M.atan2(t([0.5, 1.0, 2.0]), t([1.0, 2.0, 3.0], M.float64))),
             ("copysign", lambda M, t: M.copysign(t(i), -1)),
             ("copysign", lambda M, t: M.copysign(t([1.0, -2.0, 3.0]), t(i))),
             ("xlogy", lambda M, t: M.xlogy(2, t([1.0, 2.0, 3.0]))),
             ("xlogy", lambda M, t: M.xlogy(t([0.0, 2.0, 3.0]), 2)),
             ("xlogy", lambda M, t: M.xlogy(t(i), t(i))),
             ("hypot", lambda M, t: M.hypot(t([3.0, 5.0, 8.0], M.float32), t([4.0, 12.0, 15.0], M.float64)))]
    for name, case in cases:
        mine = case(mg, lambda v, d=None: mg.tensor(v, dtype=d, device=device))
        theirs = case(torch, lambda v, d=None: torch.tensor(v, dtype=d))
        assert str(mine.dtype) == str(theirs.dtype).replace("torch.", ""), name
        assert_close(mine, theirs, rtol=1e-6)


def test_errors_match_torch(device):
    i = mg.tensor([1, 2], device=device)
    f = mg.tensor([1.0, 2.0], device=device)
    for name in ("hypot", "logaddexp", "logaddexp2"):
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for \'Long\''):
            getattr(mg, name)(i, i)
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'other' must be Tensor"):
            getattr(mg, name)(f, 1.0)
    with pytest.raises(TypeError, match=r"atan2\(\): argument 'other' must be Tensor"):
        mg.atan2(f, 2)
    with pytest.raises(RuntimeError, match="size of tensor a"):
        mg.atan2(f, mg.ones(3, device=device))


def test_methods_and_aliases(device):
    a = mg.tensor([0.5, -1.0], device=device)
    b = mg.tensor([2.0, 3.0], device=device)
    assert a.atan2(b).tolist() == mg.arctan2(a, b).tolist() == a.arctan2(b).tolist()
    for name in ("hypot", "logaddexp", "logaddexp2", "xlogy", "copysign"):
        assert getattr(a, name)(b).tolist() == getattr(mg, name)(a, b).tolist()
    assert a.lerp(b, 0.25).tolist() == mg.lerp(a, b, 0.25).tolist()


# ---------------------------------------------------------------------- lerp
@given(data=st.data())
def test_lerp_matches_torch_with_tensor_and_scalar_weights(data, device):
    torch = pytest.importorskip("torch")
    (sa, sb), (_, sw) = (data.draw(broadcastable_shapes(max_dims=3, max_side=3)) for _ in range(2))
    sw = sw[-len(sa):] if len(sw) > len(sa) else sw
    sw = tuple(1 for _ in sw)  # broadcastable with either of a and b
    a, b = data.draw(arrays(sa), label="a"), data.draw(arrays(sb), label="b")
    scalar = data.draw(st.booleans())
    w = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 2.0, -1.0])) if scalar else \
        data.draw(hnp.arrays(np.float64, sw, elements=st.floats(-2, 2)), label="w")
    x = mg.from_numpy(a).to(device).requires_grad_()
    y = mg.from_numpy(b).to(device).requires_grad_()
    mw = w if scalar else mg.from_numpy(w).to(device).requires_grad_()
    tx, ty = _torch_pair(torch, a, b)
    tw = w if scalar else torch.from_numpy(np.array(w)).requires_grad_()
    z, tz = mg.lerp(x, y, mw), torch.lerp(tx, ty, tw)
    assert_close(z, tz, rtol=1e-12, atol=1e-300)
    if np.isfinite(a).all() and np.isfinite(b).all():
        g = np.ones(tuple(z.shape))
        mine = mg.autograd.grad(z, [x, y] + ([] if scalar else [mw]), grad_outputs=mg.from_numpy(g).to(device))
        theirs = torch.autograd.grad(tz, [tx, ty] + ([] if scalar else [tw]), torch.from_numpy(g))
        for m, t in zip(mine, theirs):
            assert_close(m, t, rtol=1e-10, atol=1e-12)


def test_lerp_gradcheck_and_exact_end(device):
    a = mg.tensor([[0.1, -2.0, 3.0]], dtype=mg.float64, device=device, requires_grad=True)
    b = mg.tensor([[1.0], [2.5]], dtype=mg.float64, device=device, requires_grad=True)
    w = mg.tensor([0.3, 0.8, -1.2], dtype=mg.float64, device=device, requires_grad=True)
    assert gradcheck(mg.lerp, (a, b, w), **GRADCHECK)
    assert gradgradcheck(mg.lerp, (a, b, w), **GRADCHECK)
    x, y = mg.tensor([0.1], device=device), mg.tensor([0.7], device=device)
    assert mg.lerp(x, y, 1.0).tolist() == y.tolist()  # end exactly at weight 1


def test_lerp_errors_match_torch(device):
    f = mg.ones(2, device=device)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        mg.lerp(f, f.double(), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `weight` but got dtype double"):
        mg.lerp(f, f, f.double())
    with pytest.raises(NotImplementedError, match='"lerp_kernel_scalar" not implemented for \'Long\''):
        mg.lerp(f.long(), f.long(), 0.5)
    assert mg.lerp(f, f * 3, mg.tensor(0.5, dtype=mg.float64)).dtype == mg.float32  # 0-d weight


def test_lerp_in_place_matches_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, 4.0]])
    e = np.array([3.0, 3.0, -1.0])
    w = np.array([0.3, 0.7, 1.0])
    x = mg.from_numpy(a.copy()).to(device).requires_grad_()
    end = mg.from_numpy(e).to(device).requires_grad_()
    weight = mg.from_numpy(w).to(device).requires_grad_()
    tx = torch.from_numpy(a.copy()).requires_grad_()
    tend, tweight = torch.from_numpy(e).requires_grad_(), torch.from_numpy(w).requires_grad_()
    y, ty = x * 2, tx * 2
    assert y.lerp_(end, weight) is y
    ty.lerp_(tend, tweight)
    assert_close(y, ty, rtol=1e-12)
    assert y._version == 1
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for mine, theirs in ((x.grad, tx.grad), (end.grad, tend.grad), (weight.grad, tweight.grad)):
        assert_close(mine, theirs, rtol=1e-12)
    ema = mg.zeros(3, device=device)
    with mg.no_grad():  # the EMA update pattern
        ema.lerp_(mg.ones(3, device=device), 0.1)
    assert_close(ema, np.full(3, 0.1, dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[3, 2\]"):
        mg.ones(2, device=device).lerp_(mg.ones(3, 2, device=device), 0.5)
