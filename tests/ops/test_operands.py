"""The argument checks shared by ops and nn (ops/operands.py): ``check_tensor``'s PyTorch
message and ``int_pair``'s accepted forms and caller-worded errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.operands import check_tensor, int_pair

MESSAGE = "{op}: bad {name}={value!r} ({listed})"


def test_check_tensor_passes_tensors_and_names_the_argument():
    check_tensor(mg.ones(2), "exp")
    with pytest.raises(TypeError, match=r"^exp\(\): argument 'input' must be Tensor, not list$"):
        check_tensor([1.0], "exp")
    with pytest.raises(TypeError, match=r"^copy_\(\): argument 'src' must be Tensor, not float$"):
        check_tensor(1.0, "copy_", "src")


@pytest.mark.parametrize("value, pair", [(3, (3, 3)), (np.int64(2), (2, 2)), ((4,), (4, 4)),
                                         ([1, 2], (1, 2)), ((np.int32(5), 6), (5, 6))])
def test_int_pair_accepts_an_int_or_one_or_two_ints(value, pair):
    result = int_pair(value, "stride", "conv2d", MESSAGE)
    assert result == pair and all(type(v) is int for v in result)


@pytest.mark.parametrize("value, shown", [
    ((1, 2, 3), "stride=(1, 2, 3) ([1, 2, 3])"), ((), "stride=() ([])"),
    (True, "stride=True (True)"), (2.0, "stride=2.0 (2.0)"),
    ((1, 2.5), "stride=(1, 2.5) ([1, 2.5])")])
def test_int_pair_raises_the_callers_message(value, shown):
    with pytest.raises(RuntimeError) as info:
        int_pair(value, "stride", "max_pool2d", MESSAGE)
    assert str(info.value) == f"max_pool2d: bad {shown}"
