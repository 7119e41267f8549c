"""nn.ParameterList and nn.ParameterDict: registration (parameters(), state_dict keys and
order as PyTorch's), Tensor → Parameter conversion, list/dict operations, reprs, loading
weights, gradients and an optimizer step through them."""
import numpy as np
import pytest
from collections import OrderedDict

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim


def _pair(torch):
    """The same model built in minigrad and in torch."""
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = nn.ParameterList([nn.Parameter(mg.zeros(2, 3)), mg.ones(3)])
            self.plist.append(mg.full((4,), 2.0))
            self.pdict = nn.ParameterDict({"right": mg.ones(2), "left": nn.Parameter(mg.ones(3))})
            self.pdict["extra"] = mg.zeros(1)

        def forward(self, x):
            return (x @ self.plist[0] + self.plist[1]).sum() + self.pdict["left"].sum()

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)),
                                                 torch.ones(3)])
            self.plist.append(torch.full((4,), 2.0))
            self.pdict = torch.nn.ParameterDict({"right": torch.ones(2),
                                                 "left": torch.nn.Parameter(torch.ones(3))})
            self.pdict["extra"] = torch.zeros(1)

    return Ours(), Theirs()


def test_state_dict_keys_order_and_parameters_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert list(ours.pdict.keys()) == list(theirs.pdict.keys()) == ["left", "right", "extra"]
    assert repr(ours.plist) == repr(theirs.plist).replace("torch.", "minigrad.")


def test_load_state_dict_gradients_and_an_optimizer_step():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch)
    rng = np.random.default_rng(0)
    state = {k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
             for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    np.testing.assert_array_equal(ours.plist[2].detach().numpy(), state["plist.2"])
    x = mg.tensor(rng.standard_normal((5, 2)).astype(np.float32))
    ours(x).backward()
    assert ours.plist[0].grad is not None and ours.pdict["left"].grad is not None
    before = ours.pdict["left"].detach().numpy().copy()
    optim.SGD(ours.parameters(), lr=0.1).step()
    np.testing.assert_allclose(ours.pdict["left"].detach().numpy(), before - 0.1)


def test_parameter_list_operations():
    plist = nn.ParameterList([mg.zeros(1), mg.ones(2)])
    plist += [mg.ones(3)]
    plist.extend([nn.Parameter(mg.ones(4))])
    assert len(plist) == 4 and [p.shape[0] for p in plist] == [1, 2, 3, 4]
    assert plist[-1].shape == (4,)
    tail = plist[1:3]
    assert isinstance(tail, nn.ParameterList) and [p.shape[0] for p in tail] == [2, 3]
    assert tail[0] is plist[1]
    plist[0] = mg.full((5,), 3.0)
    assert isinstance(plist[0], nn.Parameter) and plist[0].shape == (5,)
    plist.append("not a tensor")
    assert plist[4] == "not a tensor" and len(list(plist.parameters())) == 4
    with pytest.raises(IndexError, match="index 9 is out of range"):
        plist[9]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        plist.extend(mg.ones(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        plist(1)
    assert list(plist.double().parameters())[0].dtype == mg.float64


def test_parameter_dict_operations():
    pdict = nn.ParameterDict(OrderedDict([("b", mg.ones(1)), ("a", mg.ones(2))]))
    assert list(pdict) == ["b", "a"]                     # an OrderedDict keeps its order
    assert list(nn.ParameterDict({"b": mg.ones(1), "a": mg.ones(2)})) == ["a", "b"]  # dict: sorted
    pdict.update([("c", mg.zeros(3))])
    assert "c" in pdict and isinstance(pdict["c"], nn.Parameter) and len(pdict) == 3
    assert pdict.get("missing") is None and pdict.get("missing", 5) == 5
    assert pdict.setdefault("d", mg.ones(4)).shape == (4,)
    assert pdict.pop("d").shape == (4,) and "d" not in pdict
    key, value = pdict.popitem()
    assert key == "c" and value.shape == (3,)
    assert [k for k, _ in pdict.items()] == ["b", "a"] and len(list(pdict.values())) == 2
    merged = pdict | nn.ParameterDict({"z": mg.ones(1)})
    assert list(merged) == ["b", "a", "z"] and list(pdict) == ["b", "a"]
    copy = pdict.copy()
    assert copy["a"] is pdict["a"]
    del pdict["b"]
    assert list(pdict.state_dict()) == ["a"]
    pdict.clear()
    assert len(pdict) == 0 and not list(pdict.parameters())
    with pytest.raises(TypeError, match="not a string"):
        pdict[1] = mg.ones(1)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        pdict.update([("a", 1, 2)])
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        pdict(1)
    assert list(nn.ParameterDict().fromkeys(["x", "y"])) == ["x", "y"]
