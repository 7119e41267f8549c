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


# ---------------------------------------------------------------------- axis= / keepdims=
# (function name, extra positional args) of ops PyTorch's parser gives numpy's keywords.
AXIS_OPS = [("sum", ()), ("mean", ()), ("var", ()), ("std", ()), ("prod", ()), ("amax", ()),
            ("amin", ()), ("argmax", ()), ("argmin", ()), ("logsumexp", ()), ("all", ()),
            ("any", ()), ("nansum", ()), ("nanmean", ()), ("max", ()), ("min", ()),
            ("std_mean", ()), ("var_mean", ()), ("aminmax", ())]


def _values(result):
    if isinstance(result, tuple):
        return [_values(r) for r in result]
    return np.round(np.asarray(result.tolist(), dtype=np.float64), 12).tolist()


@pytest.mark.parametrize("name, extra", AXIS_OPS)
def test_axis_and_keepdims_alias_dim_and_keepdim_like_torch(name, extra):
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3) % 4
    x, tx = mg.tensor(a), torch.tensor(a)
    for target, t in ((mg, torch), (x, tx)):
        if target is x and not hasattr(tx, name):  # torch.std_mean has no method form
            continue
        mine = getattr(target if target is mg else x, name)
        theirs = getattr(t if t is torch else tx, name)
        args = (x,) if target is mg else ()
        targs = (tx,) if t is torch else ()
        expected = _values(theirs(*targs, axis=1, keepdims=True))
        assert _values(mine(*args, axis=1, keepdims=True)) == expected
        assert _values(mine(*args, dim=1, keepdim=True)) == expected


def test_axis_alias_on_dim_taking_ops_and_errors():
    torch = pytest.importorskip("torch")
    x = mg.arange(6.0).reshape(2, 3)
    tx = torch.arange(6.0).reshape(2, 3)
    assert mg.cat([x, x], axis=1).shape == torch.cat([tx, tx], axis=1).shape
    assert mg.stack([x, x], axis=2).shape == torch.stack([tx, tx], axis=2).shape
    assert x.unsqueeze(axis=1).shape == tx.unsqueeze(axis=1).shape
    np.testing.assert_allclose(x.softmax(axis=0).tolist(), tx.softmax(axis=0).tolist(), rtol=1e-6)
    assert mg.count_nonzero(x, axis=0).tolist() == torch.count_nonzero(tx, axis=0).tolist()
    assert mg.index_select(x, axis=1, index=mg.tensor([2])).tolist() == [[2.0], [5.0]]
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        mg.sum(x, dim=0, axis=1)
    with pytest.raises(TypeError):
        mg.sum(x, 0, axis=1)
    # torch.norm and torch.split are Python functions in PyTorch: dim only there too
    with pytest.raises(TypeError):
        torch.norm(tx, axis=1)
    with pytest.raises(TypeError):
        mg.norm(x, axis=1)
    with pytest.raises(TypeError):
        mg.split(x, 1, axis=1)
