"""Hypothesis strategies shared by the op tests: shapes (zero-size included), pairs of
broadcastable shapes, float arrays, and non-contiguous layouts (minitorch's permute trick)."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def nonempty_shapes(min_dims=1, max_dims=4, max_side=4):
    return shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


@st.composite
def broadcastable_shapes(draw, min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Two shapes that broadcast together (either side may be the smaller one)."""
    shapes_ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                                     min_side=min_side, max_side=max_side))
    return shapes_.input_shapes


def float_arrays(shape, dtype=np.float64, low=-3.0, high=3.0):
    """Arrays of well-scaled floats (no NaN/inf) for gradient checks."""
    return hnp.arrays(dtype, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False,
                                                       width=64 if dtype == np.float64 else 32))


def positive_arrays(shape, dtype=np.float64, low=0.2, high=3.0):
    return float_arrays(shape, dtype, low, high)


def non_contiguous(array):
    """The same values as ``array`` in a non-contiguous layout (a transposed copy, transposed
    back), so ops see strides other than C order."""
    if array.ndim == 0:
        return array  # a 0-d array has no strides to vary
    if array.ndim == 1:
        return np.repeat(array, 2)[::2] if array.size else array
    permuted = np.ascontiguousarray(np.swapaxes(array, 0, -1))
    return np.swapaxes(permuted, 0, -1)


@st.composite
def tensors(draw, shape_strategy=None, dtype=np.float64, requires_grad=True, contiguous=None, low=-3.0, high=3.0):
    """A minigrad tensor drawn with hypothesis; non-contiguous half the time."""
    shape = draw(shape_strategy if shape_strategy is not None else shapes())
    array = draw(float_arrays(shape, dtype, low, high))
    if contiguous is None:
        contiguous = draw(st.booleans())
    if not contiguous:
        array = non_contiguous(array)
    return mg.tensor(array, requires_grad=requires_grad) if contiguous else \
        _leaf_sharing(array, requires_grad)


def _leaf_sharing(array, requires_grad):
    t = mg.from_numpy(array)
    t.requires_grad_(requires_grad)
    return t
