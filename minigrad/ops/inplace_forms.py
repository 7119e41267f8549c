"""The in-place forms PyTorch gives its pointwise ops: ``t.exp_()``, ``t.sqrt_()``,
``t.pow_(2)``, ``t.eq_(u)``, ``t.addcmul_(a, b, value=v)``, … and the in-place shape
changes ``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``.

An in-place form is its out-of-place op written back into the tensor: with only numbers as
extra arguments, ``inplace._Apply`` runs the op inside ``Function.apply_inplace`` (version
bump, leaf check, the tensor becomes the node's output; the VJP is the op's own); with
tensor arguments the op runs on a clone of the tensor (so a saved input is never the
written array) and ``copy_`` writes the result. Either way the result must fit the tensor:
a result of a higher category (a float from an integer tensor) or another shape raises
PyTorch's RuntimeError and changes nothing.

Also ``addcmul``/``addcdiv``: ``input + value·t1·t2`` and ``input + value·t1/t2``.
"""
import functools

from ..tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..dtypes import category
from . import (arithmetic, pointwise, pointwise_binary, pointwise_inverse, pointwise_piecewise,
               rounding, shape)
from .inplace import _Apply, copy_

__all__ = ["addcmul", "addcdiv", "negative", "rsub"]


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1·tensor2 (broadcast); the VJPs are those of the composition."""
    return input + value * (tensor1 * tensor2)


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


def _written_back(self, result, name):
    if category(result.dtype) > category(self.dtype):
        raise RuntimeError(f"result type {str(result.dtype).capitalize()} can't be cast to the "
                           f"desired output type {str(self.dtype).capitalize()} (in {name})")
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(result.shape)} (in {name})")
    return copy_(self, result)


# Results with no derivative (comparisons, logic): written with a zero gradient, as PyTorch.
_NOT_DIFFERENTIABLE = {"eq_", "ne_", "lt_", "le_", "gt_", "ge_", "logical_not_", "logical_and_",
                       "logical_or_", "logical_xor_", "bitwise_not_", "bitwise_and_",
                       "bitwise_or_", "bitwise_xor_"}


def inplace_form(function, name):
    """``Tensor.<name>``: ``function`` (an out-of-place op) written back into the tensor."""
    @functools.wraps(function)
    def method(self, *args, **kwargs):
        if name in _NOT_DIFFERENTIABLE:
            with no_grad():
                result = function(self.detach(), *args, **kwargs)
            linked = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
            if linked and is_grad_enabled():
                # PyTorch gives tensor arguments a zero gradient, not none: link each by a
                # masked-out copy (exactly 0, even where it holds inf).
                result = result.to(self.dtype)
                for a in linked:
                    everywhere = Tensor._wrap(a.xp.ones(a.shape, dtype=bool))
                    result = result + a.masked_fill(everywhere, 0)
            return _written_back(self, result, name)
        if any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
            source = self.clone() if is_grad_enabled() else self
            return _written_back(self, function(source, *args, **kwargs), name)
        op = functools.partial(function, **kwargs) if kwargs else function
        if self.dtype.kind in "iub" and self.numel():
            # An integer tensor whose result would be float is refused before any write.
            probe = function(self.detach().reshape(-1)[:1], *args, **kwargs)
            if category(probe.dtype) > category(self.dtype):
                raise RuntimeError(f"result type {str(probe.dtype).capitalize()} can't be cast "
                                   f"to the desired output type "
                                   f"{str(self.dtype).capitalize()} (in {name})")
        return _Apply.apply_inplace(self, op, *args)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{function.__name__}`` (see ``ops/inplace_forms.py``)."
    return method


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
            if hasattr(module, name):
                table[name + "_"] = inplace_form(getattr(module, name), name + "_")
    for name, function in (("negative", negative), ("logical_xor", arithmetic.logical_xor),
                           ("addcmul", addcmul), ("addcdiv", addcdiv),
                           ("true_divide", arithmetic.true_divide)):
        table[name + "_"] = inplace_form(function, name + "_")
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
