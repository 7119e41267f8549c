"""Products and distances built from matmul and pointwise ops: inner, mv, addmm, addmv,
addbmm, baddbmm, addr, kron, tensordot, cross (and linalg.cross), chain_matmul /
linalg.multi_dot, diff, cdist, dist, float_power, fmax, fmin, logit, heaviside.

All are compositions of existing differentiable ops (matmul, mul, add, reshape, permute,
narrow, cat, where, vector_norm …), so no new Function is defined: each VJP is the
composition of the constituent VJPs (e.g. d addmm = (β·dy, α·dy·mat2ᵀ, α·mat1ᵀ·dy)), and
double backward works wherever theirs does.
"""
import functools
import numbers
import warnings

from .. import dtypes
from ..tensor import Tensor, _normalize_dim
from .arithmetic import add, sub, mul, div, pow, ge, eq, gt, logical_or, logical_xor
from .conversion import to
from .joining import cat, narrow
from .linalg import matmul, mm, bmm, outer
from .norms import vector_norm
from .operands import broadcast_shapes, check_tensor, promote
from .pointwise import log
from .pointwise_piecewise import where, clamp
from .reduction import sum as reduce_sum
from .rounding import isnan
from .shape import reshape, permute
from .broadcast import broadcast_to
from ..amp.autocast_mode import autocast_op

__all__ = ["inner", "mv", "addmm", "addmv", "addbmm", "baddbmm", "addr", "kron", "tensordot",
           "cross", "chain_matmul", "diff", "cdist", "dist",
           "float_power", "fmax", "fmin", "logit", "heaviside"]



def _same_dtype(op, *tensors):
    """PyTorch's matmul-family kernels take one dtype (no promotion): RuntimeError naming them."""
    kinds = [t.dtype for t in tensors]
    if any(k != kinds[0] for k in kinds):
        raise RuntimeError(f"{op}: input tensors must have the same dtype, but got "
                           + ", ".join(str(k) for k in kinds))


def _no_out(out, op):
    if out is not None:
        raise TypeError(f"{op}(): the out= argument is not supported by minigrad")

def _scaled_sum(input, product, beta, alpha):
    """β·input + α·product, with input ignored (NaN not propagated) when β = 0."""
    product = product if alpha == 1 else mul(product, alpha)
    if beta == 0:
        return add(mul(input, 0), product) if input.requires_grad else \
            add(product, Tensor._wrap(input.xp.zeros(input.shape, dtype=product.array.dtype)))
    return add(input if beta == 1 else mul(input, beta), product)


def _need(t, ndim, name, op):
    check_tensor(t, op, name)
    if op in ("addbmm", "baddbmm") and t.ndim < ndim:
        # PyTorch reads size(2) of a batch before checking its rank
        _normalize_dim(2, t.ndim)
    if t.ndim != ndim:
        raise RuntimeError(f"{name} must be a {ndim}D tensor")


@autocast_op("mv")
def mv(input, vec, *, out=None):
    """input @ vec for an (n, m) matrix and an (m,) vector."""
    _no_out(out, "mv")
    check_tensor(input, "mv")
    check_tensor(vec, "mv", "vec")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _same_dtype("mv", input, vec)
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return matmul(input, vec)


@autocast_op("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """β·input + α·(mat1 @ mat2), input broadcast to (n, p)."""
    _no_out(out, "addmm")
    _need(mat1, 2, "mat1", "addmm")
    _need(mat2, 2, "mat2", "addmm")
    _same_dtype("addmm", input, mat1, mat2)
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


@autocast_op("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """β·input + α·(mat @ vec)."""
    _no_out(out, "addmv")
    check_tensor(input, "addmv")
    _same_dtype("addmv", input, mat, vec)
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


@autocast_op("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """β·input + α·Σ_b batch1[b] @ batch2[b]."""
    _no_out(out, "addbmm")
    _need(batch1, 3, "batch1", "addbmm")
    _need(batch2, 3, "batch2", "addbmm")
    _same_dtype("addbmm", input, batch1, batch2)
    return _scaled_sum(input, reduce_sum(bmm(batch1, batch2), 0), beta, alpha)


@autocast_op("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """β·input + α·(batch1 @ batch2), batched."""
    _no_out(out, "baddbmm")
    _need(batch1, 3, "batch1", "baddbmm")
    _need(batch2, 3, "batch2", "baddbmm")
    _same_dtype("baddbmm", input, batch1, batch2)
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


@autocast_op("addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """β·input + α·outer(vec1, vec2)."""
    _no_out(out, "addr")
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        check_tensor(v, "addr", name)
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


@autocast_op("tensordot")
def tensordot(a, b, dims=2, out=None):
    """Σ over the paired dims: an int n pairs a's last n dims with b's first n; a pair of
    lists names them. Result shape: a's free dims then b's free dims."""
    _no_out(out, "tensordot")
    check_tensor(a, "tensordot", "a")
    check_tensor(b, "tensordot", "b")
    _same_dtype("tensordot", a, b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, numbers.Integral) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, numbers.Integral) else list(dims_b)
        if len(dims_a) != len(dims_b):
            raise RuntimeError("both dimension lists should have same length")
    dims_a = [_normalize_dim(d, a.ndim) for d in dims_a]
    dims_b = [_normalize_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} "
                               f"in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = 1
    for d in dims_a:
        k *= a.shape[d]
    left = reshape(permute(a, free_a + dims_a), (-1, k))
    right = reshape(permute(b, dims_b + free_b), (k, -1))
    return reshape(mm(*promote(left, right, op="tensordot")),
                   tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


def inner(input, other, *, out=None):
    """Σ over the last dims: shape input.shape[:-1] + other.shape[:-1]; a 0-d operand scales."""
    _no_out(out, "inner")
    check_tensor(input, "inner")
    check_tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    _same_dtype("inner", input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def kron(input, other, *, out=None):
    """Kronecker product: result[i·B + j] = input[i]·other[j] per dim (ranks padded with
    leading 1s)."""
    _no_out(out, "kron")
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other")
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = reshape(input, tuple(x for s in sa for x in (s, 1)))
    b = reshape(other, tuple(x for s in sb for x in (1, s)))
    return reshape(mul(a, b), tuple(x * y for x, y in zip(sa, sb)))


def _cross(input, other, dim, op):
    check_tensor(input, op)
    check_tensor(other, op, "other")
    if input.ndim != other.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions.")
    _same_dtype(op, input, other)
    shape = broadcast_shapes(input.shape, other.shape)
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    dim = _normalize_dim(dim, len(shape))
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    a, b = promote(input, other, op=op)
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    x = [narrow(a, dim, i, 1) for i in range(3)]
    y = [narrow(b, dim, i, 1) for i in range(3)]
    return cat([sub(mul(x[(i + 1) % 3], y[(i + 2) % 3]), mul(x[(i + 2) % 3], y[(i + 1) % 3]))
                for i in range(3)], dim)


@autocast_op("cross")
def cross(input, other, dim=None, *, out=None):
    """The 3-vector cross product along ``dim`` (default: the first dim of size 3, with
    PyTorch's deprecation warning)."""
    _no_out(out, "cross")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
    return _cross(input, other, dim, "cross")


def linalg_cross(input, other, *, dim=-1, out=None):
    """torch.linalg.cross: the cross product along ``dim`` (default -1); the inputs must have
    the same number of dimensions and broadcast."""
    _no_out(out, "linalg.cross")
    return _cross(input, other, dim, "linalg.cross")


@autocast_op("chain_matmul")
def chain_matmul(*matrices, out=None):
    """The product of 2-d matrices, left to right."""
    _no_out(out, "chain_matmul")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    for m in matrices:
        check_tensor(m, "chain_matmul")
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    _same_dtype("chain_matmul", *matrices)
    return functools.reduce(mm, matrices) if len(matrices) > 1 else matrices[0].clone()


@autocast_op("multi_dot")
def multi_dot(tensors, *, out=None):
    """torch.linalg.multi_dot: the product of matrices; the first may be 1-d (a row) and the
    last 1-d (a column), those dims are dropped from the result."""
    _no_out(out, "linalg.multi_dot")
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        check_tensor(t, "multi_dot")
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            which = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            raise RuntimeError(
                f"multi_dot(): the {which} tensor must be 1D or 2D but got {t.ndim}D" if which
                else f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    _same_dtype("multi_dot()", *tensors)
    first, last = tensors[0], tensors[-1]
    row, col = first.ndim == 1, last.ndim == 1
    tensors[0] = reshape(first, (1, -1)) if row else first
    tensors[-1] = reshape(last, (-1, 1)) if col else last
    result = functools.reduce(mm, tensors)
    shape = tuple(result.shape)
    shape = shape[1:] if row else shape
    shape = shape[:-1] if col else shape
    return reshape(result, shape)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` after concatenating prepend/append
    (xor for bool tensors)."""
    check_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = _normalize_dim(dim, input.ndim)
    if n == 0:  # PyTorch returns the input unchanged, ignoring prepend/append
        return input
    for p in (prepend, append):
        if p is not None and p.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, dim) if len(parts) > 1 else input
    boolean = x.dtype == dtypes.bool_
    for _ in range(n):
        length = x.shape[dim]
        if length == 0:
            break
        hi, lo = narrow(x, dim, 1, length - 1), narrow(x, dim, 0, length - 1)
        x = logical_xor(hi, lo) if boolean else sub(hi, lo)
    return x


@autocast_op("cdist")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (…, P, M) and x2 (…, R, M), shape
    (…, P, R); p = 0 counts differing coordinates, p = inf takes the largest."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if not dtypes.is_floating(x1.dtype) or not dtypes.is_floating(x2.dtype):
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    _same_dtype("cdist", x1, x2)
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    a = reshape(x1, x1.shape[:-1] + (1, x1.shape[-1]))
    b = reshape(x2, x2.shape[:-2] + (1,) + x2.shape[-2:])
    return vector_norm(sub(a, b), p, dim=-1)


@autocast_op("dist")
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), as a 0-d tensor."""
    check_tensor(input, "dist")
    check_tensor(other, "dist", "other")
    return vector_norm(sub(input, other), p)


def float_power(input, exponent):
    """input ** exponent computed in float64 (minigrad has no complex dtypes)."""
    cast = [to(v, dtypes.float64) if isinstance(v, Tensor) else v for v in (input, exponent)]
    return pow(*cast)


def _fpick(input, other, compare, op):
    check_tensor(input, op)
    check_tensor(other, op, "other")
    a, b = promote(input, other, op=op)
    take_a = compare(a, b)
    if dtypes.is_floating(a.dtype):
        take_a = logical_or(take_a, isnan(b))
    return where(take_a, a, b)


def fmax(input, other, *, out=None):
    """Elementwise maximum ignoring NaN (NaN only where both are NaN); ties send the
    gradient to ``input``."""
    _no_out(out, "fmax")
    return _fpick(input, other, ge, "fmax")


def fmin(input, other, *, out=None):
    """Elementwise minimum ignoring NaN (NaN only where both are NaN); ties send the
    gradient to ``input``."""
    _no_out(out, "fmin")
    return _fpick(input, other, lambda a, b: ge(b, a), "fmin")


def logit(input, eps=None, *, out=None):
    """log(z / (1 − z)) with z = clamp(input, eps, 1 − eps) when eps is given; integer
    inputs become the default float dtype."""
    _no_out(out, "logit")
    check_tensor(input, "logit")
    if not dtypes.is_floating(input.dtype):
        input = to(input, dtypes.get_default_dtype())
    z = input if eps is None else clamp(input, eps, 1 - eps)
    return log(div(z, sub(1, z)))


def heaviside(input, values, *, out=None):
    """0 where input < 0, 1 where input > 0, ``values`` where input == 0 (same dtype only;
    not differentiable, as in PyTorch)."""
    _no_out(out, "heaviside")
    check_tensor(input, "heaviside")
    check_tensor(values, "heaviside", "values")
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    x, v = input.detach(), values.detach()
    positive = to(gt(x, 0), x.dtype)
    return where(eq(x, 0), v, positive)
