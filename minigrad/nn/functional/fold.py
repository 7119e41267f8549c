"""``F.unfold`` (im2col) and ``F.fold`` (col2im), adjoint to each other.

unfold reads every kh×kw block of the zero-padded input into one column:

    out[n, (c·kh + i)·kw + j, a·OW + b] = xpad[n, c, a·s₀ + i·d₀, b·s₁ + j·d₁]

with OH = ⌊(H + 2p₀ − d₀(kh − 1) − 1)/s₀⌋ + 1 (OW likewise).  That is one gather with a
(kh, kw, OH, OW) pair of index arrays, so its VJP is a scatter-add of the columns back
onto the image (``IndexAccumulate``), which is exactly ``fold``: fold sums every column
entry into the pixel it was read from (overlapping blocks add up) and crops the padding.
fold's own VJP is therefore unfold again; both differentiate any number of times.
Shapes: unfold (N, C, H, W) → (N, C·kh·kw, OH·OW); fold (N, C·kh·kw, L) → (N, C, H, W),
L = OH·OW for ``output_size`` (H, W); unbatched inputs drop the N.
"""
import numbers

from ...ops.indexing import Index, IndexAccumulate, IndexKey
from ...ops.operands import check_tensor
from .padding import pad

__all__ = ["unfold", "fold"]


def _pair(value):
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    return tuple(int(v) for v in value)


def _geometry(kernel_size, dilation, padding, stride):
    k, d, p, s = (_pair(v) for v in (kernel_size, dilation, padding, stride))
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{k[0]} kernel_width: {k[1]}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{d[0]} dilation_width: {d[1]}")
    if min(p) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    return k, d, p, s


def _blocks(size, k, d, p, s):
    """(OH, OW): the number of sliding blocks along each spatial dim."""
    return tuple((size[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(2))


def _block_key(xp, blocks, k, d, s):
    """The advanced index reading xpad[:, :, a·s₀ + i·d₀, b·s₁ + j·d₁] as (kh, kw, OH, OW)."""
    rows = xp.arange(blocks[0])[None, :] * s[0] + xp.arange(k[0])[:, None] * d[0]
    cols = xp.arange(blocks[1])[None, :] * s[1] + xp.arange(k[1])[:, None] * d[1]
    return IndexKey((), (slice(None), slice(None), rows[:, None, :, None],
                         cols[None, :, None, :]))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: (N, C, H, W) → (N, C·kh·kw, L) (im2col)."""
    check_tensor(input, "unfold")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    k, d, p, s = _geometry(kernel_size, dilation, padding, stride)
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    n, c, h, w = batched.shape
    blocks = _blocks((h, w), k, d, p, s)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding "
                           f"blocks as {blocks}, but its components must be at least one.")
    if any(p):
        batched = pad(batched, (p[1], p[1], p[0], p[0]))
    columns = Index.apply(batched, _block_key(batched.xp, blocks, k, d, s))
    out = columns.reshape(n, c * k[0] * k[1], blocks[0] * blocks[1])
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image: (N, C·kh·kw, L) → (N, C, H, W) (col2im, the
    adjoint of unfold)."""
    check_tensor(input, "fold")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    k, d, p, s = _geometry(kernel_size, dilation, padding, stride)
    size = _pair(output_size)
    batched = input if input.ndim == 3 else input.unsqueeze(0)
    n, rows, length = batched.shape
    if rows % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={rows} and kernel_size={k}.")
    blocks = _blocks(size, k, d, p, s)
    if min(blocks) < 1 or blocks[0] * blocks[1] != length:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)="
                           f"{length}.")
    c = rows // (k[0] * k[1])
    columns = batched.reshape(n, c, k[0], k[1], blocks[0], blocks[1])
    padded = (n, c, size[0] + 2 * p[0], size[1] + 2 * p[1])
    image = IndexAccumulate.apply(columns, _block_key(batched.xp, blocks, k, d, s), padded)
    if any(p):
        image = pad(image, (-p[1], -p[1], -p[0], -p[0]))
    return image if input.ndim == 3 else image.squeeze(0)
