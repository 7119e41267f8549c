"""F.interpolate (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area; align_corners
both ways; size and scale_factor), pixel_shuffle/unshuffle, max_unpool2d/1d and their
layers: values (float32 bit-exact for nearest) and gradients against PyTorch in float64 on
hypothesis-drawn sizes, gradcheck, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both

MODES = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "linear": (3,), "bilinear": (4,),
         "trilinear": (5,), "bicubic": (4,), "area": (3, 4)}


@st.composite
def interpolation_case(draw):
    mode = draw(st.sampled_from(sorted(MODES)))
    ndim = draw(st.sampled_from(MODES[mode]))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(ndim - 2))
    if draw(st.booleans()):
        size = tuple(draw(st.integers(1, 9)) for _ in spatial)
        kwargs = {"size": size if draw(st.booleans()) or len(set(size)) > 1 else size[0]}
    else:
        factors = tuple(draw(st.sampled_from([0.5, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0]))
                        for _ in spatial)
        factors = tuple(max(f, 1.0 / n + 1e-9) if n * f < 1 else f
                        for f, n in zip(factors, spatial))
        kwargs = {"scale_factor": factors}
        if mode != "area" and draw(st.booleans()):
            kwargs["recompute_scale_factor"] = True
    if mode in ("linear", "bilinear", "trilinear", "bicubic"):
        kwargs["align_corners"] = draw(st.booleans())
    kwargs["mode"] = mode
    return (draw(st.integers(1, 2)), 2) + spatial, kwargs


@settings(max_examples=80, deadline=None)
@given(interpolation_case(), st.integers(0, 2 ** 16))
def test_interpolate_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    shape, kwargs = case
    scales = kwargs.get("scale_factor")
    if (kwargs["mode"] == "nearest" and len(shape) in (3, 5) and scales
            and not kwargs.get("recompute_scale_factor")
            and any(int(n * f) == n and f != 1.0 for n, f in zip(shape[2:], scales))):
        # PyTorch's own forward and backward disagree here (test_kept_sizes_… below)
        kwargs = dict(kwargs, recompute_scale_factor=True)
    if (kwargs["mode"] == "bicubic" and scales and not kwargs.get("recompute_scale_factor")
            and all(int(n * f) == n for n, f in zip(shape[2:], scales))):
        # likewise (test_bicubic_kept_size_with_scale_factor_resamples)
        kwargs = dict(kwargs, recompute_scale_factor=True)
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    run_both(torch, lambda t: F.interpolate(t, **kwargs),
             lambda t: torch.nn.functional.interpolate(t, **kwargs), [x], seed,
             rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("scale", [0.3, 0.7, 1.1, 1.7, 2.0, 2.9])
def test_nearest_float32_is_bit_exact(mode, scale, device):
    """ATen computes nearest source indices with a float32 scale in every dtype."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 1, 13, 7)).astype(np.float32)
    ours = F.interpolate(mg.tensor(x, device=device), scale_factor=scale, mode=mode)
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=scale, mode=mode)
    assert ours.dtype == mg.float32
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


def test_gradcheck_and_gradgradcheck(device):
    x = leaf(np.random.default_rng(1).standard_normal((1, 2, 3, 4)), device=device)
    for kwargs in ({"size": (5, 3), "mode": "bilinear"},
                   {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
                   {"scale_factor": 2, "mode": "nearest"}, {"size": (2, 3), "mode": "area"}):
        fn = lambda t: F.interpolate(t, **kwargs)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_interpolate_errors_match_torch():
    x = mg.randn(1, 2, 3, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match="Input and output must have the same number of spatial"):
        F.interpolate(x, size=(3, 4, 5))
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D"):
        F.interpolate(mg.randn(1, 2, 3), size=3, mode="bilinear")
    with pytest.raises(NotImplementedError, match=r"\(got 3D\) for the modes: .* \(got bicubic\)"):
        F.interpolate(mg.randn(1, 2, 3), size=3, mode="bicubic")


def test_bicubic_kept_size_with_scale_factor_resamples(device):
    """Unlike the linear modes, bicubic does not copy a dim whose size a scale_factor keeps
    (⌊3 · 1.3⌋ = 3 reads the input at s = (j + ½)/1.3 − ½).  PyTorch's backward does copy
    the gradient when every size is kept (its own gradcheck fails there); minigrad's
    gradient is the true one."""
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(7).standard_normal((1, 2, 3, 5)), device=device)
    fn = lambda t: F.interpolate(t, scale_factor=(1.3, 1.0), mode="bicubic")  # noqa: E731
    out = fn(x)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x.detach().cpu().numpy()),
                                               scale_factor=(1.3, 1.0), mode="bicubic")
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.numpy(), rtol=1e-12,
                               atol=1e-12)
    assert not np.allclose(out.detach().cpu().numpy(), x.detach().cpu().numpy())
    assert gradcheck(fn, (x,))
    x32 = mg.randn(1, 1, 4, 4, device=device)
    assert F.interpolate(x32, scale_factor=2, mode="bicubic").dtype == mg.float32


def test_bicubic_gradcheck(device):
    x = leaf(np.random.default_rng(8).standard_normal((1, 1, 3, 4)), device=device)
    fn = lambda t: F.interpolate(t, size=(5, 3), mode="bicubic", align_corners=True)  # noqa
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("shape,r", [((1, 8, 2, 3), 2), ((2, 3, 9, 2, 2), 3), ((4, 1, 1), 2)])
def test_pixel_shuffle_matches_torch(shape, r, device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(2).standard_normal(shape), device=device)
    run_both(torch, lambda t: F.pixel_shuffle(t, r),
             lambda t: torch.nn.functional.pixel_shuffle(t, r), [x])
    y = leaf(F.pixel_shuffle(x, r).detach().cpu().numpy(), device=device)
    run_both(torch, lambda t: F.pixel_unshuffle(t, r),
             lambda t: torch.nn.functional.pixel_unshuffle(t, r), [y])
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(mg.randn(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="width to be divisible by downscale_factor"):
        F.pixel_unshuffle(mg.randn(1, 3, 4, 3), 2)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(2, 7),
       st.integers(2, 7), st.booleans(), st.integers(0, 2 ** 16))
def test_max_unpool2d_matches_torch(device, k, s, p, h, w, unbatched, seed):
    torch = pytest.importorskip("torch")
    p, s = min(p, k // 2), min(s, k)   # s > k would leave input pixels outside the output
    h, w = max(h, k), max(w, k)
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    if unbatched:
        x = x[0]
    values, indices = torch.nn.functional.max_pool2d(torch.from_numpy(x), k, s, p,
                                                     return_indices=True)
    v = leaf(values.numpy(), device=device)
    idx = mg.tensor(indices.numpy(), device=device)
    size = (h, w)     # indices are flat in the input plane, so the output must be as wide
    run_both(torch, lambda t: F.max_unpool2d(t, idx, k, s, p, output_size=size),
             lambda t: torch.nn.functional.max_unpool2d(t, indices, k, s, p, output_size=size),
             [v], seed)


def test_max_unpool_roundtrip_with_our_pooling_and_output_size(device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(3).standard_normal((1, 2, 5, 5)), device=device)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    out = F.max_unpool2d(values, indices, 2, output_size=[1, 2, 5, 5])
    assert out.shape == (1, 2, 5, 5)
    tv, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x.detach().cpu().numpy()), 2,
                                            return_indices=True)
    expected = torch.nn.functional.max_unpool2d(tv, ti, 2, output_size=[5, 5])
    np.testing.assert_array_equal(out.detach().cpu().numpy(), expected.numpy())
    assert gradgradcheck(lambda t: F.max_unpool2d(t, indices, 2, output_size=(5, 5)),
                         (values.detach().requires_grad_(),))


def test_max_unpool1d_matches_torch(device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 9))
    values, indices = torch.nn.functional.max_pool1d(torch.from_numpy(x), 3, 2,
                                                     return_indices=True)
    v = leaf(values.numpy(), device=device)
    idx = mg.tensor(indices.numpy(), device=device)
    run_both(torch, lambda t: F.max_unpool1d(t, idx, 3, 2, output_size=[9]),
             lambda t: torch.nn.functional.max_unpool1d(t, indices, 3, 2, output_size=[9]), [v])


def test_max_unpool_errors_match_torch():
    v, i = F.max_pool2d(mg.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match='invalid output_size "\\[9, 9\\]" \\(dim 0 must be '
                                         'between 2 and 6\\)'):
        F.max_unpool2d(v, i, 2, output_size=[9, 9])
    with pytest.raises(RuntimeError, match="elements in indices should be type int64 but got: Int"):
        F.max_unpool2d(v, i.int(), 2)
    with pytest.raises(RuntimeError, match="Found an invalid max index: 1\\d\\d \\(output volumes "
                                           "are of size 4x4\\)"):
        F.max_unpool2d(v, i + 100, 2)
    with pytest.raises(RuntimeError, match="Expected shape of indices to be same"):
        F.max_unpool2d(v, i[..., :1], 2)
    with pytest.raises(ValueError, match="2 or 4 elements, but it has a length of '3'"):
        F.max_unpool2d(v, i, 2, output_size=[1, 5, 4])


LAYERS = [("Upsample", (), {"scale_factor": 2}), ("Upsample", (), {"size": (5, 3),
                                                                   "mode": "bilinear"}),
          ("Upsample", (), {"scale_factor": (1.5, 2.0), "mode": "bilinear",
                            "align_corners": True}),
          ("UpsamplingNearest2d", (), {"scale_factor": 3}),
          ("UpsamplingBilinear2d", (), {"size": 7}), ("PixelShuffle", (2,), {}),
          ("PixelUnshuffle", (2,), {})]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_layers_match_torch(name, args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(5).standard_normal((2, 4, 4, 6)), device=device)
    run_both(torch, ours, theirs, [x])


def test_max_unpool_layers_match_torch(device):
    torch = pytest.importorskip("torch")
    assert repr(nn.MaxUnpool2d(2)) == repr(torch.nn.MaxUnpool2d(2))
    assert repr(nn.MaxUnpool1d(3, 2, 1)) == repr(torch.nn.MaxUnpool1d(3, 2, 1))
    pool, unpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    values, indices = pool(torch.randn(1, 1, 4, 4, dtype=torch.float64))
    v = leaf(values.numpy(), device=device)
    idx = mg.tensor(indices.numpy(), device=device)
    run_both(torch, lambda t: nn.MaxUnpool2d(2)(t, idx), lambda t: unpool(t, indices), [v])


@pytest.mark.parametrize("shape,scale,mode", [((3,), (1.3,), "nearest"), ((1, 3), (1, 1.3), "nearest"),
                                              ((3, 2), (1.3, 2.0), "nearest"),
                                              ((1, 1, 3), (2, 1, 1.3), "nearest"),
                                              ((1, 3), (2, 1.3), "nearest-exact"),
                                              ((3,), (1.3,), "linear"),
                                              ((3, 2), (1.3, 1.6), "bilinear")])
def test_kept_sizes_under_a_scale_factor_match_torch(shape, scale, mode, device):
    """⌊3 · 1.3⌋ = 3: PyTorch copies such a dim for 4-D nearest and the linear modes, but
    reads ⌊j / 1.3⌋ for 3-D/5-D nearest and nearest-exact.  (For 3-D/5-D nearest PyTorch's
    backward then copies the gradient straight through, which is not the derivative of its
    forward; minigrad's gradient is the forward's true VJP, so values are compared here.)"""
    torch = pytest.importorskip("torch")
    x = np.arange(float(np.prod(shape))).reshape((1, 1) + shape)
    ours = F.interpolate(mg.tensor(x, device=device), scale_factor=scale, mode=mode)
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=scale, mode=mode)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([1, 3, 5]), st.integers(1, 12), st.integers(1, 12), st.booleans(),
       st.one_of(st.tuples(st.integers(1, 15), st.integers(1, 15)).map(lambda s: {"size": s}),
                 st.tuples(st.sampled_from([0.25, 0.5, 0.7, 1.3, 2.0, 3.0]),
                           st.sampled_from([0.5, 1.7, 2.0])).map(lambda f: {"scale_factor": f})),
       st.integers(0, 2 ** 16))
def test_bilinear_uint8_matches_torch_exactly(device, channels, h, w, align_corners, kwargs, seed):
    """uint8 bilinear is ATen's int16 fixed-point two-pass resampler: equal to the last bit
    (rounding the float result instead is off by one on many pixels).  PyTorch 2.13's
    generic uint8 kernel (more than 4 channels) is wrong for an output of width 1 (e.g.
    (5, 2, 2) → (3, 1) is off by up to 114 from the float result), so that case is left out;
    minigrad gives the fixed-point values there too."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(seed).integers(0, 256, (2, channels, h, w)).astype(np.uint8)
    try:
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), mode="bilinear",
                                                   align_corners=align_corners, **kwargs)
    except RuntimeError:
        return      # a scale_factor that gives an empty output
    if channels > 4 and expected.shape[-1] == 1:
        return
    out = F.interpolate(mg.tensor(x, device=device), mode="bilinear",
                        align_corners=align_corners, **kwargs)
    assert out.dtype == mg.uint8
    np.testing.assert_array_equal(out.cpu().numpy(), expected.numpy())


def test_bilinear_uint8_tinygrad_case(device):
    """tinygrad's TestOpsUint8.test_interpolate_bilinear: 64×64 → 10×10, 3 channels."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).integers(0, 256, (2, 3, 64, 64)).astype(np.uint8)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=(10, 10), mode="bilinear")
    out = F.interpolate(mg.tensor(x, device=device), size=(10, 10), mode="bilinear")
    np.testing.assert_array_equal(out.cpu().numpy(), expected.numpy())
    rounded = torch.nn.functional.interpolate(torch.from_numpy(x).double(), size=(10, 10),
                                              mode="bilinear").round().to(torch.uint8)
    assert (rounded != expected).any()      # the fixed-point rule is what is being tested


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["bilinear", "bicubic"]), st.integers(1, 10), st.integers(1, 10),
       st.booleans(),
       st.one_of(st.tuples(st.integers(1, 13), st.integers(1, 13)).map(lambda s: {"size": s}),
                 st.tuples(st.sampled_from([0.3, 0.5, 0.75, 1.0, 1.3, 2.0]),
                           st.sampled_from([0.3, 0.5, 1.0, 2.0])).map(
                     lambda f: {"scale_factor": f, "recompute_scale_factor": True})),
       st.integers(0, 2 ** 16))
def test_antialias_matches_torch(device, mode, h, w, align_corners, kwargs, seed):
    """antialias=True values and gradients.  Left out: an output of width 1 from a resized
    height, where PyTorch 2.13's separable kernel ignores the rows ((2, 10) → (3, 1) gives
    [4.5, 4.5, 4.5] on arange(20)); and kept sizes under an explicit scale_factor, where its
    backward resamples what its forward copied (recompute_scale_factor=True avoids that)."""
    torch = pytest.importorskip("torch")
    kw = dict(kwargs, mode=mode, align_corners=align_corners, antialias=True)
    x = leaf(np.random.default_rng(seed).standard_normal((2, 2, h, w)), device=device)
    try:
        shape = torch.nn.functional.interpolate(torch.zeros(2, 2, h, w), **kw).shape
    except RuntimeError:
        return      # a scale_factor that gives an empty output
    if shape[-1] == 1 and shape[-2] != h:
        return
    run_both(torch, lambda t: F.interpolate(t, **kw),
             lambda t: torch.nn.functional.interpolate(t, **kw), [x], seed,
             rtol=1e-10, atol=1e-12)


def test_antialias_float32_gradcheck_and_errors(device):
    torch = pytest.importorskip("torch")
    x32 = np.random.default_rng(1).standard_normal((1, 3, 9, 7)).astype(np.float32)
    out = F.interpolate(mg.tensor(x32, device=device), size=(4, 3), mode="bicubic",
                        antialias=True)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x32), size=(4, 3),
                                               mode="bicubic", antialias=True)
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    x = leaf(np.random.default_rng(2).standard_normal((1, 1, 5, 4)), device=device)
    fn = lambda t: F.interpolate(t, size=(2, 3), mode="bilinear", antialias=True)  # noqa: E731
    assert gradcheck(fn, (x,))
    for lib, fn in ((torch, torch.nn.functional), (mg, F)):
        with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear"):
            fn.interpolate(lib.zeros(1, 1, 4, 4), size=2, mode="nearest", antialias=True)
        with pytest.raises(ValueError, match="requires a 4-D tensor"):
            fn.interpolate(lib.zeros(1, 1, 4), size=2, mode="bilinear", antialias=True)
