"""Broadcasting and its adjoint, ``sum_to``: the one place broadcast gradients are reduced.

If a forward op broadcast x of shape s to shape S, every element of x was copied to all
positions that differ only along broadcast axes, so its gradient is the sum of the output
gradient over those positions:  dx = sum_to(dy, s).  ``sum_to`` and ``broadcast_to`` are
each other's VJP, and both are Functions, so the reduction is itself differentiable
(second derivatives of broadcasting ops just work).
"""
from ..autograd.function import Function
from .operands import broadcast_shapes, sizes_argument
from .shape import _mark_view


def _reduced_axes(shape, target):
    """Axes of ``shape`` to sum so the result has ``target``'s shape (keepdims on matched)."""
    lead = len(shape) - len(target)
    if lead < 0:
        raise RuntimeError(f"sum_to: cannot reduce shape {tuple(shape)} to larger rank shape {tuple(target)}")
    axes = tuple(range(lead))
    kept = tuple(lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1)
    for i, n in enumerate(target):
        if n != 1 and shape[lead + i] != n:
            raise RuntimeError(f"sum_to: shape {tuple(shape)} is not broadcast from {tuple(target)}")
    return axes, kept


class SumTo(Function):
    """y = Σ over broadcast axes of x, so that y.shape == shape.   (S) → (s)
    VJP: dx = broadcast_to(dy, S)."""

    def forward(self, x, shape):
        self.input_shape = x.array.shape
        lead, kept = _reduced_axes(x.shape, shape)
        y = x.array
        if kept:
            y = y.sum(axis=kept, keepdims=True)
        if lead:
            y = y.sum(axis=lead)
        return y.reshape(shape)

    def backward(self, dy):
        return broadcast_to(dy, self.input_shape)


class BroadcastTo(Function):
    """y = x repeated along broadcast axes.   (s) → (S)
    VJP: dx = sum_to(dy, s)."""

    def forward(self, x, shape):
        self.input_shape = x.array.shape
        return x.xp.broadcast_to(x.array, shape)

    def backward(self, dy):
        return sum_to(dy, self.input_shape)


def sum_to(x, shape):
    """Sum x down to ``shape`` (the reverse of broadcasting); x itself when shapes agree."""
    shape = tuple(shape)
    if x.array.shape == shape:
        return x
    return SumTo.apply(x, shape)


def broadcast_to(input, size):
    size = tuple(int(s) for s in size)
    if -1 in size:  # -1 keeps the existing size, as in expand
        return expand(input, size)
    if input.array.shape == size:
        return input
    if broadcast_shapes(input.shape, size) != size:
        raise RuntimeError(f"The expanded size of the tensor ({list(size)}) must match the existing "
                           f"size ({list(input.shape)}) at non-singleton dimensions")
    return _mark_view(BroadcastTo.apply(input, size), input)


def expand(input, *sizes, size=None):
    """Like broadcast_to, where -1 keeps the existing size of that dimension."""
    sizes = sizes_argument(sizes, size, "expand", "size")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({input.ndim})")
    if -1 in sizes[:lead]:
        raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                           f"non-existing dimension {list(sizes).index(-1)} (sizes {list(sizes)})")
    target = tuple(input.shape[i - lead] if s == -1 and i >= lead else int(s)
                   for i, s in enumerate(sizes))
    return broadcast_to(input, target)


def expand_as(input, other):
    return broadcast_to(input, other.shape)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


def sum_to_size(self, *size):
    """``Tensor.sum_to_size``: ``sum_to`` with the size as varargs or one sequence."""
    return sum_to(self, tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list))
                  else size)
