"""The conv Functions (ops/convolution.py): forward against a numpy loop reference,
the two gradient formulas (docs/seeds.md#errata-001) written out as loops, numerical first and
second derivatives over hypothesis-drawn geometry, and the closure of the three-Function
family under differentiation."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad_kernels as kernels
import minigrad as mg
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from minigrad.ops.convolution import Conv2d, Conv2dInputGrad, Conv2dWeightGrad, ConvGeometry


def conv2d_geometry(stride, padding, dilation, groups):
    """Ints or pairs as a ConvGeometry of int pairs (the tests' shorthand)."""
    def pair(v):
        return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))
    return ConvGeometry(pair(stride), pair(padding), pair(dilation), int(groups))


def convolution2d(input, weight, stride=1, padding=0, dilation=1, groups=1):
    """``Conv2d`` on a batched input without F.conv2d's argument checks or bias."""
    return Conv2d.apply(input, weight, conv2d_geometry(stride, padding, dilation, groups))


def conv_loops(x, w, stride, padding, dilation, groups):
    """y[n,o,a,b] = Σ_{c∈group(o),i,j} w[o,c,i,j] xpad[n,c,a·s+i·d,b·s+j·d], by loops."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for b_ in range(n):
        for oc in range(o):
            g = oc // og
            for a in range(oh):
                for b in range(ow):
                    patch = xp[b_, g * cg:(g + 1) * cg, a * sh:a * sh + dh * (kh - 1) + 1:dh,
                               b * sw:b * sw + dw * (kw - 1) + 1:dw]
                    y[b_, oc, a, b] = (patch * w[oc]).sum()
    return y


@st.composite
def geometry(draw, max_batch=2):
    groups = draw(st.sampled_from([1, 2]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = max(1, span[0] - 2 * padding[0] + draw(st.integers(0, 2)))
    w = max(1, span[1] - 2 * padding[1] + draw(st.integers(0, 2)))
    n = draw(st.integers(1, max_batch))
    return (n, c, h, w), (o, c // groups, kh, kw), ConvGeometry(stride, padding, dilation, groups)


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@given(geometry(), st.integers(0, 2 ** 16))
def test_forward_is_cross_correlation(device, case, seed):
    x_shape, w_shape, geo = case
    x, w = _random(x_shape, seed), _random(w_shape, seed + 1)
    y = Conv2d.apply(mg.tensor(x, device=device), mg.tensor(w, device=device), geo)
    np.testing.assert_allclose(y.cpu().numpy(), conv_loops(x, w, *geo), rtol=1e-10, atol=1e-12)


def test_weight_gradient_is_cross_correlation_of_input_with_delta(device):
    """∂J/∂W[o,c,i,j] = Σ_{n,a,b} δ[n,o,a,b] xpad[n,c,a·s+i·d,b·s+j·d] — not the printed
    ``A0 δ1``; it equals δ · im2col(A0)ᵀ summed over the batch."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    geo = conv2d_geometry((2, 1), (1, 0), (1, 2), 1)
    xt, wt = mg.tensor(x, device=device), mg.tensor(w, requires_grad=True, device=device)
    y = convolution2d(xt, wt, *geo)
    delta = rng.standard_normal(y.shape)
    y.backward(mg.tensor(delta, device=device))
    xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    expected = np.zeros_like(w)
    for i in range(3):
        for j in range(2):
            window = xpad[:, :, i:i + 2 * (y.shape[2] - 1) + 1:2, 2 * j:2 * j + y.shape[3]]
            expected[:, :, i, j] = np.einsum("noab,ncab->oc", delta, window)
    np.testing.assert_allclose(wt.grad.cpu().numpy(), expected, rtol=1e-10)
    cols = kernels.im2col(x, (3, 2), (2, 1), (1, 0), (1, 2))                 # (N, C·kh·kw, L)
    as_product = np.einsum("nol,nkl->ok", delta.reshape(2, 4, -1), cols).reshape(w.shape)
    np.testing.assert_allclose(wt.grad.cpu().numpy(), as_product, rtol=1e-10)


def test_input_gradient_is_full_convolution_with_flipped_kernel(device):
    """∂J/∂x[n,c] = Σ_o full_cross_correlation(δ[n,o], rot180(w[o,c])) at stride 1."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 2))
    xt = mg.tensor(x, requires_grad=True, device=device)
    y = convolution2d(xt, mg.tensor(w, device=device))
    delta = rng.standard_normal(y.shape)
    y.backward(mg.tensor(delta, device=device))
    kh, kw = w.shape[2:]
    padded = np.pad(delta, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = w[:, :, ::-1, ::-1]
    expected = np.zeros_like(x)
    for r in range(x.shape[2]):
        for c in range(x.shape[3]):
            window = padded[:, :, r:r + kh, c:c + kw]                         # (N, O, kh, kw)
            expected[:, :, r, c] = np.einsum("noij,ocij->nc", window, flipped)
    np.testing.assert_allclose(xt.grad.cpu().numpy(), expected, rtol=1e-10)


@settings(max_examples=12)
@given(geometry(max_batch=1), st.integers(0, 2 ** 16))
def test_gradcheck_over_geometry(device, case, seed):
    x_shape, w_shape, geo = case
    x = mg.tensor(_random(x_shape, seed), requires_grad=True, device=device)
    w = mg.tensor(_random(w_shape, seed + 1), requires_grad=True, device=device)
    assert gradcheck(lambda a, b: Conv2d.apply(a, b, geo), (x, w))


@pytest.mark.parametrize("geo", [conv2d_geometry(1, 0, 1, 1), conv2d_geometry((2, 1), 1, (1, 2), 2)])
def test_gradgradcheck(geo, device):
    rng = np.random.default_rng(2)
    groups = geo.groups
    x = mg.tensor(rng.standard_normal((1, 2, 4, 3)), requires_grad=True, device=device)
    w = mg.tensor(rng.standard_normal((2, 2 // groups, 2, 2)), requires_grad=True, device=device)
    assert gradgradcheck(lambda a, b: Conv2d.apply(a, b, geo), (x, w))


def test_backward_functions_are_themselves_checked(device):
    """Conv2dInputGrad and Conv2dWeightGrad, differentiated in both arguments."""
    rng = np.random.default_rng(3)
    geo = conv2d_geometry((2, 1), (1, 0), 1, 1)
    x_shape, w_shape = (1, 2, 5, 3), (2, 2, 2, 2)
    dy = mg.tensor(rng.standard_normal((1, 2, 3, 2)), requires_grad=True, device=device)
    w = mg.tensor(rng.standard_normal(w_shape), requires_grad=True, device=device)
    x = mg.tensor(rng.standard_normal(x_shape), requires_grad=True, device=device)
    assert gradcheck(lambda g, k: Conv2dInputGrad.apply(g, k, x_shape, geo), (dy, w))
    assert gradcheck(lambda a, g: Conv2dWeightGrad.apply(a, g, w_shape, geo), (x, dy))
    assert gradgradcheck(lambda g, k: Conv2dInputGrad.apply(g, k, x_shape, geo), (dy, w))


def test_family_is_closed_under_differentiation(device):
    """The graph built by create_graph=True contains only the three conv Functions."""
    rng = np.random.default_rng(4)
    geo = conv2d_geometry(1, 1, 1, 1)
    x = mg.tensor(rng.standard_normal((1, 1, 3, 3)), requires_grad=True, device=device)
    w = mg.tensor(rng.standard_normal((1, 1, 2, 2)), requires_grad=True, device=device)
    y = Conv2d.apply(x, w, geo)
    v = mg.tensor(rng.standard_normal(y.shape), requires_grad=True, device=device)
    dx, dw = mg.autograd.grad(y, (x, w), grad_outputs=v, create_graph=True)
    assert isinstance(dx.grad_fn, Conv2dInputGrad) and isinstance(dw.grad_fn, Conv2dWeightGrad)
    ddx, ddv = mg.autograd.grad((dw * dw).sum(), (x, v), create_graph=True)
    assert isinstance(ddx.grad_fn, Conv2dInputGrad) and isinstance(ddv.grad_fn, Conv2d)


def test_adjoint_identity(device):
    """⟨dy, conv(x, w)⟩ = ⟨InputGrad(dy, w), x⟩ = ⟨WeightGrad(x, dy), w⟩ (the trilinear form)."""
    rng = np.random.default_rng(5)
    geo = conv2d_geometry((1, 2), (2, 1), (2, 1), 2)
    x, w = rng.standard_normal((2, 4, 6, 7)), rng.standard_normal((6, 2, 2, 3))
    y = Conv2d.apply(mg.tensor(x, device=device), mg.tensor(w, device=device), geo).cpu().numpy()
    dy = rng.standard_normal(y.shape)
    dx = Conv2dInputGrad.apply(mg.tensor(dy, device=device), mg.tensor(w, device=device),
                               x.shape, geo).cpu().numpy()
    dw = Conv2dWeightGrad.apply(mg.tensor(x, device=device), mg.tensor(dy, device=device),
                                w.shape, geo).cpu().numpy()
    t = (dy * y).sum()
    np.testing.assert_allclose([(dx * x).sum(), (dw * w).sum()], [t, t], rtol=1e-10)


def test_float32_stays_float32_and_no_graph_without_grad(device):
    x, w = mg.randn(1, 2, 4, 4, device=device), mg.randn(3, 2, 3, 3, device=device)
    y = convolution2d(x, w)
    assert y.dtype == mg.float32 and y.grad_fn is None and tuple(y.shape) == (1, 3, 2, 2)


def test_empty_batch(device):
    x = mg.zeros((0, 2, 4, 4), dtype=mg.float64, requires_grad=True, device=device)
    w = mg.randn(3, 2, 3, 3, dtype=mg.float64, requires_grad=True, device=device)
    y = convolution2d(x, w)
    assert tuple(y.shape) == (0, 3, 2, 2)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 2, 4, 4) and not w.grad.cpu().numpy().any()
