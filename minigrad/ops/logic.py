"""Tests of closeness and truth, and integer bit shifts: isclose/allclose/equal, all/any,
count_nonzero, ``<<``/``>>`` (bitwise_left_shift/bitwise_right_shift) and the reflected
bitwise operators (``3 & t``, ``3 | t``, ``3 ^ t``, ``1 << t``).

None of these has a gradient: outputs are bool or integer tensors (``allclose`` and
``equal`` a Python bool), computed on the xp arrays and wrapped as constants. Reductions
take ``dim`` as an int, a tuple of ints or None (all dims), as ``sum`` does.
"""
import numbers

import numpy as np

from .. import dtypes
from ..device import quiet_floating_point
from ..tensor import Tensor
from .arithmetic import _check_broadcast, bitwise_and, bitwise_or, bitwise_xor
from .operands import (broadcast_shapes, check_same_device, check_tensor, promote,
                       result_dtype)
from .reduction import _reduction_axes

__all__ = ["isclose", "allclose", "equal", "all", "any", "count_nonzero",
           "bitwise_left_shift", "bitwise_right_shift"]


# ---------------------------------------------------------------------- closeness
def _closeness(input, other, rtol, atol, equal_nan, op):
    check_tensor(input, op)
    check_tensor(other, op, "other")
    if input.dtype != other.dtype:
        raise RuntimeError(f"{dtypes.scalar_type_name(input.dtype)} did not match "
                           f"{dtypes.scalar_type_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    _check_broadcast(input, other)
    xp, a, b = input.xp, input.array, other.array
    close = a == b
    if equal_nan and a.dtype.kind in "fV":
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol or atol:
        if a.dtype.kind not in "fV":  # integers and bools compare in the default float dtype
            a = a.astype(dtypes.get_default_dtype())
            b = b.astype(a.dtype)
        with quiet_floating_point(xp, all="ignore"):  # inf − inf is nan: not close
            actual = xp.abs(a - b)
            allowed = atol + xp.abs(rtol * b)
            close = close | (xp.isfinite(actual) & (actual <= allowed))
    return close


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol·|other| (or exactly equal), elementwise, as a bool
    tensor; both tensors of one dtype. NaNs are equal only with ``equal_nan``."""
    return Tensor._wrap(input.xp.asarray(_closeness(input, other, rtol, atol, equal_nan,
                                                    "isclose")))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``isclose(...).all()`` as a Python bool."""
    return bool(_closeness(input, other, rtol, atol, equal_nan, "allclose").all())


def equal(input, other):
    """True when both tensors have the same shape and equal elements (NaN ≠ NaN)."""
    check_tensor(input, "equal")
    check_tensor(other, "equal", "other")
    if input.shape != other.shape:
        return False
    a, b = promote(input, other, op="equal")
    return bool((a.array == b.array).all())


# ---------------------------------------------------------------------- truth reductions
def _truth(op, input, dim, keepdim):
    check_tensor(input, op)
    xp = input.xp
    if isinstance(dim, (tuple, list)) and len(dim) == 0:  # PyTorch: no dims, no reduction
        out = input.array != 0
    else:
        axes = _reduction_axes(dim, input.ndim)
        out = getattr(xp, op)(input.array != 0, axis=axes, keepdims=bool(keepdim))
    dtype = dtypes.uint8 if input.dtype == dtypes.uint8 else dtypes.bool_
    return Tensor._wrap(xp.asarray(out).astype(dtype, copy=False))


def all(input, dim=None, keepdim=False):
    """True where every element along ``dim`` (an int, a tuple, or None for all) is
    nonzero; bool output (uint8 for a uint8 input, as in PyTorch)."""
    return _truth("all", input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element along ``dim`` is nonzero; bool output (uint8 for uint8)."""
    return _truth("any", input, dim, keepdim)


def count_nonzero(input, dim=None):
    """The number of nonzero elements along ``dim`` (an int, a tuple, or None for all), int64."""
    check_tensor(input, "count_nonzero")
    axes = _reduction_axes(dim, input.ndim)
    count = (input.array != 0).sum(axis=axes, dtype=dtypes.int64)
    return Tensor._wrap(input.xp.asarray(count))


# ---------------------------------------------------------------------- shifts
def _integer_operands(input, other, kernel):
    """(xp, a, b): a in the result dtype, b (the shift) as int64, so a Python shift such as
    200 on an int8 tensor is not first wrapped into int8."""
    dtype = result_dtype(input, other)
    if dtype.kind not in "iu":
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(dtype)}'")
    tensors = [v for v in (input, other) if isinstance(v, Tensor)]
    check_same_device(tensors, kernel)
    xp = tensors[0].xp
    a = input.array.astype(dtype, copy=False) if isinstance(input, Tensor) else \
        xp.asarray(int(input)).astype(dtype)  # wraps, as PyTorch's scalar does
    b = other.array if isinstance(other, Tensor) else xp.asarray(int(other))
    if a.shape != b.shape:
        broadcast_shapes(a.shape, b.shape)
    return xp, a, b.astype(dtypes.int64, copy=False)


def bitwise_left_shift(input, other):
    """input · 2^other in input's integer dtype (wrapping); 0 for a shift < 0 or ≥ the
    bit width, as in PyTorch. Either operand may be a number."""
    xp, a, b = _integer_operands(input, other, "lshift")
    bits = a.dtype.itemsize * 8
    valid = (b >= 0) & (b < bits)
    shifted = xp.left_shift(a, xp.where(valid, b, 0).astype(a.dtype, copy=False))
    return Tensor._wrap(xp.asarray(xp.where(valid, shifted, 0).astype(a.dtype, copy=False)))


def bitwise_right_shift(input, other):
    """input >> other (arithmetic, rounding toward −∞) in input's integer dtype; a shift < 0
    or ≥ the bit width gives −1 for negative inputs and 0 otherwise, as in PyTorch."""
    xp, a, b = _integer_operands(input, other, "rshift")
    bits = a.dtype.itemsize * 8
    valid = (b >= 0) & (b < bits)
    shifted = xp.right_shift(a, xp.where(valid, b, 0).astype(a.dtype, copy=False))
    overflow = xp.where(a < 0, -1, 0) if a.dtype.kind == "i" else xp.zeros((), a.dtype)
    return Tensor._wrap(xp.asarray(xp.where(valid, shifted, overflow).astype(a.dtype,
                                                                             copy=False)))


# ---------------------------------------------------------------------- reflected operators
# ``3 & t`` calls ``t.__rand__(3)``: the number is the left operand.
def _reflected(function):
    def reflected(self, other):
        if not isinstance(other, (Tensor, numbers.Number, np.generic, np.ndarray)):
            return NotImplemented
        return function(other, self)
    reflected.__name__ = f"r{function.__name__}"
    return reflected


rand = _reflected(bitwise_and)
ror = _reflected(bitwise_or)
rxor = _reflected(bitwise_xor)
rlshift = _reflected(bitwise_left_shift)
rrshift = _reflected(bitwise_right_shift)
