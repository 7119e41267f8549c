"""The numba convolution kernels at training sizes, where the parity harness's tiny cases
never go: long float32 sums (the weight gradient sums over N·OH·OW = 7,744 windows at
the seed CNN's conv 2) and the parallel loops over many images.

The harness compares against the float32 reference elementwise (rtol 1e-4, atol 1e-5).
At these sizes a reordered float32 sum can differ from the reference's by more than that
on the entries that cancel to near zero, while both are equally close to the float64
result; so this test holds the numba kernel to the reference's own distance from float64
(× 2, plus a few ulps of the output's scale) instead of to the reference itself."""
import numpy as np
import pytest

from minigrad_kernels.catalogue import CATALOGUE

pytest.importorskip("numba")
from minigrad_kernels.numba_cpu import conv  # noqa: E402

# (x shape, w shape, stride, padding, dilation, groups): seed CNN conv 1 and conv 2 at
# batch 16, a padded ResNet layer, and a strided, dilated, grouped one.
LAYERS = [((16, 1, 28, 28), (32, 1, 3, 3), (1, 1), (0, 0), (1, 1), 1),
          ((16, 32, 13, 13), (64, 32, 3, 3), (1, 1), (0, 0), (1, 1), 1),
          ((8, 64, 16, 16), (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1),
          ((4, 8, 17, 15), (12, 4, 3, 2), (2, 1), (2, 1), (2, 1), 2)]


def _arguments(name, x_shape, w_shape, geometry, dtype, rng):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(dtype)
    y = CATALOGUE.reference_impl("conv2d_forward")(x, w, *geometry)
    dy = rng.standard_normal(y.shape).astype(dtype)
    return {"conv2d_forward": (x, w) + geometry,
            "conv2d_backward_input": (dy, w, x_shape) + geometry,
            "conv2d_backward_weight": (dy, x, w_shape) + geometry}[name]


@pytest.mark.parametrize("name", ["conv2d_forward", "conv2d_backward_input",
                                  "conv2d_backward_weight"])
@pytest.mark.parametrize("layer", range(len(LAYERS)))
def test_float32_is_as_close_to_float64_as_the_reference(name, layer):
    x_shape, w_shape, *geometry = LAYERS[layer]
    args = _arguments(name, x_shape, w_shape, tuple(geometry), np.float32,
                      np.random.default_rng(layer))
    exact = CATALOGUE.reference_impl(name)(*(a.astype(np.float64) if isinstance(a, np.ndarray)
                                             else a for a in args))
    reference = CATALOGUE.reference_impl(name)(*args)
    ours = getattr(conv, name)(*args)
    assert ours.dtype == np.float32 and ours.shape == exact.shape
    scale = float(np.abs(exact).max())
    reference_error = float(np.abs(reference - exact).max())
    assert float(np.abs(ours - exact).max()) <= 2 * reference_error + 4e-7 * scale


@pytest.mark.parametrize("layer", range(len(LAYERS)))
def test_float64_matches_the_reference(layer):
    x_shape, w_shape, *geometry = LAYERS[layer]
    rng = np.random.default_rng(layer)
    for name in ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight"):
        args = _arguments(name, x_shape, w_shape, tuple(geometry), np.float64, rng)
        np.testing.assert_allclose(getattr(conv, name)(*args),
                                   CATALOGUE.reference_impl(name)(*args), rtol=1e-10, atol=1e-12)


def test_an_empty_batch_gives_empty_outputs():
    x, w = np.zeros((0, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32)
    geometry = ((1, 1), (1, 1), (1, 1), 1)
    y = conv.conv2d_forward(x, w, *geometry)
    assert y.shape == (0, 3, 5, 5)
    assert conv.conv2d_backward_input(y, w, x.shape, *geometry).shape == x.shape
    np.testing.assert_array_equal(conv.conv2d_backward_weight(y, x, w.shape, *geometry),
                                  np.zeros(w.shape, np.float32))
