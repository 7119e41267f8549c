"""The rest of the in-place forms PyTorch gives its pointwise ops (``t.expm1_()``,
``t.sinh_()``, ``t.eq_(u)``, ``t.addcmul_(a, b, value=v)``, …: every op below that
``inplace.WRITTEN_BACK`` does not already cover), each ``inplace._written_back`` of its
out-of-place op (PyTorch's in-place dtype and shape rules, nothing written on error), and
the in-place shape changes ``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``.

Also ``addcmul``/``addcdiv``: ``input + value·t1·t2`` and ``input + value·t1/t2``.
"""
from . import (arithmetic, pointwise, pointwise_binary, pointwise_inverse, pointwise_piecewise,
               rounding, shape)
from . import inplace
from ..amp.autocast_mode import autocast_op

__all__ = ["addcmul", "addcdiv", "negative", "rsub"]


@autocast_op("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1·tensor2 (broadcast); the VJPs are those of the composition."""
    return input + value * (tensor1 * tensor2)


@autocast_op("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1/tensor2 (broadcast; integer tensor1 and tensor2 are refused,
    as in PyTorch)."""
    if tensor1.dtype.kind in "iub" and tensor2.dtype.kind in "iub":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 "
                           "and tensor2. Use torch.addcmul with the reciprocal instead.")
    return input + value * (tensor1 / tensor2)


def negative(input):
    return arithmetic.neg(input)


def rsub(input, other, alpha=1):
    """other − alpha·input (``torch.rsub``)."""
    return arithmetic.sub(other, input * alpha if alpha != 1 else input)


_SOURCES = {
    pointwise: ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                "reciprocal", "square", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid",
                "erf", "erfc", "sinc"),
    pointwise_inverse: ("asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos",
                        "arctan", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg"),
    pointwise_binary: ("atan2", "arctan2", "hypot", "copysign", "xlogy", "logaddexp"),
    pointwise_piecewise: ("abs", "absolute", "relu", "clamp_min", "clamp_max", "clip"),
    rounding: ("floor", "ceil", "trunc", "fix", "round", "sign", "frac", "nan_to_num",
               "remainder", "fmod", "floor_divide"),
    arithmetic: ("neg", "pow", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
                 "logical_or", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor"),
}


def methods():
    """{``exp_``: in-place exp, …} for every op above that exists (built once)."""
    return _METHODS


def _build_methods():
    table = {}
    for module, names in _SOURCES.items():
        for name in names:
            if hasattr(module, name) and f"{name}_" not in inplace.WRITTEN_BACK:
                table[name + "_"] = inplace._written_back(getattr(module, name), name + "_")
    for name, function in (("negative", negative), ("logical_xor", arithmetic.logical_xor),
                           ("addcmul", addcmul), ("addcdiv", addcdiv),
                           ("true_divide", arithmetic.true_divide)):
        table[name + "_"] = inplace._written_back(function, name + "_")
    return table


_METHODS = _build_methods()


# ---------------------------------------------------------------------- in-place shape changes
def _reshaped_in_place(self, result):
    """Make ``self`` the view ``result`` (same storage): its array, and when recorded its
    place in the graph."""
    self.array = result.array
    if result.grad_fn is not None:
        result.grad_fn._rebind_output(self)
    return self


def squeeze_(self, dim=None):
    return _reshaped_in_place(self, shape.squeeze(self) if dim is None else shape.squeeze(self, dim))


def unsqueeze_(self, dim):
    return _reshaped_in_place(self, shape.unsqueeze(self, dim))


def t_(self):
    return _reshaped_in_place(self, shape.t(self))


def transpose_(self, dim0, dim1):
    return _reshaped_in_place(self, shape.transpose(self, dim0, dim1))
