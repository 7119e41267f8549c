"""nn.Module, nn.Parameter and the containers: registration, traversal order, state_dict
(keys and order checked against PyTorch), transactional load_state_dict, modes,
conversions and reprs. Layers come from a tiny Linear defined here, so these tests do not
depend on nn.modules."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn


class Linear(nn.Module):
    """PyTorch's Linear layout (weight (out, in), bias (out,)) and repr."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(mg.empty(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(mg.empty(out_features))
        else:
            self.register_parameter("bias", None)
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        if bias:
            nn.init.uniform_(self.bias, -in_features ** -0.5, in_features ** -0.5)

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Norm(nn.Module):
    """Something with buffers (persistent and not), like BatchNorm."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(mg.ones(n))
        self.register_buffer("running_mean", mg.zeros(n))
        self.register_buffer("num_batches_tracked", mg.tensor(0))
        self.register_buffer("scratch", mg.zeros(n), persistent=False)

    def forward(self, x):
        return x * self.weight


def _torch_norm(torch):
    class Norm(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(n))
            self.register_buffer("running_mean", torch.zeros(n))
            self.register_buffer("num_batches_tracked", torch.tensor(0))
            self.register_buffer("scratch", torch.zeros(n), persistent=False)

        def forward(self, x):
            return x * self.weight
    return Norm


def build(lib):
    """The same nested structure in minigrad (lib=nn-like namespace) or torch."""
    if lib == "torch":
        torch = pytest.importorskip("torch")
        tnn = torch.nn

        L, N = tnn.Linear, _torch_norm(torch)
        S, ML, MD = tnn.Sequential, tnn.ModuleList, tnn.ModuleDict
    else:
        L, N, S, ML, MD = Linear, Norm, nn.Sequential, nn.ModuleList, nn.ModuleDict
    return S(OrderedDict([
        ("stem", S(L(4, 8), N(8))),
        ("blocks", ML([L(8, 8), S(L(8, 8, bias=False), N(8))])),
        ("heads", MD({"cls": L(8, 3), "reg": L(8, 1)})),
    ]))


def state_arrays(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


# ---------------------------------------------------------------------- Parameter
def test_parameter_basics():
    t = mg.randn(3, 2)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert p.array is t.array                       # shares the array, like torch
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is mg.Tensor              # ops return plain tensors
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError):
        nn.Parameter(mg.tensor([1, 2]))            # integer tensors cannot require grad


# ---------------------------------------------------------------------- registration
def test_setattr_registers_and_routes():
    m = Linear(3, 2)
    assert list(m._parameters) == ["weight", "bias"]
    m.child = Linear(2, 2)
    assert "child" in m._modules and "child" not in m.__dict__
    m.register_buffer("stat", mg.zeros(2))
    m.stat = mg.ones(2)                            # reassigning a buffer keeps it a buffer
    assert m._buffers["stat"].tolist() == [1, 1]
    m.plain = 5
    assert m.__dict__["plain"] == 5
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'"):
        m.weight = mg.ones(2, 3)
    with pytest.raises(TypeError, match="as child module 'child'"):
        m.child = 3
    with pytest.raises(TypeError, match="as buffer 'stat'"):
        m.stat = 3
    m.bias = None                                  # a declared slot may be emptied
    assert m.bias is None and "bias" in m._parameters
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", mg.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    del m.child, m.stat, m.weight
    assert "child" not in m._modules and "stat" not in m._buffers and "weight" not in m._parameters
    with pytest.raises(AttributeError, match="no attribute 'child'"):
        m.child


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))
            super().__init__()
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_dir_getattr_and_get_submodule():
    m = build("mg")
    names = dir(m[0])
    assert "running_mean" not in names and "forward" in names
    assert "running_mean" in dir(m.stem[1]) and "weight" in dir(m.stem[1])
    assert m.get_submodule("blocks.1.0") is m.blocks[1][0]
    with pytest.raises(AttributeError):
        m.get_submodule("blocks.7")


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


# ---------------------------------------------------------------------- traversal
def test_named_parameters_order_prefix_and_duplicates():
    m = build("mg")
    names = [n for n, _ in m.named_parameters()]
    assert names[:3] == ["stem.0.weight", "stem.0.bias", "stem.1.weight"]
    assert [n for n, _ in m.named_parameters(prefix="model")][0] == "model.stem.0.weight"
    assert list(m.stem[1].named_parameters(recurse=False)) == [("weight", m.stem[1].weight)]
    # Tied weights: reported once, unless remove_duplicate=False.
    m.heads["reg2"] = m.heads["reg"]
    assert len(list(m.parameters())) == len(names)
    assert len(list(m.named_parameters(remove_duplicate=False))) == len(names) + 2
    assert [n for n, _ in m.named_buffers()] == [
        "stem.1.running_mean", "stem.1.num_batches_tracked", "stem.1.scratch",
        "blocks.1.1.running_mean", "blocks.1.1.num_batches_tracked", "blocks.1.1.scratch"]
    assert [n for n, _ in m.named_children()] == ["stem", "blocks", "heads"]
    assert len(list(m.modules())) == 12


def test_state_dict_keys_order_and_shapes_match_torch():
    ours, theirs = build("mg"), build("torch")
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    assert all(tuple(sd[k].shape) == tuple(tsd[k].shape) for k in sd)
    assert isinstance(sd, OrderedDict)
    assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())
    # Values are detached views of the live arrays; keep_vars gives the Parameters.
    assert sd["stem.0.weight"].array is ours.stem[0].weight.array
    assert ours.state_dict(keep_vars=True)["stem.0.weight"] is ours.stem[0].weight
    assert "stem.1.scratch" not in sd


def test_repr_matches_torch():
    assert repr(build("mg")) == repr(build("torch"))
    assert repr(nn.ModuleList()) == "ModuleList()"


@given(st.recursive(st.integers(1, 3), lambda kids: st.lists(kids, min_size=1, max_size=3),
                    max_leaves=8))
def test_state_dict_keys_match_torch_for_random_trees(spec):
    """Nested lists become nested Sequentials; an int n becomes Linear(n, n)."""
    torch = pytest.importorskip("torch")

    def make(spec, seq, lin):
        if isinstance(spec, int):
            return lin(spec, spec)
        return seq(*(make(s, seq, lin) for s in spec))
    ours = make(spec, nn.Sequential, Linear)
    theirs = make(spec, torch.nn.Sequential, torch.nn.Linear)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


# ---------------------------------------------------------------------- load_state_dict
def test_load_torch_weights_as_numpy_gives_torch_outputs():
    torch = pytest.importorskip("torch")
    ours, theirs = build("mg"), build("torch")
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours.stem(mg.tensor(x)).detach().numpy(),
                               theirs.stem(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_casts_dtype_and_keeps_parameter_identity():
    m = Linear(3, 2)
    weight = m.weight
    m.load_state_dict({"weight": np.ones((2, 3)), "bias": mg.zeros(2, dtype=mg.float64)})
    assert m.weight is weight and m.weight.dtype == mg.float32
    assert m.weight.tolist() == [[1, 1, 1], [1, 1, 1]] and m.weight.requires_grad


def test_failed_load_reports_everything_and_changes_nothing():
    m = build("mg")
    before = state_arrays(m)
    bad = {k: v.numpy().copy() + 1 for k, v in m.state_dict().items()}
    bad["stem.0.weight"] = np.zeros((4, 8), np.float32)        # transposed shape
    del bad["heads.reg.bias"]
    bad["heads.extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(bad)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:\n\t"
                              'Missing key(s) in state_dict: "heads.reg.bias". \n\t'
                              'Unexpected key(s) in state_dict: "heads.extra". \n\t')
    assert ("size mismatch for stem.0.weight: copying a param with shape "
            "minigrad.Size([4, 8]) from checkpoint, the shape in current model is "
            "minigrad.Size([8, 4]).") in message
    after = state_arrays(m)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    # strict=False: key problems are reported, but a shape mismatch still fails whole.
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict(bad, strict=False)
    assert all(np.array_equal(before[k], state_arrays(m)[k]) for k in before)
    bad["stem.0.weight"] = bad["stem.0.weight"].T
    keys = m.load_state_dict(bad, strict=False)
    assert keys.missing_keys == ["heads.reg.bias"] and keys.unexpected_keys == ["heads.extra"]
    assert np.array_equal(state_arrays(m)["stem.1.running_mean"], before["stem.1.running_mean"] + 1)


def test_load_rejects_non_arrays_and_non_persistent_buffers():
    m = Norm(2)
    with pytest.raises(RuntimeError, match='parameter named "weight", expected'):
        m.load_state_dict({"weight": [1.0, 2.0], "running_mean": np.zeros(2),
                           "num_batches_tracked": np.array(0)})
    with pytest.raises(RuntimeError, match='Unexpected key.*"scratch"'):
        m.load_state_dict({**m.state_dict(), "scratch": np.zeros(2)})


def test_load_assign():
    m = Linear(2, 2)
    w = np.arange(4.0).reshape(2, 2)
    m.load_state_dict({"weight": w, "bias": np.zeros(2)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.dtype == mg.float64
    assert m.weight.requires_grad and m.weight.array is not w


# ---------------------------------------------------------------------- modes, grads, conversion
def test_train_eval_requires_grad_zero_grad():
    m = build("mg")
    assert m.eval() is m and not any(sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())
    with pytest.raises(ValueError):
        m.train("yes")
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    layer = m.stem[0]
    layer(mg.randn(2, 4)).sum().backward()
    assert layer.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert layer.weight.grad.tolist() == np.zeros((8, 4)).tolist()
    m.zero_grad()
    assert layer.weight.grad is None


def test_zero_grad_in_place_with_shared_gradient_arrays():
    """The engine may hand one gradient array to two leaves (here through ``a + b``):
    zeroing one parameter's grad must not touch the other's."""
    m = nn.Module()
    m.a, m.b = nn.Parameter(mg.ones(3)), nn.Parameter(mg.ones(3))
    (m.a + m.b).sum().backward()
    other = nn.Module()
    other.a = m.a
    other.zero_grad(set_to_none=False)
    assert m.a.grad.tolist() == [0, 0, 0] and m.b.grad.tolist() == [1, 1, 1]


def test_to_converts_in_place_and_keeps_integer_buffers():
    m = build("mg")
    params = list(m.parameters())
    optimizer = mg.optim.SGD(m.parameters(), lr=0.1)
    m.stem[0](mg.randn(2, 4)).sum().backward()
    assert m.double() is m
    assert [p is q for p, q in zip(params, m.parameters())] == [True] * len(params)
    assert all(p.dtype == mg.float64 for p in m.parameters())
    assert m.stem[0].weight.grad.dtype == mg.float64
    assert m.stem[1].running_mean.dtype == mg.float64
    assert m.stem[1].num_batches_tracked.dtype == mg.int64
    optimizer.step()                                # the optimizer still owns the live tensors
    assert optimizer.param_groups[0]["params"][0] is m.stem[0].weight
    m.half()
    assert m.stem[0].weight.dtype == mg.float16
    m.to(mg.float32).to("cpu").float().cpu()
    assert m.stem[0].weight.dtype == mg.float32
    m.to(mg.zeros(1, dtype=mg.float64))
    assert m.stem[0].weight.dtype == mg.float64
    with pytest.raises(TypeError, match="floating point"):
        m.to(mg.int64)


def test_apply_visits_children_first():
    m = build("mg")
    seen = []
    assert m.apply(lambda mod: seen.append(mod)) is m
    assert seen[-1] is m and seen[0] is m.stem[0] and len(seen) == 12


def test_deepcopy_keeps_ties_and_is_independent():
    m = build("mg")
    m.heads["reg2"] = m.heads["reg"]
    c = copy.deepcopy(m)
    assert c.heads["reg2"].weight is c.heads["reg"].weight
    assert c.heads["reg"].weight is not m.heads["reg"].weight
    assert isinstance(c.heads["reg"].weight, nn.Parameter)
    c.heads["reg"].weight.array[...] = 7
    assert not np.any(m.heads["reg"].weight.numpy(force=True) == 7)


# ---------------------------------------------------------------------- containers
def test_sequential():
    a, b, c = Linear(2, 3), Linear(3, 3), Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    tail = s[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"] and tail[0] is b
    x = mg.randn(4, 2)
    np.testing.assert_allclose(s(x).detach().numpy(), c(b(a(x))).detach().numpy())
    with pytest.raises(IndexError, match="out of range"):
        s[3]
    s.append(Linear(1, 1))
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s.insert(-1, b)
    assert s[2] is b
    s[0] = c
    assert s[0] is c
    assert len(s + nn.Sequential(a)) == 5
    named = nn.Sequential(OrderedDict(first=a, second=b))
    assert list(named.state_dict())[:2] == ["first.weight", "first.bias"]
    assert named.pop(0) is a and len(named) == 1


def test_module_list():
    layers = nn.ModuleList(Linear(2, 2) for _ in range(3))
    assert len(layers) == 3 and layers[-1] is layers[2]
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    extra = Linear(2, 2)
    layers.insert(1, extra)
    assert layers[1] is extra and list(layers._modules) == ["0", "1", "2", "3"]
    layers.extend([Linear(2, 2)])
    layers += [Linear(2, 2)]
    assert len(layers) == 6 and len(list(layers.parameters())) == 12
    del layers[0]
    assert layers[0] is extra and list(layers._modules) == [str(i) for i in range(5)]
    assert layers.pop(-1) is not None and len(layers) == 4
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(Linear(2, 2))
    with pytest.raises(IndexError):
        layers[10]


def test_module_dict():
    d = nn.ModuleDict({"a": Linear(1, 1)})
    d.update([("b", Linear(1, 2))])
    d["c"] = Linear(2, 2)
    assert list(d) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert list(d.keys()) == ["a", "b", "c"] and d["b"].out_features == 2
    assert d.pop("a").out_features == 1 and list(d) == ["b", "c"]
    with pytest.raises(ValueError, match="length 3"):
        d.update([("x", Linear(1, 1), 3)])
    d.clear()
    assert len(d) == 0
