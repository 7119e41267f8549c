"""SHIM of torchvision.utils (see the package docstring): ``make_grid`` and ``save_image``."""
import numpy as np

__all__ = ["make_grid", "save_image"]


def _log_api_usage_once(obj):   # torchvision's telemetry hook, called by models/resnet.py
    pass


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """A ``(B, C, H, W)`` batch as one ``(H', W', C)`` numpy image."""
    arr = np.asarray(tensor.detach().cpu().numpy(), dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[None]
    if normalize:
        lo, hi = value_range if value_range is not None else (arr.min(), arr.max())
        arr = (np.clip(arr, lo, hi) - lo) / max(hi - lo, 1e-5)
    b, c, h, w = arr.shape
    ncol = min(nrow, b)
    nrows = (b + ncol - 1) // ncol
    grid = np.full((nrows * (h + padding) + padding, ncol * (w + padding) + padding, c),
                   pad_value, dtype=np.float32)
    for i in range(b):
        r, k = divmod(i, ncol)
        y, x = padding + r * (h + padding), padding + k * (w + padding)
        grid[y:y + h, x:x + w] = arr[i].transpose(1, 2, 0)
    return grid


def save_image(tensor, fp, nrow=8, padding=2, normalize=False, value_range=None, **kwargs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grid = np.clip(make_grid(tensor, nrow, padding, normalize, value_range), 0, 1)
    plt.imsave(fp, grid[:, :, 0] if grid.shape[2] == 1 else grid,
               cmap="gray" if grid.shape[2] == 1 else None, format="png")
