"""Constant padding as a Function: ``ConstantPad`` adds (or, for negative amounts, crops)
entries along some dims; ``nn.functional.pad`` checks PyTorch's arguments and builds the
other modes (reflect, replicate, circular) as gathers.

Along one dim of size s padded by (l, r), output position j (counted from −l) reads x[j]
for 0 ≤ j < s and the fill value elsewhere, so the VJP reads dy back at the same positions:
padding dy by (−l, −r) with zeros crops what was added and zero-fills what was cropped.
"""
from ..autograd.function import Function

# The public form is ``nn.functional.pad`` (PyTorch's checks and messages, the other
# modes); nothing here joins the ``minigrad.*`` namespace.
__all__ = []


class ConstantPad(Function):
    """y = x with ``pairs[i] = (l, r)`` entries of ``value`` added before/after dim
    ``dims[i]`` (negative l or r crop).   (…, s, …) → (…, s + l + r, …).
    VJP: dx = ConstantPad(dy, (−l, −r), 0)."""

    def forward(self, x, dims, pairs, value):
        self.dims, self.pairs = dims, pairs
        xp = x.xp
        shape, source, target = list(x.shape), [slice(None)] * x.ndim, [slice(None)] * x.ndim
        for d, (left, right) in zip(dims, pairs):
            size = x.shape[d]
            start, stop = max(-left, 0), size - max(-right, 0)
            length = max(stop - start, 0)
            shape[d] = size + left + right
            source[d] = slice(start, start + length)
            target[d] = slice(max(left, 0), max(left, 0) + length)
        out = xp.full(tuple(shape), value, dtype=x.dtype)
        out[tuple(target)] = x.array[tuple(source)]
        return out

    def backward(self, dy):
        negated = tuple((-left, -right) for left, right in self.pairs)
        return ConstantPad.apply(dy, self.dims, negated, 0)
