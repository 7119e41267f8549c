"""``F.pad``: constant (differentiable, negative padding crops), reflect, replicate and
circular padding of the last dims.

``pad = (left_last, right_last, left_prev, right_prev, …)`` lists pairs starting from the
last dimension, as in PyTorch.  Along one dim of size s padded by (l, r) the output has
s + l + r entries; output position j (counted from −l) reads

    constant   x[j] for 0 ≤ j < s, else value
    reflect    x[|j|] mirrored at both ends without repeating the edge (l, r < s)
    replicate  x[clamp(j, 0, s − 1)]
    circular   c[j mod m], c = x cropped by the negative pads (m its length): PyTorch
               crops first and wraps what is left, so the wrapped values come from c

Constant padding is the Function ``ConstantPad`` (``minigrad/ops/padding.py``); its VJP is
constant padding of dy by (−l, −r) with zeros (crop what was added, zero-fill what was
cropped), so the Function is its own adjoint family.  The other modes are a gather with an
index array per dim (``Index``), whose VJP scatter-adds: pixels read twice (reflection,
replication) receive the sum of their gradients.
"""
import numbers

from ...ops.indexing import Index, IndexKey
from ...ops.operands import check_tensor
from ...ops.padding import ConstantPad

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _padded_index(xp, size, left, right, mode):
    """Source positions of the s + l + r outputs along one dim, for a non-constant mode."""
    if mode == "circular":
        start = max(-left, 0)
        kept = size + min(left, 0) + min(right, 0)
        if size + left + right == 0:
            return xp.arange(0)
        return start + xp.arange(-max(left, 0), kept + max(right, 0)) % kept
    j = xp.arange(-left, size + right)
    if mode == "reflect":
        j = xp.abs(j)
        j = xp.where(j >= size, 2 * (size - 1) - j, j)
    elif mode == "replicate":
        j = xp.clip(j, 0, size - 1)
    else:
        j = j % size
    return j


def _check_pad(input, pad, mode, value):
    check_tensor(input, "pad")
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, numbers.Integral) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, but got {pad!r}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    if mode != "constant":
        if value is not None:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        ok = {2: (2, 3), 4: (3, 4), 6: (4, 5)}.get(len(pad), ())
        if input.ndim not in ok:
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims of ``input``; see the module docstring."""
    _check_pad(input, pad, mode, value)
    dims = tuple(input.ndim - 1 - i for i in range(len(pad) // 2))
    pairs = tuple((int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2))
    for d, (left, right) in zip(dims, pairs):
        size = input.shape[d]
        if size + left + right < 0:
            raise RuntimeError(f"The input size {size}, plus negative padding {left} and {right} "
                               f"resulted in a negative output size, which is invalid. Check "
                               f"dimension {d} of your input.")
        if mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({left}, {right}) at dimension "
                               f"{d} of input {list(input.shape)}")
        if mode in ("reflect", "replicate") and len(pairs) == 1 and size + left + right == 0:
            raise RuntimeError(f"input (W: {size}) is too small. Calculated output W: 0")
        if mode in ("replicate", "circular") and size == 0 and (left > 0 or right > 0):
            raise RuntimeError(f"{mode} padding of an empty dimension {d} of input "
                               f"{list(input.shape)}")
        if mode == "circular" and (left > size or right > size):
            raise RuntimeError(f"Padding value causes wrapping around more than once: padding "
                               f"({left}, {right}) at dimension {d} of input {list(input.shape)}")
        kept = size + min(left, 0) + min(right, 0)
        if mode == "circular" and size + left + right and (kept <= 0 or left > kept
                                                            or right > kept):
            # PyTorch returns uninitialised memory (kept ≤ 0) or fails on an overlapping copy
            raise RuntimeError(f"Padding value causes wrapping around more than once: circular "
                               f"padding ({left}, {right}) at dimension {d} of input "
                               f"{list(input.shape)} wraps the {max(kept, 0)} entries left after "
                               f"cropping by the negative padding")
    if mode == "constant":
        return ConstantPad.apply(input, dims, pairs, 0 if value is None else value)
    out = input
    for d, (left, right) in zip(dims, pairs):
        index = _padded_index(input.xp, input.shape[d], left, right, mode)
        out = Index.apply(out, IndexKey((), (slice(None),) * d + (index,)))
    return out
