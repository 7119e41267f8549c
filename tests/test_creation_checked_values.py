"""Creation refuses values its dtype cannot hold, with PyTorch's error classes: no silent
wrap-around of Python numbers into integer dtypes (``tensor([2**40], dtype=int32)`` was 0),
no NaN turned into the minimum int64, no integers beyond int64, no complex numbers."""
import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:          # the oracle is optional: skip the module, never fail collection
    pytest.skip("torch (the oracle) is not installed", allow_module_level=True)

NAN, INF = float("nan"), float("inf")

# (expression over a library `L`), each raising in PyTorch 2.13
REFUSED = [
    "L.tensor([2**40], dtype=L.int32)", "L.tensor([1e10], dtype=L.int32)",
    "L.tensor([NAN], dtype=L.int64)", "L.tensor(INF, dtype=L.int32)",
    "L.tensor([300], dtype=L.uint8)", "L.tensor([-256], dtype=L.uint8)",
    "L.tensor([-129], dtype=L.int8)", "L.tensor([True, 2**40], dtype=L.int16)",
    "L.tensor([-1e30], dtype=L.int64)", "L.as_tensor([2**40], dtype=L.int32)",
    "L.tensor([2**70])", "L.tensor([2**63])", "L.tensor([[1, 2**64]])", "L.tensor(None)",
    "L.tensor([[1, 2], [3]])",
    "L.full((2,), 2**40, dtype=L.int32)", "L.full((2,), NAN, dtype=L.int64)",
    "L.empty(2, dtype=L.int32).fill_(2**40)", "L.zeros(2, dtype=L.int8).fill_(INF)",
    "L.zeros(2.5)", "L.ones(2, 3.0)", "L.zeros(-1)",
    "L.arange(0, NAN)", "L.arange(0, INF)", "L.arange(0, 10, NAN)",
    "L.randint(0, 2**40, (2,), dtype=L.int32)",
]

# (expression), each accepted by PyTorch with these values
ACCEPTED = [
    "L.tensor([-1], dtype=L.uint8)", "L.tensor([-255, 255], dtype=L.uint8)",
    "L.tensor([1.5, -2.7], dtype=L.int32)", "L.tensor([2**31 - 1, -2**31], dtype=L.int32)",
    "L.tensor([-2**63])", "L.tensor([1.0, 2**70])", "L.tensor([1e10], dtype=L.int64)",
    "L.tensor([2**40], dtype=L.bool)", "L.tensor([1e39], dtype=L.float32)",
    "L.tensor([70000], dtype=L.float16)", "L.tensor([True, 2], dtype=L.int8)",
    "L.full((2,), 127, dtype=L.int8)", "L.full((2,), -3, dtype=L.uint8)", "L.zeros(2, True)", "L.zeros(2, dtype=L.uint8).fill_(-3)",
    "L.tensor(np.array([2**40]), dtype=L.int32)",        # an array converts unchecked, as torch
]


def _evaluate(expression, library):
    return eval(expression, {"L": library, "np": np, "NAN": NAN, "INF": INF})


@pytest.mark.parametrize("expression", REFUSED)
def test_refused_with_torchs_error_class(expression):
    with pytest.raises(Exception) as theirs:
        _evaluate(expression, torch)
    with pytest.raises(theirs.type):
        _evaluate(expression, mg)


@pytest.mark.parametrize("expression", ACCEPTED)
def test_accepted_with_torchs_values(expression):
    theirs = _evaluate(expression, torch)
    ours = _evaluate(expression, mg)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_messages_name_the_dtype_and_the_value():
    with pytest.raises(RuntimeError, match="cannot be converted to type int32 without overflow"):
        mg.tensor([2**40], dtype=mg.int32)
    with pytest.raises(TypeError, match="type float at pos 1"):
        mg.ones(2, 3.0)
    with pytest.raises(RuntimeError, match="unsupported range: 0 -> nan"):
        mg.arange(0, NAN)


def test_complex_data_is_a_type_error_naming_complex():
    with pytest.raises(TypeError, match="complex"):
        mg.tensor(1 + 2j)
    with pytest.raises(TypeError, match="complex"):
        mg.tensor([1.0, 2j])


def test_binary_cross_entropy_refuses_targets_outside_zero_one():
    probabilities = mg.tensor([0.5, 0.25])
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        mg.nn.functional.binary_cross_entropy(probabilities, mg.tensor([2.0, 0.0]))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([0.5, 0.25]),
                                                 torch.tensor([2.0, 0.0]))
