"""nn.utils.prune against torch.nn.utils.prune: masks, state_dict keys, hooks, remove."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import prune
from tests.devices import to_numpy

try:
    import torch
    import torch.nn.utils.prune as tprune
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)


def linear_pair(seed, in_features=7, out_features=5, *, device="cpu"):
    """A minigrad and a torch Linear with the same distinct-valued weights."""
    rng = np.random.default_rng(seed)
    ours = nn.Linear(in_features, out_features).to(device)
    theirs = torch.nn.Linear(in_features, out_features)
    w = rng.permutation(in_features * out_features).reshape(out_features, in_features)
    w = ((w + 1) * rng.choice([-1, 1], size=w.shape) / w.size).astype(np.float32)
    b = rng.standard_normal(out_features).astype(np.float32)
    with mg.no_grad():
        ours.weight.copy_(mg.tensor(w, device=device))
        ours.bias.copy_(mg.tensor(b, device=device))
    theirs.weight.data = torch.tensor(w)
    theirs.bias.data = torch.tensor(b)
    return ours, theirs


def conv_pair(seed):
    rng = np.random.default_rng(seed)
    ours, theirs = nn.Conv2d(3, 6, 3), torch.nn.Conv2d(3, 6, 3)
    w = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    with mg.no_grad():
        ours.weight.copy_(mg.tensor(w))
    theirs.weight.data = torch.tensor(w)
    return ours, theirs


def same_mask(ours, theirs, name="weight"):
    return np.array_equal(to_numpy(getattr(ours, name + "_mask")),
                          getattr(theirs, name + "_mask").numpy())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), amount=st.one_of(st.floats(0, 1), st.integers(0, 35)))
def test_l1_unstructured_mask_matches_torch(seed, amount):
    ours, theirs = linear_pair(seed)
    prune.l1_unstructured(ours, "weight", amount)
    tprune.l1_unstructured(theirs, "weight", amount)
    assert same_mask(ours, theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == \
        ["bias", "weight_mask", "weight_orig"]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), amount=st.floats(0, 1), n=st.sampled_from([1, 2, float("inf")]),
       dim=st.sampled_from([0, 1, -1]))
def test_ln_structured_mask_matches_torch(seed, amount, n, dim):
    ours, theirs = linear_pair(seed)
    prune.ln_structured(ours, "weight", amount, n=n, dim=dim)
    tprune.ln_structured(theirs, "weight", amount, n=n, dim=dim)
    assert same_mask(ours, theirs)


def test_ln_structured_conv_output_channels():
    ours, theirs = conv_pair(3)
    prune.ln_structured(ours, "weight", amount=0.5, n=2, dim=0)
    tprune.ln_structured(theirs, "weight", amount=0.5, n=2, dim=0)
    assert same_mask(ours, theirs)
    alive = to_numpy(ours.weight_mask).reshape(6, -1).any(axis=1)
    assert alive.sum() == 3


def test_repeated_pruning_composes_like_pruning_container():
    ours, theirs = linear_pair(11, 10, 8)
    for mod, lib in ((ours, prune), (theirs, tprune)):
        lib.l1_unstructured(mod, "weight", 0.3)
        lib.ln_structured(mod, "weight", 0.25, n=1, dim=0)
        lib.l1_unstructured(mod, "weight", 5)
        lib.ln_structured(mod, "weight", 2, n=2, dim=1)
        lib.identity(mod, "bias")
    assert same_mask(ours, theirs) and same_mask(ours, theirs, "bias")
    hooks = list(ours._forward_pre_hooks.values())
    assert [type(h).__name__ for h in hooks] == ["PruningContainer", "Identity"]
    assert len(hooks[0]) == 4
    # l1 twice at 50%: 50% of the survivors, so 25% remain
    m = nn.Linear(10, 10)
    prune.l1_unstructured(m, "weight", 0.5)
    prune.l1_unstructured(m, "weight", 0.5)
    assert int(to_numpy(m.weight_mask).sum()) == 25


def test_forward_uses_masked_weight_and_gradient_is_masked(device):
    ours, theirs = linear_pair(5, device=device)
    prune.l1_unstructured(ours, "weight", 0.6)
    tprune.l1_unstructured(theirs, "weight", 0.6)
    x = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    out = ours(mg.tensor(x, device=device))
    ref = theirs(torch.tensor(x))
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(to_numpy(ours.weight_orig.grad), theirs.weight_orig.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
    assert not np.any(to_numpy(ours.weight_orig.grad)[to_numpy(ours.weight_mask) == 0])
    # a changed weight_orig shows in the next forward (the pre-hook recomputes weight)
    with mg.no_grad():
        ours.weight_orig.mul_(2)
    np.testing.assert_allclose(to_numpy(ours.weight), theirs.weight.detach().numpy(),
                               rtol=1e-6)       # stale until the next forward, as in torch
    ours(mg.tensor(x, device=device))
    np.testing.assert_allclose(to_numpy(ours.weight), 2 * theirs.weight.detach().numpy(),
                               rtol=1e-6)


def test_remove_makes_pruning_permanent():
    ours, theirs = linear_pair(2)
    prune.l1_unstructured(ours, "weight", 0.4)
    tprune.l1_unstructured(theirs, "weight", 0.4)
    assert prune.is_pruned(ours)
    prune.remove(ours, "weight")
    tprune.remove(theirs, "weight")
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    np.testing.assert_array_equal(to_numpy(ours.weight), theirs.weight.detach().numpy())
    assert not prune.is_pruned(ours) and not ours._forward_pre_hooks
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(ours, "weight")


def test_global_unstructured_matches_torch():
    rng = np.random.default_rng(7)
    values = rng.permutation(4 * 6 + 2 * 4 + 3 * 2).astype(np.float32) - 19
    ours = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    chunks = [values[:24].reshape(4, 6), values[24:32].reshape(2, 4)]
    for o, t, w in zip((ours[0], ours[2]), (theirs[0], theirs[2]), chunks):
        with mg.no_grad():
            o.weight.copy_(mg.tensor(w))
        t.weight.data = torch.tensor(w)
    prune.l1_unstructured(ours[2], "weight", 1)          # an existing mask is respected
    tprune.l1_unstructured(theirs[2], "weight", 1)
    prune.global_unstructured([(ours[0], "weight"), (ours[2], "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    tprune.global_unstructured([(theirs[0], "weight"), (theirs[2], "weight")],
                               pruning_method=tprune.L1Unstructured, amount=0.5)
    assert same_mask(ours[0], theirs[0]) and same_mask(ours[2], theirs[2])
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured([(ours[0], "bias")], prune.LnStructured, amount=1, n=1, dim=0)


def test_custom_from_mask_and_random_methods():
    ours, theirs = linear_pair(4)
    mask = (np.arange(35).reshape(5, 7) % 3 == 0).astype(np.float32)
    prune.custom_from_mask(ours, "weight", mg.tensor(mask))
    tprune.custom_from_mask(theirs, "weight", torch.tensor(mask))
    assert same_mask(ours, theirs)
    mg.manual_seed(0)
    m = nn.Linear(20, 10)
    prune.random_unstructured(m, "weight", 0.3)
    assert int(to_numpy(m.weight_mask).sum()) == 140
    mg.manual_seed(0)
    m2 = nn.Linear(20, 10)
    prune.random_unstructured(m2, "weight", 0.3)
    np.testing.assert_array_equal(to_numpy(m.weight_mask), to_numpy(m2.weight_mask))
    prune.random_structured(m, "weight", 0.5, dim=0)
    rows = to_numpy(m.weight_mask).any(axis=1)
    assert rows.sum() == 5


def test_bad_amounts_and_dims_raise_like_torch():
    for bad, error in ((1.5, ValueError), (-1, ValueError), ("a", TypeError)):
        with pytest.raises(error):
            prune.l1_unstructured(nn.Linear(3, 2), "weight", bad)
        with pytest.raises(error):
            tprune.l1_unstructured(torch.nn.Linear(3, 2), "weight", bad)
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="should be smaller"):
        prune.l1_unstructured(m, "weight", 7)
    assert sorted(m.state_dict()) == ["bias", "weight"]      # rolled back on failure
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(nn.Linear(3, 2), "bias", 1, n=1, dim=0)
    with pytest.raises(IndexError, match="Invalid index"):
        prune.ln_structured(nn.Linear(3, 2), "weight", 1, n=1, dim=2)


def test_pruned_state_dict_loads_into_pruned_model():
    a, b = nn.Linear(6, 3), nn.Linear(6, 3)
    prune.l1_unstructured(a, "weight", 0.5)
    prune.identity(b, "weight")
    b.load_state_dict(a.state_dict())
    x = mg.randn(2, 6)
    np.testing.assert_allclose(to_numpy(b(x)), to_numpy(a(x)), rtol=1e-6)
