"""Spatial transformers: ``F.affine_grid`` and ``F.grid_sample`` (4-D input), composed from
gathers and pointwise ops so that autograd gives both the input and the grid gradients.

affine_grid(θ, (N, C, H, W))   grid[n, h, w] = θ[n] · (x_w, y_h, 1), with x_w = linspace(−1, 1,
                                W) (times (W − 1)/W unless align_corners; 0 when W = 1).
grid_sample(x, grid)           out[n, c, h, w] = x sampled at grid[n, h, w] = (gx, gy) ∈
                                [−1, 1]², unnormalised to pixel coordinates
                                    align_corners:  i = (g + 1)/2 · (size − 1)
                                    otherwise:      i = ((g + 1) · size − 1)/2
                                then, by ``padding_mode``:
                                    zeros       corners outside the image read 0
                                    border      i ← clip(i, 0, size − 1)
                                    reflection  i reflected at the borders, then clipped
                                and by ``mode``:
                                    bilinear  Σ over the 4 corners (⌊i⌋, ⌊i⌋ + 1) of
                                              x[corner] · (1 − |i − corner|) per axis
                                    nearest   x[rint(i)] (ties to even)
Gradients follow PyTorch's kernels: the weights are differentiated through i (one-sided
at integer coordinates, as ⌊i⌋ is held fixed), clipping passes gradient strictly inside
(0, size − 1) only (the borders count as outside), reflection flips its sign per
reflection, and nearest sampling gives the grid no gradient.
"""
import warnings

import numpy as np

from ...ops import pointwise
from ...ops.indexing import Index, IndexKey
from ...ops.linalg import matmul
from ...ops.operands import check_tensor
from ...ops.pointwise_piecewise import Hardtanh
from ...tensor import Tensor
from ...amp.autocast_mode import autocast_op

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


def _base_coordinates(steps, align_corners, dtype):
    if steps <= 1:
        return np.zeros(max(steps, 0), dtype=dtype)
    values = np.linspace(-1, 1, steps, dtype=dtype)
    return values if align_corners else values * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of
    ``size`` (N, C, H, W)."""
    check_tensor(theta, "affine_grid", "theta")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if theta.dtype.kind not in "fV":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 5:
        raise NotImplementedError("affine_grid: 3-D (5-D size) affine grids are not supported "
                                  "by minigrad; 4-D sizes are")
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{list(size)}. Got {list(theta.shape)}.")
    if align_corners and min(size[-2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", UserWarning,
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    n, _, h, w = size
    xs = _base_coordinates(w, align_corners, theta.dtype)
    ys = _base_coordinates(h, align_corners, theta.dtype)
    base = np.stack([np.broadcast_to(xs[None, :], (h, w)), np.broadcast_to(ys[:, None], (h, w)),
                     np.ones((h, w), dtype=theta.dtype)], axis=-1).reshape(1, h * w, 3)
    grid = matmul(Tensor._wrap(theta.xp.asarray(base)), theta.transpose(1, 2))
    return grid.reshape(n, h, w, 2)


def _unnormalise(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, low2, high2):
    """PyTorch's reflect_coordinates over [low2/2, high2/2] (gradient ±1 per flip; +1 at
    the lower border itself)."""
    if low2 == high2:
        return coord * 0.0
    low, span = low2 / 2, (high2 - low2) / 2
    shifted = coord - low
    distance = pointwise.where(shifted < 0, -shifted, shifted)
    flips = np.floor(distance.detach().cpu().numpy() / span)
    extra = distance - Tensor._wrap(coord.xp.asarray(flips * span, dtype=coord.dtype))
    even = Tensor._wrap(coord.xp.asarray(flips % 2 == 0))
    return pointwise.where(even, extra + low, span - extra + low)


def _source_coordinate(coord, size, padding_mode, align_corners):
    coord = _unnormalise(coord, size, align_corners)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners \
            else _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = Hardtanh.apply(coord, 0.0, float(size - 1))
    return coord


def _corner(input, rows, cols):
    """input[n, :, rows, cols] with out-of-image positions reading 0 → (N, C, Ho, Wo)."""
    n, c, h, w = input.shape
    xp = input.xp
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    batch = np.arange(n).reshape(n, 1, 1)
    key = IndexKey((), (xp.asarray(np.broadcast_to(batch, rows.shape)), slice(None),
                        xp.asarray(np.clip(rows, 0, h - 1)), xp.asarray(np.clip(cols, 0, w - 1))))
    values = Index.apply(input, key).permute(0, 3, 1, 2)          # (N, C, Ho, Wo)
    return pointwise.where(Tensor._wrap(xp.asarray(inside[:, None])), values, 0.0)


@autocast_op("grid_sample")
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the normalised positions ``grid`` (N, Ho, Wo, 2)
    → (N, C, Ho, Wo); see the module docstring for the modes."""
    check_tensor(input, "grid_sample")
    check_tensor(grid, "grid_sample", "grid")
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported by minigrad "
                                  "(bilinear and nearest are)")
    if input.ndim == 5:
        raise NotImplementedError("grid_sample: 5-D (volumetric) input is not supported by "
                                  "minigrad; 4-D input is")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of "
                           f"dimensions, and grid to have size 2 in last dimension, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    _, _, h, w = input.shape
    ix = _source_coordinate(grid[..., 0], w, padding_mode, align_corners)
    iy = _source_coordinate(grid[..., 1], h, padding_mode, align_corners)
    hx, hy = ix.detach().cpu().numpy(), iy.detach().cpu().numpy()
    if mode == "nearest":
        cols = np.rint(hx).astype(np.int64)
        rows = np.rint(hy).astype(np.int64)
        sampled = _corner(input, rows, cols)
        # the grid gets a zero gradient (PyTorch's), not none: a where that never picks it
        keep = Tensor._wrap(input.xp.ones((1, 1) + tuple(sampled.shape[2:]), dtype=bool))
        return pointwise.where(keep, sampled, (ix + iy).unsqueeze(1))
    x0, y0 = np.floor(hx), np.floor(hy)
    fx = ix - Tensor._wrap(ix.xp.asarray(x0, dtype=ix.dtype))     # weight of the east column
    fy = iy - Tensor._wrap(iy.xp.asarray(y0, dtype=iy.dtype))     # weight of the south row
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    west, east = (1 - fx).unsqueeze(1), fx.unsqueeze(1)
    north, south = (1 - fy).unsqueeze(1), fy.unsqueeze(1)
    return (_corner(input, y0, x0) * (west * north) + _corner(input, y0, x0 + 1) * (east * north)
            + _corner(input, y0 + 1, x0) * (west * south)
            + _corner(input, y0 + 1, x0 + 1) * (east * south))
