"""Tensor's operator and method surface, in one table (DeZero's ``setup_variable`` idea).

``minigrad/tensor.py`` defines the class: its attributes, Python/numpy conversions and
``detach``. Everything else a user calls on a tensor is a functional op of
``minigrad/ops/`` (or the autograd front end) bound here, so ``t.exp()`` *is*
``mg.exp(t)`` and a reader finds every method's definition from this page:

* ``SAME_NAME`` — per op family (the file ``minigrad/ops/<family>.py``), the methods
  named like their function (``Tensor.sum`` is ``minigrad/ops/reduction.py:sum``);
* ``OPERATORS`` — Python's operator protocol (``t + u``, ``2 - t``, ``t[i]``, ``t += u``);
* ``OTHER_NAMES`` — methods whose function has another name, or aliases (``Tensor.abs``
  and ``Tensor.absolute``, ``Tensor.backward``);
* ``PROPERTIES`` — ``t.T`` and ``t.mT``.

``bind(Tensor)`` runs once, from ``minigrad/__init__.py`` after the ops are imported.
``minigrad/tensor.pyi`` (generated from this table and the class, checked by
``tests/test_tensor_surface.py``) lets editors and type checkers see the whole surface.
"""
import importlib

from . import creation, tensor_types
from .autograd import functional as autograd_functional, hooks as autograd_hooks
from .ops.operands import accept_numpy_names
from .ops import (arithmetic, conversion, indexing, inplace, inplace_forms, linalg, logic,
                  pointwise_piecewise,
                  rounding, shape, sparse)
from .tensor import Tensor

SAME_NAME = {
    "arithmetic": ("add", "sub", "mul", "div", "neg", "pow", "eq", "ne", "lt", "le", "gt", "ge",
                 "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_not", "positive", "true_divide"),
    "pointwise": ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                "reciprocal", "square", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid",
                "erf", "erfc"),
    "pointwise_inverse": ("asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos",
                          "arctan", "arcsinh", "arccosh", "arctanh", "sinc", "deg2rad",
                          "rad2deg"),
    "pointwise_binary": ("atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "xlogy",
                         "copysign", "lerp"),
    "pointwise_piecewise": ("maximum", "minimum", "clamp", "clip", "clamp_min", "clamp_max",
                          "abs", "absolute", "relu"),
    "rounding": ("floor_divide", "remainder", "fmod", "floor", "ceil", "trunc", "fix", "round",
               "sign", "frac", "nan_to_num", "isnan", "isinf", "isfinite", "isposinf",
               "isneginf"),
    "reduction": ("sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax",
                "argmin"),
    "statistics": ("nansum", "nanmean", "aminmax"),
    "norms": ("norm",),
    "logic": ("isclose", "allclose", "equal", "all", "any", "count_nonzero",
              "bitwise_left_shift", "bitwise_right_shift"),
    "softmax": ("softmax", "log_softmax", "logsumexp"),
    "shape": ("reshape", "view", "view_as", "reshape_as", "flatten", "unflatten", "squeeze",
            "unsqueeze", "permute", "transpose", "swapaxes", "swapdims", "t", "movedim",
            "moveaxis", "ravel"),
    "broadcast": ("broadcast_to", "expand", "expand_as", "sum_to_size"),
    "joining": ("split", "chunk", "unbind", "narrow", "select"),
    "indexing": ("gather", "index_select", "take_along_dim"),
    "masking": ("masked_fill", "tril", "triu"),
    "rearrange": ("flip", "fliplr", "flipud", "roll", "repeat", "tile", "repeat_interleave",
                  "diag", "diagonal", "diag_embed", "trace", "unfold", "nonzero", "argwhere",
                  "masked_select"),
    "sorting": ("sort", "argsort", "msort", "topk", "kthvalue", "unique"),
    "cumulative": ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"),
    "scatter": ("scatter", "scatter_", "scatter_add", "scatter_add_", "scatter_reduce",
                "scatter_reduce_", "index_add", "index_add_", "index_copy", "index_copy_",
                "index_fill", "index_fill_", "masked_scatter", "masked_scatter_"),
    "linalg": ("matmul", "mm", "bmm", "dot", "outer"),
    "conversion": ("to", "clone", "contiguous"),
    "sampling": ("multinomial", "bernoulli", "normal_", "uniform_", "bernoulli_"),
    "inplace": ("add_", "sub_", "mul_", "div_", "clamp_", "masked_fill_", "fill_", "zero_",
              "copy_", "lerp_", "pow_", "floor_divide_", "remainder_", "bitwise_and_",
              "bitwise_or_", "bitwise_xor_", "bitwise_left_shift_", "bitwise_right_shift_"),
    "inplace_forms": ("addcmul", "addcdiv", "negative", "squeeze_", "unsqueeze_", "t_",
                      "transpose_"),
}

OPERATORS = {
    "__add__": arithmetic.add, "__radd__": arithmetic.radd, "__iadd__": inplace.add_,
    "__sub__": arithmetic.sub, "__rsub__": arithmetic.rsub, "__isub__": inplace.sub_,
    "__mul__": arithmetic.mul, "__rmul__": arithmetic.rmul, "__imul__": inplace.mul_,
    "__truediv__": arithmetic.div, "__rtruediv__": arithmetic.rtruediv,
    "__itruediv__": inplace.div_,
    "__floordiv__": rounding.floor_divide, "__rfloordiv__": rounding.rfloordiv,
    "__mod__": rounding.remainder, "__rmod__": rounding.rmod,
    "__pow__": arithmetic.pow, "__rpow__": arithmetic.rpow,
    "__ifloordiv__": inplace.floor_divide_, "__imod__": inplace.remainder_,
    "__ipow__": inplace.pow_, "__iand__": inplace.bitwise_and_, "__ior__": inplace.bitwise_or_,
    "__ixor__": inplace.bitwise_xor_, "__ilshift__": inplace.bitwise_left_shift_,
    "__irshift__": inplace.bitwise_right_shift_,
    "__matmul__": linalg.matmul, "__rmatmul__": linalg.rmatmul,
    "__neg__": arithmetic.neg, "__pos__": arithmetic.positive,
    "__abs__": pointwise_piecewise.abs, "__invert__": arithmetic.bitwise_not,
    "__and__": arithmetic.bitwise_and, "__or__": arithmetic.bitwise_or,
    "__xor__": arithmetic.bitwise_xor,
    "__rand__": logic.rand, "__ror__": logic.ror, "__rxor__": logic.rxor,
    "__lshift__": logic.bitwise_left_shift, "__rlshift__": logic.rlshift,
    "__rshift__": logic.bitwise_right_shift, "__rrshift__": logic.rrshift,
    "__eq__": arithmetic.comparison_operator(arithmetic.eq),
    "__ne__": arithmetic.comparison_operator(arithmetic.ne),
    "__lt__": arithmetic.comparison_operator(arithmetic.lt),
    "__le__": arithmetic.comparison_operator(arithmetic.le),
    "__gt__": arithmetic.comparison_operator(arithmetic.gt),
    "__ge__": arithmetic.comparison_operator(arithmetic.ge),
    "__contains__": arithmetic.contains,
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
    "__format__": conversion.format_tensor,
}

OTHER_NAMES = {
    "backward": autograd_functional.tensor_backward,
    "where": pointwise_piecewise.where_method,
    "clip_": inplace.clamp_,
    "to_sparse": sparse.to_sparse,
    "register_hook": autograd_hooks.register_hook,
    "register_post_accumulate_grad_hook": autograd_hooks.register_post_accumulate_grad_hook,
    "type": tensor_types.tensor_type,
    "nelement": Tensor.numel,
    "new_zeros": creation.new_zeros, "new_ones": creation.new_ones,
    "new_empty": creation.new_empty, "new_full": creation.new_full,
    "new_tensor": creation.new_tensor,
    **inplace.WRITTEN_BACK,
}

PROPERTIES = {"T": shape.transpose_2d, "mT": shape.matrix_transpose,
              **{name: tensor_types.always_false
                 for name in ("is_sparse", "is_quantized", "is_meta", "is_xpu", "is_mps")}}


def methods():
    """Every bound method as ``{name: function}``."""
    table = {}
    for family, names in SAME_NAME.items():
        module = importlib.import_module(f"{__package__}.ops.{family}")
        table.update((name, accept_numpy_names(getattr(module, name))) for name in names)
    table.update(OPERATORS)
    table.update(OTHER_NAMES)
    # exp_, sqrt_, pow_, eq_, addcmul_, …: generated from their out-of-place ops.
    table.update((name, fn) for name, fn in inplace_forms.methods().items() if name not in table)
    return table


def bind(cls):
    """Attach the table to ``cls`` (Tensor). Defining ``__eq__`` this way keeps the class's
    own ``__hash__`` (identity), as PyTorch's tensors hash."""
    for name, function in methods().items():
        setattr(cls, name, function)
    for name, getter in PROPERTIES.items():
        setattr(cls, name, property(getter))
