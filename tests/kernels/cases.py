"""Case generators for the parity harness: kernel name → hypothesis strategy drawing a tuple
of valid positional arguments for that kernel.

Every name in the catalogue needs one (``test_parity.py`` fails otherwise).  Each draws
odd sizes, float32 or float64, and *layouts*: contiguous, permuted (minitorch's trick: an
array built in another axis order, then transposed into place) or strided (every other
element of a larger array), because an optimised kernel's commonest bug is assuming a
contiguous input.  Values are O(1) random normals with a seed drawn by hypothesis, so a
failing case shrinks to a small reproducible one.  Arguments that must be consistent with
one another (max-pool indices, attention weights, layer-norm statistics) are produced by
the reference from drawn inputs.

To add a kernel name: write ``@case("name")`` over a ``@st.composite`` function returning
the argument tuple.
"""
import numpy as np
from hypothesis import strategies as st

from minigrad_kernels.catalogue import CATALOGUE
from minigrad_kernels.reference.windows import output_shape

DTYPES = (np.float32, np.float64)
LAYOUTS = ("contiguous", "permuted", "strided")
CASES = {}


def case(*names):
    """Register a composite strategy as the case generator of ``names``."""
    def register(composite):
        for name in names:
            CASES[name] = composite()
        return composite
    return register


def rng_of(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def array(draw, rng, shape, dtype, scale=1.0):
    """A random normal array of ``shape`` in a drawn layout (values independent of layout)."""
    shape = tuple(shape)
    values = np.asarray(rng.standard_normal(shape) * scale).astype(dtype)
    layout = draw(st.sampled_from(LAYOUTS)) if len(shape) and min(shape, default=0) > 0 else \
        "contiguous"
    if layout == "permuted" and len(shape) > 1:
        order = draw(st.permutations(range(len(shape))))
        stored = np.ascontiguousarray(values.transpose(order))        # laid out in `order`
        return stored.transpose(np.argsort(order))                    # same values, strided
    if layout == "strided":
        wide = np.zeros(shape[:-1] + (2 * shape[-1],), dtype=dtype)
        wide[..., ::2] = values
        return wide[..., ::2]
    return values


def sides(draw, low=1, high=7):
    return draw(st.integers(low, high))


# ------------------------------------------------------------------------- matmul
@case("matmul")
@st.composite
def matmul_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    m, k, n = sides(draw), sides(draw), sides(draw)
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    a_batch = [d if draw(st.booleans()) else 1 for d in batch]
    b_batch = [d if draw(st.booleans()) else 1 for d in batch]
    a_shape = (k,) if draw(st.integers(0, 5)) == 0 else tuple(a_batch) + (m, k)
    b_shape = (k,) if draw(st.integers(0, 5)) == 0 else tuple(b_batch) + (k, n)
    return array(draw, rng, a_shape, dtype), array(draw, rng, b_shape, dtype)


# ------------------------------------------------------------------------- convolution
def window_geometry(draw, pooling=False):
    """kernel_size, stride, padding, dilation (pairs) and an input size each window fits."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
    dilation = (1, 1) if pooling == "avg" else tuple(draw(st.integers(1, 2)) for _ in range(2))
    padding = tuple(draw(st.integers(0, k // 2 if pooling else 2)) for k in kernel)
    if pooling == "max":
        # pad ≤ k/2 keeps a real pixel in every window only without dilation (PyTorch and
        # the reference reject a window of padding alone).
        padding = tuple(p if d == 1 else 0 for p, d in zip(padding, dilation))
    hw = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
               for k, p, d in zip(kernel, padding, dilation))
    return kernel, stride, padding, dilation, hw


@case("im2col")
@st.composite
def im2col_case(draw):
    """Float images, and int8/uint8 ones (the quantised Conv2d's patches)."""
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES + (np.int8, np.uint8)))
    kernel, stride, padding, dilation, hw = window_geometry(draw)
    shape = (sides(draw, 1, 2), sides(draw, 1, 3)) + hw
    if dtype in (np.int8, np.uint8):
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    else:
        x = array(draw, rng, shape, dtype)
    return x, kernel, stride, padding, dilation


@case("col2im")
@st.composite
def col2im_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    kernel, stride, padding, dilation, hw = window_geometry(draw)
    x_shape = (sides(draw, 1, 2), sides(draw, 1, 3)) + hw
    oh, ow = output_shape(x_shape, kernel, stride, padding, dilation)
    cols = array(draw, rng, (x_shape[0], x_shape[1] * kernel[0] * kernel[1], oh * ow), dtype)
    return cols, x_shape, kernel, stride, padding, dilation


def conv_shapes(draw):
    kernel, stride, padding, dilation, hw = window_geometry(draw)
    groups = draw(st.integers(1, 2))
    n, c, o = sides(draw, 1, 2), groups * sides(draw, 1, 2), groups * sides(draw, 1, 2)
    x_shape, w_shape = (n, c) + hw, (o, c // groups) + kernel
    y_shape = (n, o) + output_shape(x_shape, kernel, stride, padding, dilation)
    return x_shape, w_shape, y_shape, (stride, padding, dilation, groups)


@case("conv2d_forward")
@st.composite
def conv2d_forward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    x_shape, w_shape, _, geometry = conv_shapes(draw)
    return (array(draw, rng, x_shape, dtype), array(draw, rng, w_shape, dtype)) + geometry


@case("conv2d_backward_input")
@st.composite
def conv2d_backward_input_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    x_shape, w_shape, y_shape, geometry = conv_shapes(draw)
    return (array(draw, rng, y_shape, dtype), array(draw, rng, w_shape, dtype), x_shape) + geometry


@case("conv2d_backward_weight")
@st.composite
def conv2d_backward_weight_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    x_shape, w_shape, y_shape, geometry = conv_shapes(draw)
    return (array(draw, rng, y_shape, dtype), array(draw, rng, x_shape, dtype), w_shape) + geometry


# ------------------------------------------------------------------------- pooling
@case("max_pool2d_forward")
@st.composite
def max_pool2d_forward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    kernel, stride, padding, dilation, hw = window_geometry(draw, pooling="max")
    x = array(draw, rng, (sides(draw, 1, 2), sides(draw, 1, 3)) + hw, dtype)
    return x, kernel, stride, padding, dilation, draw(st.booleans())


@case("max_pool2d_backward")
@st.composite
def max_pool2d_backward_case(draw):
    x, *window = draw(CASES["max_pool2d_forward"])
    y, indices = CATALOGUE.reference_impl("max_pool2d_forward")(x, *window)
    dy = array(draw, rng_of(draw), y.shape, x.dtype)
    return dy, indices, x.shape


def avg_pool_window(draw):
    kernel, stride, padding, _, hw = window_geometry(draw, pooling="avg")
    divisor = draw(st.one_of(st.none(), st.integers(1, 5)))
    return hw, (kernel, stride, padding, draw(st.booleans()), draw(st.booleans()), divisor)


@case("avg_pool2d_forward")
@st.composite
def avg_pool2d_forward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    hw, window = avg_pool_window(draw)
    return (array(draw, rng, (sides(draw, 1, 2), sides(draw, 1, 3)) + hw, dtype),) + window


@case("avg_pool2d_backward")
@st.composite
def avg_pool2d_backward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    hw, window = avg_pool_window(draw)
    kernel, stride, padding, ceil_mode = window[:4]
    x_shape = (sides(draw, 1, 2), sides(draw, 1, 3)) + hw
    out = output_shape(x_shape, kernel, stride, padding, (1, 1), ceil_mode)
    return (array(draw, rng, x_shape[:2] + out, dtype), x_shape) + window


# ------------------------------------------------------------------------- softmax family
@case("softmax", "log_softmax")
@st.composite
def softmax_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=3)))
    scale = draw(st.sampled_from([1.0, 30.0]))
    return array(draw, rng, shape, dtype, scale), draw(st.integers(-len(shape), len(shape) - 1))


@case("logsumexp")
@st.composite
def logsumexp_case(draw):
    x, axis = draw(CASES["softmax"])
    axis = draw(st.sampled_from([axis, None, tuple(range(x.ndim))]))
    return x, axis, draw(st.booleans())


# ------------------------------------------------------------------------- attention
@case("attention_forward")
@st.composite
def attention_forward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    lq, lk, d, dv = sides(draw, 1, 6), sides(draw, 1, 6), sides(draw, 1, 5), sides(draw, 1, 5)
    q, k = array(draw, rng, batch + (lq, d), dtype), array(draw, rng, batch + (lk, d), dtype)
    v = array(draw, rng, batch + (lk, dv), dtype)
    kind = draw(st.sampled_from(["none", "bool", "float"]))
    mask = None
    if kind == "bool":
        mask = rng.random((lq, lk)) > 0.3          # some rows may be fully masked
    elif kind == "float":
        mask = array(draw, rng, (lq, lk), dtype)
    scale = draw(st.one_of(st.none(), st.floats(0.1, 2.0)))
    return q, k, v, mask, scale


@case("attention_backward")
@st.composite
def attention_backward_case(draw):
    q, k, v, mask, scale = draw(CASES["attention_forward"])
    out, weights = CATALOGUE.reference_impl("attention_forward")(q, k, v, mask, scale)
    d_out = array(draw, rng_of(draw), out.shape, q.dtype)
    return q, k, v, weights, d_out, scale


# ------------------------------------------------------------------------- pointwise
@case("erf", "erfc", "sigmoid", "gelu", "gelu_tanh")
@st.composite
def pointwise_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=3)))
    return (array(draw, rng, shape, dtype, draw(st.sampled_from([0.3, 3.0, 30.0]))),)


@case("gelu_backward", "gelu_tanh_backward")
@st.composite
def pointwise_backward_case(draw):
    (x,) = draw(CASES["gelu"])
    return array(draw, rng_of(draw), x.shape, x.dtype), x


# ------------------------------------------------------------------------- optimizer
@case("adam_update")
@st.composite
def adam_update_case(draw):
    """Flat state of one dtype.  The update is in place and returns None, so the parity
    harness (which runs the reference first, on the same arrays under the simulator) can
    only check that it runs; ``test_cuda_fused_kernels.py`` checks it bit for bit."""
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    n = sides(draw, 1, 40)
    theta, grad, m = (array(draw, rng, (n,), dtype) for _ in range(3))
    theta, grad, m = (np.ascontiguousarray(a) for a in (theta, grad, m))
    v = np.abs(np.ascontiguousarray(array(draw, rng, (n,), dtype)))
    vmax = v * 2 if draw(st.booleans()) else None
    return (theta, grad, m, v, vmax, draw(st.integers(1, 5)), 1e-3, 0.9, 0.999, 1e-8,
            draw(st.sampled_from([0.0, 0.01])), draw(st.booleans()), draw(st.booleans()))


# ------------------------------------------------------------------------- layer norm
@case("layer_norm_forward")
@st.composite
def layer_norm_forward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    lead = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=2)))
    x = array(draw, rng, lead + norm, dtype)
    weight = array(draw, rng, norm, dtype) if draw(st.booleans()) else None
    bias = array(draw, rng, norm, dtype) if draw(st.booleans()) else None
    return x, weight, bias, len(norm), draw(st.sampled_from([1e-5, 1e-3]))


@case("layer_norm_backward")
@st.composite
def layer_norm_backward_case(draw):
    x, weight, bias, k, eps = draw(CASES["layer_norm_forward"])
    y, mean, rstd = CATALOGUE.reference_impl("layer_norm_forward")(x, weight, bias, k, eps)
    return array(draw, rng_of(draw), x.shape, x.dtype), x, weight, mean, rstd, k


# ------------------------------------------------------------------------- cross-entropy
def cross_entropy_arguments(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    classes = sides(draw, 1, 6)
    if draw(st.integers(0, 4)) == 0:
        x_shape, t_shape = (classes,), ()
    else:
        spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        n = sides(draw, 1, 5)
        x_shape, t_shape = (n, classes) + spatial, (n,) + spatial
    ignore_index = draw(st.sampled_from([-100, 0]))
    target = rng.integers(0, classes, t_shape)
    target = np.where(rng.random(t_shape) < 0.25, ignore_index, target).astype(np.int64)
    weight = array(draw, rng, (classes,), dtype) ** 2 + 0.1 if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.2]))
    reduction = draw(st.sampled_from(["none", "sum", "mean"]))
    x = array(draw, rng, x_shape, dtype, draw(st.sampled_from([1.0, 10.0])))
    return rng, x, np.asarray(target), weight, ignore_index, smoothing, reduction


@case("cross_entropy_forward", "cross_entropy_forward_backward")
@st.composite
def cross_entropy_forward_case(draw):
    _, x, target, *rest = cross_entropy_arguments(draw)
    return (x, target, *rest)


@case("cross_entropy_backward")
@st.composite
def cross_entropy_backward_case(draw):
    rng, x, target, weight, ignore_index, smoothing, reduction = cross_entropy_arguments(draw)
    d_loss = array(draw, rng, target.shape if reduction == "none" else (), x.dtype)
    return x, target, d_loss, weight, ignore_index, smoothing, reduction


# ------------------------------------------------------------------------- flash attention
def sequence_length(draw):
    # Mostly tiny, sometimes past one 64-wide tile so blockwise kernels cross tile edges.
    return draw(st.one_of(st.integers(1, 6), st.integers(60, 140)))


@case("flash_attention_forward")
@st.composite
def flash_attention_forward_case(draw):
    """Broadcast batch dims, Lq ≠ Lk, bool / float / key-padding masks (some rows fully
    masked), causal or not (combined with a mask too), explicit or default scale."""
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    kv_batch = tuple(d if draw(st.booleans()) else 1 for d in batch)
    lq, lk, d, dv = sequence_length(draw), sequence_length(draw), sides(draw, 1, 5), \
        sides(draw, 1, 5)
    q = array(draw, rng, batch + (lq, d), dtype)
    k, v = array(draw, rng, kv_batch + (lk, d), dtype), array(draw, rng, kv_batch + (lk, dv), dtype)
    kind = draw(st.sampled_from(["none", "bool", "float", "padding"]))
    mask = None
    if kind == "bool":
        mask = rng.random((lq, lk)) > 0.3              # some rows may be fully masked
    elif kind == "float":
        mask = array(draw, rng, batch + (lq, lk), dtype)
        mask[..., : lq // 3, :] = -np.inf              # float −∞ rows: fully masked too
    elif kind == "padding":                            # (…, 1, Lk): the same keys for every row
        mask = rng.random(batch + (1, lk)) > 0.4
    scale = draw(st.one_of(st.none(), st.floats(0.1, 2.0)))
    return q, k, v, mask, scale, draw(st.booleans())


@case("flash_attention_backward")
@st.composite
def flash_attention_backward_case(draw):
    q, k, v, mask, scale, causal = draw(CASES["flash_attention_forward"])
    out, lse = CATALOGUE.reference_impl("flash_attention_forward")(q, k, v, mask, scale, causal)
    d_out = array(draw, rng_of(draw), out.shape, q.dtype)
    return q, k, v, out, lse, d_out, mask, scale, causal


# ------------------------------------------------------------------------- embedding (sparse)
@case("embedding_backward")
@st.composite
def embedding_backward_case(draw):
    rng, dtype = rng_of(draw), draw(st.sampled_from(DTYPES))
    num_embeddings, features = sides(draw, 1, 6), sides(draw, 1, 5)
    id_shape = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    # Few rows, many positions: ids repeat, so the accumulation is exercised.
    indices = rng.integers(0, num_embeddings, id_shape).astype(
        draw(st.sampled_from([np.int64, np.int32])))
    padding_idx = draw(st.one_of(st.none(), st.integers(0, num_embeddings - 1)))
    grad = array(draw, rng, id_shape + (features,), dtype)
    return grad, np.asarray(indices), num_embeddings, padding_idx


# ------------------------------------------------------------------------- int8 GEMM (quantized)
@case("int8_gemm")
@st.composite
def int8_gemm_case(draw):
    """Ragged sizes, the full 8-bit ranges (extremes included), int8 or uint8 activations,
    any layout."""
    rng = rng_of(draw)
    m, k, n = sides(draw, 1, 9), sides(draw, 1, 40), sides(draw, 1, 9)
    a_dtype = draw(st.sampled_from([np.int8, np.uint8]))
    info = np.iinfo(a_dtype)
    a = rng.integers(info.min, info.max + 1, (m, k)).astype(a_dtype)
    b = rng.integers(-128, 128, (n, k)).astype(np.int8)
    if draw(st.booleans()):
        a[0, :] = info.min
        b[0, :] = -128
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "permuted":
        return np.asfortranarray(a), np.asfortranarray(b)
    if layout == "strided":
        wide = np.zeros((m, 2 * k), dtype=a_dtype)
        wide[:, ::2] = a
        return wide[:, ::2], b
    return a, b
