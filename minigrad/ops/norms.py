"""Norms: ``linalg.vector_norm``, ``linalg.matrix_norm``, ``linalg.norm`` and ``torch.norm``
(``Tensor.norm``), with PyTorch's argument names, defaults and dispatch between them.

The vector p-norm over the axes A of x (shape s) is y = (Σ_A |x|ᵖ)^(1/p), with p = ∞ the
largest |x|, p = −∞ the smallest and p = 0 the count of nonzeros; its VJP is PyTorch's
``norm_backward`` (see ``VectorNorm``). Matrix norms are compositions of differentiable
ops: Frobenius = the vector 2-norm over the two dims, ord ±1 = max/min over columns of
the column sums of |A|, ord ±∞ the same over rows. The norms that need singular values
(``'nuc'``, ord ±2) are not implemented and raise NotImplementedError.
"""
import math
import numbers

from .. import dtypes
from ..tensor import Tensor
from .operands import check_tensor
from .pointwise_piecewise import PointwiseFunction, abs as absolute
from .reduction import _expand_grad, _kept_shape, _reduction_axes, amax, amin, sum as total
from .rounding import sign
from .shape import reshape
from ..amp.autocast_mode import autocast_op

__all__ = ["norm"]

INF = math.inf


def _ord_text(ord):
    """PyTorch's printing of an order in messages: inf, -inf, 2, 0.5."""
    if isinstance(ord, float) and ord.is_integer():
        return str(int(ord))
    return str(ord)


def _mask(array, dtype):
    return Tensor._wrap(array.astype(dtype))


class VectorNorm(PointwiseFunction):
    """y = (Σ_A |x|ᵖ)^(1/p)  (p = ±∞: max/min |x|, p = 0: number of nonzeros).
    VJP (PyTorch's norm_backward), with g = dy and y broadcast back to s:
    p = 0: 0;  p = 1: g·sgn x;  p = 2: g·x/y (0 where y = 0);
    p = ±∞: g·sgn x·m / Σ_A m with m = [|x| = y or |x| is nan];
    p < 1: g·sgn x·|x|^(p−1)·y^(1−p) (0 where x = 0);
    1 < p < 2: g·sgn x·|x|^(p−1) / y^(p−1), p > 2: g·x·|x|^(p−2) / y^(p−1) (0 where y = 0)."""

    def forward(self, x, ord, axes, keepdim):
        self.ord, self.axes, self.input_shape = ord, axes, x.shape
        self.save_for_backward(x)
        self.save_outputs_for_backward()
        xp, a = x.xp, x.xp.abs(x.array)
        if ord not in (INF, -INF, 0) and a.dtype.itemsize < 4:
            a = a.astype(xp.float32)  # half accumulates in float32, as PyTorch (300² overflows)
        if ord == INF:
            y = a.max(axis=axes, keepdims=keepdim)
        elif ord == -INF:
            y = a.min(axis=axes, keepdims=keepdim)
        elif ord == 0:
            y = (a != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
        elif ord == 1:
            y = a.sum(axis=axes, keepdims=keepdim)
        elif ord == 2:
            y = xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        else:
            y = (a ** ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)  # 0 ** (p < 0) = inf
        return xp.asarray(y, dtype=x.dtype)

    def backward(self, dy):
        (x,), (y,) = self.saved_tensors, self.saved_outputs
        p, axes, shape = self.ord, self.axes, self.input_shape
        if p == 0:
            return _expand_grad(dy, shape, axes) * 0.0
        g = _expand_grad(dy, shape, axes)
        kept = _kept_shape(shape, axes)
        y = reshape(y, kept) if y.shape != kept else y
        xp = x.xp
        if p == 1:
            return g * sign(x)
        if p in (INF, -INF):
            a = xp.abs(x.array)
            m = (a == y.array) | xp.isnan(a)
            count = _mask(m.sum(axis=axes, keepdims=True), x.dtype)
            return sign(x) * (g / count) * _mask(m, x.dtype)
        if p < 1:
            zero = x.array == 0
            powered = (absolute(x) + _mask(zero, x.dtype)) ** (p - 1) * _mask(~zero, x.dtype)
            return sign(x) * powered * g * y ** (1 - p)
        zero = y.array == 0
        scale = g / (y + _mask(zero, y.dtype)) ** (p - 1) * _mask(~zero, y.dtype)
        if p == 2:
            return x * scale
        if p < 2:  # sgn x·|x|^(p−1): 0 at x = 0, where x·|x|^(p−2) would be 0·∞
            return sign(x) * absolute(x) ** (p - 1) * scale
        return x * absolute(x) ** (p - 2) * scale


def _check_float(input, dtype, op):
    check_tensor(input, op)
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        if dtype.kind not in "fV":
            raise RuntimeError(f"{op}: dtype should be floating point or complex, but got "
                               f"{dtypes.scalar_type_name(dtype)}")
        input = input.to(dtype)
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{dtypes.scalar_type_name(input.dtype)}")
    return input


@autocast_op("vector_norm")
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm of x over ``dim`` (an int, a tuple, or None: all elements)."""
    if isinstance(ord, str) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    x = _check_float(x, dtype, "linalg.vector_norm")
    axes = _reduction_axes(dim, x.ndim)
    if ord < 0 or ord == INF:
        if dim is None and x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm on an "
                               f"empty tensor because the operation does not have an identity")
        for a in axes if dim is not None else ():
            if x.shape[a] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm "
                                   f"on the dimension {a} because this dimension is empty and "
                                   f"the operation does not have an identity")
    return VectorNorm.apply(x, float(ord), axes, bool(keepdim))


@autocast_op("matrix_norm")
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of A over the two dims ``dim``: 'fro' (Frobenius), or ord ±1 / ±∞
    (max/min column / row sum of |A|). 'nuc' and ±2 (singular values) are not implemented."""
    A = _check_float(A, dtype, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    d0, d1 = _reduction_axes(dims[0], A.ndim)[0], _reduction_axes(dims[1], A.ndim)[0]
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, "
                           f"{dims[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, "
                                  f"which minigrad does not implement")
    if ord not in (1, -1, INF, -INF):
        raise RuntimeError(f"linalg.matrix_norm: Order {_ord_text(ord)} not supported.")
    # PyTorch's composition: ±1 sums |A| over d0 then takes max/min over d1, ±∞ the other
    # way round; an empty A has norm 0 for a positive ord (amin of nothing raises).
    if ord > 0 and A.numel() == 0:
        return total(absolute(A), (d0, d1), keepdim=keepdim)
    first, second = (d0, d1) if ord in (1, -1) else (d1, d0)
    if not keepdim and first < second:
        second -= 1
    sums = vector_norm(A, 1, first, keepdim)
    return (amax if ord > 0 else amin)(sums, second, keepdim)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``linalg.norm`` (PyTorch's dispatch): a string ord is a matrix norm over ``dim``
    (default (0, 1)); a number is a matrix norm when dim is a 2-tuple or A is 2-D without
    dim, else a vector norm; ord None is the 2-norm of all elements or over ``dim``."""
    check_tensor(A, "linalg.norm")
    dims = None if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    if dims is None and ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    if ord is not None and (len(dims or ()) == 2 or (dims is None and A.ndim == 2)):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


@autocast_op("norm")
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm`` (deprecated in PyTorch in favour of ``linalg``, still widely used):
    p = 'fro' over all elements or up to two dims is the vector 2-norm; a number p is the
    vector p-norm over ``dim`` (all elements when None); 'nuc' is a matrix norm."""
    if out is not None:
        raise TypeError("norm(): the out= argument is not supported by minigrad")
    dims = None if dim is None else [dim] if isinstance(dim, numbers.Integral) else list(dim)
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        check_tensor(input, "norm")
        dims = list(range(input.ndim)) if dims is None else dims
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p is None else p, dims, keepdim, dtype=dtype)
