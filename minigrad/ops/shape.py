"""Shape ops that move no numbers: reshape/view/flatten, squeeze/unsqueeze,
transpose/permute/.T/.mT.

Each is a permutation or regrouping of elements, so its VJP is the inverse regrouping of
the gradient: reshape ↔ reshape back, permute(p) ↔ permute(argsort p). Outputs that share
memory with their input are *views*: they share its version counter, so an in-place write
through either is seen by a saved copy of the other.
"""
import operator
import warnings

from .. import dtypes
from ..tensor import Tensor, _normalize_dim
from ..autograd.function import Function
from .operands import sizes_argument


def _mark_view(out, base):
    if out.array is not base.array and out.xp.may_share_memory(out.array, base.array):
        out._version_counter = base._version_counter
        out._base = base._base if base._base is not None else base
        out._view_version = base._version_counter.value   # see autograd's refresh_view
    return out


class Reshape(Function):
    """y = x regrouped to ``shape`` (row-major order kept).   (s) → (S),  dx = reshape(dy, s)."""

    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.array.reshape(shape)

    def backward(self, dy):
        return Reshape.apply(dy, self.input_shape)


class Permute(Function):
    """y = x with axes reordered by ``dims``;  dx = permute(dy, argsort(dims))."""

    def forward(self, x, dims):
        self.dims = dims
        return x.array.transpose(dims)

    def backward(self, dy):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return Permute.apply(dy, tuple(inverse))


def _infer_shape(shape, numel, input_shape):
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel} "
                           f"(input shape {list(input_shape)})")
    return tuple(shape)


def _shape_args(shape, name="shape"):
    """Sizes (or dims) given as ints or one tuple/list of them; PyTorch's TypeError for any
    other element (a float size is never truncated)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = []
    for position, size in enumerate(shape):
        try:
            out.append(operator.index(size))
        except TypeError:
            raise TypeError(f"argument '{name}' must be tuple of ints, but found element of type "
                            f"{type(size).__name__} at pos {position}") from None
    return tuple(out)


def reshape(input, *sizes, shape=None):
    shape = sizes_argument(sizes, shape, "reshape", "shape")
    shape = _infer_shape(_shape_args(shape), input.numel(), input.shape)
    if shape == tuple(input.shape):
        return input
    return _mark_view(Reshape.apply(input, shape), input)


def view(input, *sizes, size=None, dtype=None):
    """Like reshape, but refuses (as PyTorch does) when the strides make a copy necessary."""
    if dtype is not None and not sizes and size is None:
        return view_dtype(input, dtype)
    shape = sizes_argument(sizes, size, "view", "size")
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return view_dtype(input, shape[0])
    shape = _infer_shape(_shape_args(shape), input.numel(), input.shape)
    try:
        input.xp.reshape(input.array, shape, copy=False)
    except (ValueError, TypeError, AttributeError):
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                           f"(shape {list(input.shape)}, strides {list(input.stride())}); at least "
                           f"one dimension spans across two contiguous subspaces. Use .reshape(...) "
                           f"instead.") from None
    return reshape(input, shape)


def _storage_offset(array):
    """Elements between the start of the memory an array views and its first element
    (PyTorch's ``storage_offset()``)."""
    root = array
    while getattr(root, "base", None) is not None and hasattr(root.base, "dtype"):
        root = root.base

    def address(a):
        return a.__array_interface__["data"][0] if hasattr(a, "__array_interface__") else a.data.ptr
    return (address(array) - address(root)) // array.itemsize


def view_dtype(input, dtype):
    """``view(dtype)``: the same memory read as ``dtype`` (bits reinterpreted, no copy), as in
    PyTorch. With a smaller element size the last dim grows by the ratio, with a larger one
    it shrinks (it must divide, and the last dim must be contiguous). Not differentiable."""
    dtype = dtypes.as_dtype(dtype)
    old, new = input.dtype.itemsize, dtype.itemsize
    if old != new:
        what = (f"to view {dtypes.scalar_type_name(input.dtype)} as "
                f"{dtypes.scalar_type_name(dtype)} (different element sizes)")
        if input.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        ratio = new // old
        if new > old:  # PyTorch's order of checks
            if input.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                                   f"{input.shape[-1]}")
            offset = _storage_offset(input.array)
            if offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, "
                                   f"but got {offset}")
        if input.stride(-1) != 1 and input.shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {input.stride(-1)}")
        if new > old:
            for d in range(input.ndim - 1):
                if input.stride(d) % ratio:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} {what}, "
                                       f"but got {input.stride(d)}")
    array = input.array
    if old != new and array.shape[-1] == 1 and not array.flags.c_contiguous:
        # a size-1 last dim has no stride to speak of: give numpy a contiguous one to regroup
        array = input.xp.lib.stride_tricks.as_strided(
            array, array.shape, array.strides[:-1] + (old,))
    return _mark_view(Tensor._wrap(array.view(dtype)), input)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = _normalize_dim(start_dim, input.ndim), _normalize_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    middle = 1
    for s in shape[start:end + 1]:
        middle *= s
    return reshape(input, tuple(shape[:start]) + (middle,) + tuple(shape[end + 1:]))


def unflatten(input, dim, sizes):
    dim = _normalize_dim(dim, input.ndim)
    sizes = _infer_shape(tuple(sizes), input.shape[dim], (input.shape[dim],))
    return reshape(input, tuple(input.shape[:dim]) + sizes + tuple(input.shape[dim + 1:]))


def squeeze(input, dim=None):
    """Remove size-1 dims (all of them, or those in ``dim``; a non-1 dim is left as is)."""
    if dim is None:
        dims = [i for i, s in enumerate(input.shape) if s == 1]
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [_normalize_dim(d, input.ndim) for d in dims]
        dims = [d for d in dims if input.ndim and input.shape[d] == 1]
    if not dims:
        return input
    return reshape(input, tuple(s for i, s in enumerate(input.shape) if i not in dims))


def unsqueeze(input, dim):
    dim = _normalize_dim(dim, input.ndim + 1)
    shape = list(input.shape)
    shape.insert(dim, 1)
    return reshape(input, tuple(shape))


def permute(input, *args, dims=None):
    dims = sizes_argument(args, dims, "permute", "dims")
    dims = tuple(_normalize_dim(d, input.ndim) for d in _shape_args(dims, "dims"))
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() "
                           f"= {input.ndim} is not equal to len(dims) = {len(dims)}"
                           if len(dims) != input.ndim else f"permute(): duplicate dims are not allowed "
                           f"(dims {list(dims)} for shape {list(input.shape)})")
    if dims == tuple(range(input.ndim)):
        return input
    return _mark_view(Permute.apply(input, dims), input)


def transpose(input, dim0, dim1):
    if input.ndim == 0:
        _normalize_dim(dim0, 0), _normalize_dim(dim1, 0)  # only 0 and -1 name a 0-d dim
        return input
    d0, d1 = _normalize_dim(dim0, input.ndim), _normalize_dim(dim1, input.ndim)
    dims = list(range(input.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, *dims)


def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input, source, destination):
    """Move dim(s) ``source`` to position(s) ``destination`` (ints or equal-length sequences),
    the other dims keeping their order."""
    many = isinstance(source, (tuple, list)) or isinstance(destination, (tuple, list))
    sources = list(source) if isinstance(source, (tuple, list)) else [source]
    destinations = list(destination) if isinstance(destination, (tuple, list)) else [destination]
    if many and len(sources) != len(destinations):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({sources} dims) "
                           f"should contain the same number of dims as destination "
                           f"({destinations} dims)")
    src = [_normalize_dim(operator.index(d), input.ndim) for d in sources]
    dst = [_normalize_dim(operator.index(d), input.ndim) for d in destinations]
    for name, given, normalized in (("source", sources, src), ("destination", destinations, dst)):
        if len(set(normalized)) != len(normalized):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return permute(input, *[o if o is not None else next(rest) for o in order])


moveaxis = movedim


def transpose_2d(self):
    """``Tensor.T``: the transpose of a 2-D tensor. Other ranks do what PyTorch 2.13 does,
    with its deprecation warnings: reversed dimensions above 2, the tensor itself below."""
    if self.ndim == 2:
        return transpose(self, 0, 1)
    if self.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                      "in these cases.", UserWarning, stacklevel=2)
    elif self.ndim > 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release. "
                      "Consider `x.mT` to transpose batches of matrices or `x.permute(*torch."
                      "arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                      UserWarning, stacklevel=2)
    return permute(self, tuple(range(self.ndim - 1, -1, -1)))


def matrix_transpose(self):
    """``Tensor.mT``: the last two dimensions swapped."""
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return transpose(self, -2, -1)


swapaxes = swapdims = transpose


def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows, like ``reshape(-1)``)."""
    return reshape(input, -1)
