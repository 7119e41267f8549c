"""Window clipping shared by the numba convolution and pooling kernels.

A window op reads, along one axis, tap ``t·step + offset`` for ``t`` in ``[0, count)``
(``step`` is the stride when ``t`` runs over output positions, the dilation when it runs
over the taps of one window).  Instead of padding the input, the kernels clip ``t`` to
the range whose reads land inside ``[0, size)`` and treat the rest as padding, so no
padded copy is made and no tap is bounds-tested inside the inner loops.
"""
from ._jit import jit


@jit
def inside(count, step, offset, size):
    """``(lo, hi)``: the ``t`` in ``[0, count)`` with ``0 <= t·step + offset < size``
    (``lo == hi`` when there are none); ``step >= 1``."""
    lo = 0 if offset >= 0 else (step - 1 - offset) // step
    hi = 0 if offset >= size else min(count, (size - 1 - offset) // step + 1)
    return min(lo, hi), hi
