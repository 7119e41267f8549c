"""Type promotion: for every binary operator and every kind of operand (tensors of each
dtype, 0-d tensors, Python and numpy scalars) the result dtype is PyTorch's — in particular
a float32 tensor is never widened by a Python or numpy scalar or by a 0-d tensor. Checked
against torch when it is installed, and against a hard-coded table always."""
import operator

import numpy as np
import pytest

import minigrad as mg
from minigrad import dtypes

OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
       "pow": operator.pow, "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
       "le": operator.le, "gt": operator.gt, "ge": operator.ge}
TENSOR_DTYPES = ("float32", "float64", "int64", "int32", "bool")


def _tensor(module, dtype, shape, device=None):
    # Values 1 and 2 keep every op defined for every dtype (no 0 ** -1, no overflow).
    values = np.full(shape, 2 if dtype != "bool" else 1).astype(dtype)
    return module.tensor(values.tolist(), dtype=getattr(module, dtype), device=device)


def make_operand(kind, module, device=None):
    """An operand of ``kind`` for ``module`` (minigrad or torch), tensors on ``device``."""
    if kind.endswith("_0d"):
        return _tensor(module, kind[:-3], (), device)
    if kind in TENSOR_DTYPES:
        return _tensor(module, kind, (2,), device)
    return {"py_int": 2, "py_float": 2.0, "py_bool": True, "np_float64": np.float64(2.0),
            "np_int64": np.int64(2)}[kind]


TENSOR_KINDS = list(TENSOR_DTYPES) + [d + "_0d" for d in TENSOR_DTYPES]
SCALAR_KINDS = ["py_int", "py_float", "py_bool", "np_float64", "np_int64"]
ALL_KINDS = TENSOR_KINDS + SCALAR_KINDS


def outcome(module, op, left, right, inplace=False, device=None):
    """The result's dtype name, or the exception type raised (operands on ``device``)."""
    a, b = make_operand(left, module, device), make_operand(right, module, device)
    try:
        out = getattr(a, op + "_")(b) if inplace else OPS[op](a, b)
    except Exception as e:  # noqa: BLE001 - the exception type is the outcome
        return type(e)
    return str(out.dtype).replace("torch.", "")


def assert_same_outcome(ours, theirs):
    if isinstance(theirs, type):
        # PyTorch's NotImplementedError is a RuntimeError subclass; either type matches it.
        assert isinstance(ours, type) and issubclass(theirs, ours) or ours is theirs, (ours, theirs)
    else:
        assert ours == theirs


# ---------------------------------------------------------------------- against torch
@pytest.mark.parametrize("left", ALL_KINDS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_binary_result_dtype_matches_torch(op, left, device):
    torch = pytest.importorskip("torch")
    mismatches = []
    for right in ALL_KINDS:
        if left in SCALAR_KINDS and right in SCALAR_KINDS:
            continue
        ours, theirs = outcome(mg, op, left, right, device=device), outcome(torch, op, left, right)
        try:
            assert_same_outcome(ours, theirs)
        except AssertionError:
            mismatches.append(f"{left} {op} {right}: minigrad {ours}, torch {theirs}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("left", TENSOR_KINDS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_inplace_result_dtype_matches_torch(op, left, device):
    torch = pytest.importorskip("torch")
    mismatches = []
    for right in ALL_KINDS:
        if left.endswith("_0d") and right in TENSOR_DTYPES:
            continue  # a 0-d tensor cannot hold the broadcast result (both raise)
        ours = outcome(mg, op, left, right, True, device=device)
        theirs = outcome(torch, op, left, right, True)
        try:
            assert_same_outcome(ours, theirs)
        except AssertionError:
            mismatches.append(f"{left} {op}_ {right}: minigrad {ours}, torch {theirs}")
    assert not mismatches, "\n".join(mismatches)


# ---------------------------------------------------------------------- hard-coded table
TABLE = [
    # float32 is preserved by Python/numpy scalars, 0-d tensors and integer tensors
    ("add", "float32", "py_float", "float32"), ("mul", "float32", "np_float64", "float32"),
    ("sub", "float32", "py_int", "float32"), ("div", "float32", "np_int64", "float32"),
    ("pow", "float32", "np_float64", "float32"), ("pow", "float32", "py_int", "float32"),
    ("add", "float32", "float64_0d", "float32"), ("mul", "float32", "int64", "float32"),
    ("add", "int64", "float32", "float32"), ("mul", "float32_0d", "int64", "float32"),
    ("add", "float32_0d", "int64_0d", "float32"), ("mul", "py_float", "float32", "float32"),
    ("sub", "np_float64", "float32", "float32"), ("div", "py_int", "float32", "float32"),
    # dimensioned tensors of one category promote among themselves
    ("add", "float32", "float64", "float64"), ("add", "int32", "int64", "int64"),
    ("add", "float32_0d", "float64_0d", "float64"),
    # a lower-priority operand of a higher category lifts the category only
    ("add", "int64", "py_float", "float32"), ("mul", "int32", "np_float64", "float32"),
    ("add", "int32", "float64_0d", "float64"), ("add", "bool", "py_int", "int64"),
    ("add", "bool", "np_int64", "int64"), ("mul", "bool", "py_float", "float32"),
    ("add", "int32", "py_int", "int32"), ("add", "int32", "np_int64", "int32"),
    ("add", "int32", "int64_0d", "int32"), ("add", "bool", "py_bool", "bool"),
    ("add", "bool", "bool", "bool"), ("pow", "py_int", "int32", "int32"),
    ("pow", "py_float", "int64", "float32"), ("pow", "int64", "py_float", "float32"),
    ("pow", "bool", "py_int", "int64"), ("pow", "bool", "py_bool", "bool"),
    # true division of integers gives the default float dtype
    ("div", "int64", "py_int", "float32"), ("div", "int32", "int32", "float32"),
    ("div", "bool", "bool", "float32"), ("div", "py_float", "int64_0d", "float32"),
    # comparisons give bool
    ("eq", "float32", "float64", "bool"), ("lt", "int64", "py_float", "bool"),
    ("ge", "np_float64", "int32_0d", "bool"),
    # PyTorch's refusals
    ("sub", "bool", "bool", RuntimeError), ("sub", "float32", "py_bool", RuntimeError),
    ("sub", "py_int", "bool", RuntimeError), ("pow", "bool", "bool_0d", NotImplementedError),
    ("pow", "int64", "int64", "int64"),
]


@pytest.mark.parametrize("op,left,right,expected", TABLE)
def test_promotion_table(op, left, right, expected, device):
    assert_same_outcome(outcome(mg, op, left, right, device=device), expected)


INPLACE_TABLE = [
    ("add", "float32", "float64", "float32"), ("add", "float32", "np_float64", "float32"),
    ("mul", "float32", "int64", "float32"), ("add", "int64", "int32", "int64"),
    ("add", "int32", "py_int", "int32"), ("add", "float32_0d", "float64_0d", "float32"),
    ("add", "int64", "py_float", RuntimeError), ("add", "int64", "float32", RuntimeError),
    ("mul", "int32", "np_float64", RuntimeError), ("div", "int64", "py_int", RuntimeError),
    ("add", "bool", "py_int", RuntimeError), ("sub", "float32", "bool", RuntimeError),
    ("add", "bool", "bool", "bool"),
]


@pytest.mark.parametrize("op,left,right,expected", INPLACE_TABLE)
def test_inplace_promotion_table(op, left, right, expected, device):
    assert_same_outcome(outcome(mg, op, left, right, inplace=True, device=device), expected)



# ---------------------------------------------------------------------- details
def test_integer_inplace_with_float_raises_and_leaves_the_tensor_unchanged(device):
    x = mg.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.mul_(mg.tensor([0.5, 0.5, 0.5], device=device))
    assert x.tolist() == [1, 2, 3] and x._version == 0


def test_float32_inplace_with_float64_keeps_float32_values(device):
    x = mg.tensor([1.0, 2.0], device=device)
    x += mg.tensor([0.5, 0.25], dtype=mg.float64, device=device)
    assert x.dtype == mg.float32 and x.tolist() == [1.5, 2.25]


def test_operator_forms_agree_with_functions(device):
    x = mg.ones(2, dtype=mg.int32, device=device)
    assert mg.add(x, 1.5).dtype == (x + 1.5).dtype == mg.float32
    assert mg.mul(2, x).dtype == mg.int32
    assert mg.pow(x, 2.0).dtype == mg.float32


def test_gradient_comes_back_in_each_input_dtype(device):
    a = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True, device=device)
    out = a * b
    assert out.dtype == mg.float64
    out.backward(mg.ones(2, dtype=mg.float64, device=device))
    assert a.grad.dtype == mg.float32 and b.grad.dtype == mg.float64
    assert a.grad.tolist() == [3.0, 4.0]


def test_promote_types_is_torch_like():
    assert dtypes.promote_types(mg.float32, mg.int64) == mg.float32
    assert dtypes.promote_types(mg.int64, mg.float16) == mg.float16
    assert dtypes.promote_types(mg.uint8, mg.int8) == mg.int16
    assert dtypes.promote_types(mg.bool, mg.uint8) == mg.uint8
    assert dtypes.promote_types(mg.float16, mg.float32) == mg.float32


def test_default_dtype_is_what_python_floats_become():
    previous = mg.get_default_dtype()
    try:
        mg.set_default_dtype(mg.float64)
        assert (mg.tensor([1, 2]) * 1.5).dtype == mg.float64
        assert (mg.ones(2, dtype=mg.float32) * 1.5).dtype == mg.float32
    finally:
        mg.set_default_dtype(previous)
