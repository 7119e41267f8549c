"""Categorical, Bernoulli and Normal against torch.distributions: parameters, log_prob,
entropy and their gradients (float64), sample shapes, dtypes and frequencies, rsample's
reparameterised gradient, validation errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.distributions import Bernoulli, Categorical, Normal


def pair(torch, array):
    return (torch.tensor(array, requires_grad=True),
            mg.tensor(array, requires_grad=True))


@settings(max_examples=15, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), k=st.integers(2, 5),
       kind=st.sampled_from(["probs", "logits"]), seed=st.integers(0, 1000))
def test_categorical_matches_torch(batch, k, kind, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    shape = tuple(batch) + (k,)
    param = rng.random(shape) + 0.05 if kind == "probs" else rng.normal(size=shape)
    value = rng.integers(0, k, size=(2,) + tuple(batch))
    tp, mp = pair(torch, param)
    dt, dm = torch.distributions.Categorical(**{kind: tp}), Categorical(**{kind: mp})
    for name in ("probs", "logits"):
        np.testing.assert_allclose(getattr(dm, name).detach().numpy(),
                                   getattr(dt, name).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert tuple(dm.batch_shape) == tuple(dt.batch_shape)
    lt, lm = dt.log_prob(torch.tensor(value)), dm.log_prob(mg.tensor(value))
    np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    weights = rng.normal(size=lt.shape)
    (lt * torch.tensor(weights)).sum().add(dt.entropy().sum()).backward()
    ((lm * mg.tensor(weights)).sum() + dm.entropy().sum()).backward()
    np.testing.assert_allclose(mp.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)
    sample = dm.sample((3,))
    assert tuple(sample.shape) == (3,) + tuple(batch) and sample.dtype == mg.int64
    assert int(sample.min()) >= 0 and int(sample.max()) < k


def test_categorical_sample_frequencies():
    mg.manual_seed(0)
    probs = mg.tensor([0.1, 0.2, 0.7])
    draws = Categorical(probs=probs).sample((20000,)).numpy()
    freq = np.bincount(draws, minlength=3) / draws.size
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.015)
    assert Categorical(logits=mg.tensor([0.0, 5.0])).sample().ndim == 0


def test_reinforce_style_gradient():
    """-log π(a)·R through Categorical(probs=softmax(scores)): ∂/∂scores = -R·(onehot - π)."""
    scores = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
    m = Categorical(mg.nn.functional.softmax(scores, dim=-1))
    loss = -m.log_prob(mg.tensor(1)) * 3.0
    loss.backward()
    p = np.exp([0.5, -1.0, 2.0]) / np.exp([0.5, -1.0, 2.0]).sum()
    np.testing.assert_allclose(scores.grad.numpy(), -3.0 * (np.eye(3)[1] - p), rtol=1e-10)


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_bernoulli_matches_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    param = rng.random((2, 3)) if kind == "probs" else rng.normal(size=(2, 3))
    value = (rng.random((4, 2, 3)) < 0.5).astype(np.float64)
    tp, mp = pair(torch, param)
    dt, dm = torch.distributions.Bernoulli(**{kind: tp}), Bernoulli(**{kind: mp})
    lt, lm = dt.log_prob(torch.tensor(value)), dm.log_prob(mg.tensor(value))
    np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), rtol=1e-10)
    for name in ("mean", "variance"):
        np.testing.assert_allclose(getattr(dm, name).detach().numpy(),
                                   getattr(dt, name).detach().numpy(), rtol=1e-10)
    (lt.sum() + dt.entropy().sum()).backward()
    (lm.sum() + dm.entropy().sum()).backward()
    np.testing.assert_allclose(mp.grad.numpy(), tp.grad.numpy(), rtol=1e-8, atol=1e-12)
    s = dm.sample((5,))
    assert tuple(s.shape) == (5, 2, 3) and s.dtype == mg.float64
    assert set(np.unique(s.numpy())) <= {0.0, 1.0}


def test_normal_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    loc, scale = rng.normal(size=3), rng.random(3) + 0.2
    tl, ml = pair(torch, loc)
    ts, ms = pair(torch, scale)
    dt, dm = torch.distributions.Normal(tl, ts), Normal(ml, ms)
    x = rng.normal(size=(2, 3))
    lt, lm = dt.log_prob(torch.tensor(x)), dm.log_prob(mg.tensor(x))
    np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    total_t = lt.sum() + dt.entropy().sum() + dt.cdf(torch.tensor(x)).sum()
    total_m = lm.sum() + dm.entropy().sum() + dm.cdf(mg.tensor(x)).sum()
    total_t.backward()
    total_m.backward()
    np.testing.assert_allclose(ml.grad.numpy(), tl.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ms.grad.numpy(), ts.grad.numpy(), rtol=1e-10)
    assert dm.has_rsample and tuple(dm.rsample((4,)).shape) == (4, 3)
    assert Normal(0.0, 1.0).sample().dtype == mg.float32
    assert tuple(Normal(mg.zeros(2, 1), mg.ones(3)).batch_shape) == (2, 3)


def test_normal_rsample_is_reparameterised():
    mg.manual_seed(3)
    loc = mg.tensor([1.0, -1.0], dtype=mg.float64, requires_grad=True)
    scale = mg.tensor([2.0, 0.5], dtype=mg.float64, requires_grad=True)
    z = Normal(loc, scale).rsample((1000,))
    z.sum().backward()
    eps = (z.detach().numpy() - [1.0, -1.0]) / [2.0, 0.5]
    assert loc.grad.tolist() == [1000.0, 1000.0]
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-10)
    assert abs(eps.mean()) < 0.1 and abs(eps.std() - 1) < 0.1
    assert not Normal(loc, scale).sample().requires_grad


def test_validation_errors():
    torch = pytest.importorskip("torch")
    for lib, dist in ((mg, mg.distributions), (torch, torch.distributions)):
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            dist.Categorical()
        with pytest.raises(ValueError, match="Expected parameter scale"):
            dist.Normal(lib.zeros(2), lib.tensor([1.0, -1.0]))
        with pytest.raises(ValueError, match="Expected parameter probs"):
            dist.Bernoulli(probs=lib.tensor([1.5]))
        with pytest.raises(ValueError, match="Expected value argument"):
            dist.Categorical(probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor(2))
