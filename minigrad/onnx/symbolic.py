"""How each recorded Function becomes ONNX nodes (PyTorch calls these "symbolic"
functions): ``SYMBOLICS[FunctionClass](g, record) -> [output names]``, one name per output
of the op (None for an output ONNX does not produce, such as max-pool's indices).

``g`` is the graph under construction (``export.GraphBuilder``): ``g.value(t)`` names a
tensor argument, ``g.op(type, *inputs, outputs=1, **attributes)`` appends a node,
``g.const(array)`` an initializer, ``g.opset`` the target opset (17 or newer), and
``g.reshape_target(record)`` a Reshape's target shape with the dynamic axes as −1.

Only the ops the registry's exportable models use are here (the MLPs, the CNN, the
ResNets, the GPT); anything else raises ``UnsupportedOperatorError`` naming the op.
"""
import math

import numpy as np

from ..ops.activation import Gelu
from ..ops.arithmetic import Add, Div, Mul, Sub
from ..ops.attention import ScaledDotProductAttention
from ..ops.convolution import Conv2d, Conv2dInputGrad
from ..ops.indexing import EmbeddingLookup
from ..ops.joining import Split
from ..ops.linalg import Linear, MatMul
from ..ops.normalization import LayerNorm
from ..ops.pointwise import Exp, Rsqrt, Sigmoid, Sqrt, Tanh
from ..ops.pointwise_piecewise import Relu
from ..ops.pooling import MaxPool2d
from ..ops.reduction import Mean
from ..ops.shape import Permute, Reshape

__all__ = ["SYMBOLICS", "SIZE_ARGUMENTS", "UnsupportedOperatorError"]


class UnsupportedOperatorError(RuntimeError):
    """An op the exporter has no ONNX translation for (torch.onnx.errors'
    UnsupportedOperatorError)."""


def _elementwise(onnx_type):
    def convert(g, record):
        out_dtype = record.outputs[0].array.dtype
        names = [g.value(t, cast_to=out_dtype) for t in record.args[:2]]
        return [g.op(onnx_type, *names)]
    convert.__name__ = f"convert_{onnx_type.lower()}"
    return convert


def _unary(onnx_type):
    def convert(g, record):
        return [g.op(onnx_type, g.value(record.args[0]))]
    convert.__name__ = f"convert_{onnx_type.lower()}"
    return convert


def convert_rsqrt(g, record):
    return [g.op("Reciprocal", g.op("Sqrt", g.value(record.args[0])))]


def convert_reshape(g, record):
    shape = g.const(np.asarray(g.reshape_target(record), dtype=np.int64))
    return [g.op("Reshape", g.value(record.args[0]), shape)]


def convert_permute(g, record):
    return [g.op("Transpose", g.value(record.args[0]), perm=[int(d) for d in record.args[1]])]


def convert_linear(g, record):
    x, weight = record.args[0], record.args[1]
    bias = record.args[2] if len(record.args) > 2 else record.kwargs.get("bias")
    if x.ndim != 2:   # F.linear folds leading dimensions first, so this is direct use
        raise UnsupportedOperatorError(f"Linear on a {x.ndim}-d input (expected (N, in))")
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    return [g.op("Gemm", *inputs, transB=1)]


def convert_matmul(g, record):
    return [g.op("MatMul", g.value(record.args[0]), g.value(record.args[1]))]


def _ints(values, name, op):
    if not all(isinstance(v, (int, np.integer)) for v in values):
        raise UnsupportedOperatorError(f"{op} with {name}={values!r} (ONNX needs integers)")
    return [int(v) for v in values]


def convert_conv2d(g, record):
    x, weight, geometry = record.args[:3]
    pad = _ints(geometry.padding, "padding", "Conv2d")
    return [g.op("Conv", g.value(x), g.value(weight), strides=_ints(geometry.stride, "stride",
                 "Conv2d"), pads=pad + pad, dilations=_ints(geometry.dilation, "dilation",
                 "Conv2d"), group=int(geometry.groups))]


def convert_conv_transpose2d(g, record):
    """``F.conv_transpose2d`` is the input gradient of a convolution: ONNX ConvTranspose,
    with the output size's remainder as output_padding (so the batch may vary)."""
    x, weight, x_shape, geometry = record.args[:4]
    stride = _ints(geometry.stride, "stride", "conv_transpose2d")
    pad = _ints(geometry.padding, "padding", "conv_transpose2d")
    dilation = _ints(geometry.dilation, "dilation", "conv_transpose2d")
    kernel = weight.shape[-2:]
    extra = [int(x_shape[2 + i]) - (stride[i] * (x.shape[2 + i] - 1) + dilation[i] *
             (kernel[i] - 1) + 1 - 2 * pad[i]) for i in range(2)]
    return [g.op("ConvTranspose", g.value(x), g.value(weight), strides=stride, pads=pad + pad,
                 dilations=dilation, group=int(geometry.groups), output_padding=extra)]


def convert_max_pool2d(g, record):
    x, window = record.args[:2]
    pad = _ints(window.padding, "padding", "MaxPool2d")
    y = g.op("MaxPool", g.value(x), kernel_shape=_ints(window.kernel_size, "kernel_size",
             "MaxPool2d"), strides=_ints(window.stride, "stride", "MaxPool2d"), pads=pad + pad,
             dilations=_ints(window.dilation, "dilation", "MaxPool2d"),
             ceil_mode=int(bool(window.ceil_mode)))
    return [y, None]   # minigrad's indices count within a plane, ONNX's across the tensor


def convert_mean(g, record):
    x, axes, keepdim = record.args[:3]
    axes = list(range(x.ndim)) if axes is None else \
        [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
    if g.opset >= 18:
        return [g.op("ReduceMean", g.value(x), g.const(np.asarray(axes, dtype=np.int64)),
                     keepdims=int(bool(keepdim)))]
    return [g.op("ReduceMean", g.value(x), axes=axes, keepdims=int(bool(keepdim)))]


def convert_embedding(g, record):
    weight, ids = record.args[:2]
    return [g.op("Gather", g.value(weight), g.value(ids), axis=0)]


def convert_layer_norm(g, record):
    x, weight, bias, normalized_ndim, eps = record.args[:5]
    shape = x.shape[x.ndim - normalized_ndim:]
    scale = g.value(weight) if weight is not None else \
        g.const(np.ones(shape, dtype=x.array.dtype))
    inputs = [g.value(x), scale] + ([g.value(bias)] if bias is not None else [])
    return [g.op("LayerNormalization", *inputs, axis=-int(normalized_ndim), epsilon=float(eps))]


def convert_split(g, record):
    x, sizes, dim = record.args[:3]
    outputs = g.op("Split", g.value(x), g.const(np.asarray(sizes, dtype=np.int64)),
                   axis=int(dim), outputs=len(sizes))
    return list(outputs) if len(sizes) > 1 else [outputs]


def convert_attention(g, record):
    """softmax(scale · Q Kᵀ [masked]) V, with the causal mask built from the scores'
    runtime shape (Trilu of ones), so the sequence length may vary."""
    query, key, value, mask, scale, causal = record.args[:6]
    dtype = query.array.dtype
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    perm = list(range(key.ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    scores = g.op("MatMul", g.value(query), g.op("Transpose", g.value(key), perm=perm))
    scores = g.op("Mul", scores, g.const(np.asarray(scale, dtype=dtype)))
    minus_inf = g.const(np.asarray(-np.inf, dtype=dtype))
    if causal:
        ones = g.op("ConstantOfShape", g.op("Shape", scores),
                    value=g.tensor_attribute(np.ones(1, dtype=np.int64)))
        keep = g.op("Cast", g.op("Trilu", ones, upper=0), to=g.onnx_type(np.bool_))
        scores = g.op("Where", keep, scores, minus_inf)
    if mask is not None:
        mask = np.asarray(mask.get() if hasattr(mask, "get") else mask)
        if mask.dtype == np.bool_:
            scores = g.op("Where", g.const(mask), scores, minus_inf)
        else:
            scores = g.op("Add", scores, g.const(mask.astype(dtype)))
    weights = g.op("Softmax", scores, axis=-1)
    return [g.op("MatMul", weights, g.value(value))]


def convert_gelu(g, record):
    x, approximate = record.args[0], record.args[1]
    dtype = x.array.dtype
    name = g.value(x)

    def c(v):
        return g.const(np.asarray(v, dtype=dtype))
    if approximate == "tanh":
        cube = g.op("Mul", g.op("Mul", name, name), name)
        inner = g.op("Mul", g.op("Add", name, g.op("Mul", cube, c(0.044715))),
                     c(math.sqrt(2.0 / math.pi)))
        gate = g.op("Add", g.op("Tanh", inner), c(1.0))
    else:
        gate = g.op("Add", g.op("Erf", g.op("Mul", name, c(math.sqrt(0.5)))), c(1.0))
    return [g.op("Mul", g.op("Mul", name, gate), c(0.5))]


SYMBOLICS = {
    Add: _elementwise("Add"), Sub: _elementwise("Sub"), Mul: _elementwise("Mul"),
    Div: _elementwise("Div"), Relu: _unary("Relu"), Exp: _unary("Exp"), Sqrt: _unary("Sqrt"),
    Tanh: _unary("Tanh"), Sigmoid: _unary("Sigmoid"), Rsqrt: convert_rsqrt,
    Conv2dInputGrad: convert_conv_transpose2d, Reshape: convert_reshape,
    Permute: convert_permute, Linear: convert_linear, MatMul: convert_matmul,
    Conv2d: convert_conv2d, MaxPool2d: convert_max_pool2d, Mean: convert_mean,
    EmbeddingLookup: convert_embedding, LayerNorm: convert_layer_norm, Split: convert_split,
    ScaledDotProductAttention: convert_attention, Gelu: convert_gelu,
}

#: Ops whose non-tensor arguments hold sizes that follow the batch (a reshape's target, a
#: transposed convolution's output shape): their converters handle a dynamic axis
#: themselves, so the exporter does not refuse them when those sizes change.
SIZE_ARGUMENTS = {Reshape, Conv2dInputGrad}
