"""F.affine_grid and F.grid_sample (bilinear/nearest × zeros/border/reflection ×
align_corners) against PyTorch: values and gradients for the input and the grid in float64,
hypothesis-drawn grids reaching outside the image, exact border and integer coordinates
(PyTorch's one-sided gradients), a spatial-transformer round trip, gradcheck, errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import leaf, run_both

MODES = ["bilinear", "nearest"]
PADDINGS = ["zeros", "border", "reflection"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODES), st.sampled_from(PADDINGS), st.booleans(),
       st.tuples(st.integers(1, 5), st.integers(1, 5)),
       st.tuples(st.integers(1, 4), st.integers(1, 4)), st.integers(0, 2 ** 16))
def test_grid_sample_matches_torch(device, mode, padding_mode, align_corners, size, out, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((2, 3) + size), device=device)
    grid = leaf(rng.uniform(-1.6, 1.6, (2,) + out + (2,)), device=device)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    run_both(torch, lambda a, g: F.grid_sample(a, g, **kw),
             lambda a, g: torch.nn.functional.grid_sample(a, g, **kw), [x, grid], seed,
             rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_exact_borders_and_integer_coordinates_match_torch(padding_mode, align_corners, device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(1).standard_normal((1, 2, 3, 4)), device=device)
    points = [-1.5, -1.0, -0.75, -1 / 3, 0.0, 0.25, 1 / 3, 0.75, 1.0, 1.25]
    grid = leaf(np.array(np.meshgrid(points, points[::-1])).transpose(1, 2, 0)[None], device=device)
    kw = dict(padding_mode=padding_mode, align_corners=align_corners)
    run_both(torch, lambda a, g: F.grid_sample(a, g, **kw),
             lambda a, g: torch.nn.functional.grid_sample(a, g, **kw), [x, grid])


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 1)])
def test_affine_grid_matches_torch(align_corners, size, device):
    torch = pytest.importorskip("torch")
    theta = leaf(np.random.default_rng(2).standard_normal((size[0], 2, 3)), device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(torch, lambda t: F.affine_grid(t, size, align_corners),
                 lambda t: torch.nn.functional.affine_grid(t, size, align_corners), [theta])


def test_spatial_transformer_identity_and_gradcheck(device):
    rng = np.random.default_rng(3)
    x = leaf(rng.standard_normal((2, 3, 4, 5)), device=device)
    identity = mg.tensor(np.tile([[1.0, 0, 0], [0, 1.0, 0]], (2, 1, 1)), dtype=mg.float64,
                         device=device)
    grid = F.affine_grid(identity, (2, 3, 4, 5), align_corners=False)
    np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=False).detach().cpu().numpy(),
                               x.detach().cpu().numpy(), atol=1e-12)
    theta = leaf(rng.uniform(-0.6, 0.6, (1, 2, 3)), device=device)
    small = leaf(rng.standard_normal((1, 2, 3, 3)), device=device)
    assert gradcheck(lambda a, t: F.grid_sample(a, F.affine_grid(t, (1, 2, 3, 3), False),
                                                align_corners=False, padding_mode="border"),
                     (small, theta))


def test_errors_and_warnings_match_torch():
    x, g = mg.randn(1, 2, 3, 3), mg.randn(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.grid_sample(x, g)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
        F.grid_sample(x, g, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or "
                                         "'reflection'"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(x, mg.randn(2, 2, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(mg.randn(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(mg.ones(1, 2, 3, dtype=mg.int64), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)
