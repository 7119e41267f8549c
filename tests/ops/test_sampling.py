"""Sampling ops (``minigrad/ops/sampling.py``): ``multinomial`` (1-D and 2-D, with and
without replacement), ``bernoulli``, ``normal`` and the fills ``normal_``, ``uniform_``,
``bernoulli_``. The streams differ from PyTorch's, so values are checked by their
distribution (tolerances of about six standard errors, with fixed seeds), and shapes,
dtypes, devices, errors and gradients against PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from tests.devices import to_numpy


def frequencies(samples, categories):
    return np.bincount(samples.ravel(), minlength=categories) / samples.size


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_single_draw_frequencies(replacement, device):
    weights = np.array([0.0, 1.0, 3.0, 0.5, 0.0, 2.5])
    g = mg.Generator().manual_seed(0)
    rows = mg.tensor(np.tile(weights, (20000, 1)), device=device)
    samples = to_numpy(mg.multinomial(rows, 1, replacement, generator=g))
    expected = weights / weights.sum()
    np.testing.assert_allclose(frequencies(samples, 6), expected, atol=6 * 0.5 / np.sqrt(20000))
    assert frequencies(samples, 6)[[0, 4]].sum() == 0       # zero weight: never drawn


def test_multinomial_with_replacement_many_draws_per_row(device):
    weights = mg.tensor([[1.0, 0.0, 1.0, 2.0], [0.0, 0.0, 5.0, 0.0]], device=device)
    samples = mg.multinomial(weights, 40000, replacement=True,
                             generator=mg.Generator().manual_seed(1))
    assert samples.shape == (2, 40000) and samples.dtype == mg.int64
    assert samples.device == weights.device
    host = to_numpy(samples)
    np.testing.assert_allclose(frequencies(host[0], 4), [0.25, 0, 0.25, 0.5], atol=0.015)
    assert (host[1] == 2).all()


def test_multinomial_without_replacement_order_statistics():
    """P(first = j) = w_j / Σw; P(second = k | first = j) = w_k / (Σw − w_j)."""
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    samples = mg.multinomial(mg.tensor(np.tile(weights, (30000, 1))), 2,
                             generator=mg.Generator().manual_seed(2)).numpy()
    assert (samples[:, 0] != samples[:, 1]).all()
    np.testing.assert_allclose(frequencies(samples[:, 0], 4), weights / 10, atol=0.02)
    second_given_4th = samples[samples[:, 0] == 3, 1]
    np.testing.assert_allclose(frequencies(second_given_4th, 4), [1 / 6, 2 / 6, 3 / 6, 0],
                               atol=0.025)


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(0, 4), categories=st.integers(1, 9), data=st.data())
def test_multinomial_shapes_and_permutations(rows, categories, data):
    """Without replacement and n = categories: every row is a permutation (positive
    weights), the 1-D form drops the row dimension, shapes and dtype are PyTorch's."""
    torch = pytest.importorskip("torch")
    n = data.draw(st.integers(1, categories))
    weights = np.random.default_rng(rows).uniform(0.1, 1.0, (rows, categories))
    ours = mg.multinomial(mg.tensor(weights), n).numpy()
    theirs = torch.multinomial(torch.tensor(weights), n)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
    assert all(len(set(row)) == n for row in ours)
    if n == categories:
        assert all(sorted(row) == list(range(categories)) for row in ours)
    flat = mg.multinomial(mg.tensor(weights[0] if rows else np.ones(categories)), n)
    assert flat.shape == (n,)


@pytest.mark.parametrize("args,kwargs", [
    (([0.1, 0.2, 0.7], 0), {}),
    (([0.1, 0.2, 0.7], 4), {}),
    (("3d", 1), {}),
    (("0d", 1), {}),
    (([-1.0, 2.0], 1), {}),
    (([float("inf"), 1.0], 1), {}),
    (([float("nan"), 1.0], 1), {}),
    (([0.0, 0.0], 1), {"replacement": True}),
    (("long", 1), {}),
])
def test_multinomial_errors_match_torch(args, kwargs):
    torch = pytest.importorskip("torch")
    special = {"3d": lambda lib: lib.ones(2, 3, 4), "0d": lambda lib: lib.tensor(1.0),
               "long": lambda lib: lib.tensor([1, 2])}
    outcomes = []
    for lib in (mg, torch):
        values = args[0]
        input = special[values](lib) if isinstance(values, str) else lib.tensor(values)
        with pytest.raises(Exception) as info:
            lib.multinomial(input, *args[1:], **kwargs)
        outcomes.append((type(info.value), str(info.value).split("\n")[0]))
    assert outcomes[0] == outcomes[1]


def test_multinomial_without_replacement_past_the_positive_weights_like_torch():
    torch = pytest.importorskip("torch")
    ours = mg.multinomial(mg.tensor([0.0, 1.0, 0.0]), 2).tolist()
    assert ours[0] == torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 2).tolist()[0] == 1
    assert sorted(ours) in ([0, 1], [1, 2])


def test_bernoulli_frequencies_dtype_and_zero_gradient(device):
    torch = pytest.importorskip("torch")
    p = mg.tensor(np.linspace(0, 1, 5).repeat(4000), dtype=mg.float64, device=device,
                  requires_grad=True)
    draws = mg.bernoulli(p, generator=mg.Generator().manual_seed(3))
    assert draws.dtype == mg.float64 and draws.device == p.device
    means = to_numpy(draws).reshape(5, 4000).mean(axis=1)
    np.testing.assert_allclose(means, np.linspace(0, 1, 5), atol=0.05)
    assert means[0] == 0 and means[-1] == 1
    draws.sum().backward()
    tp = torch.tensor(np.linspace(0, 1, 5), requires_grad=True)
    torch.bernoulli(tp).sum().backward()
    np.testing.assert_array_equal(to_numpy(p.grad), 0.0)
    assert (tp.grad == 0).all()
    scalar_p = mg.bernoulli(mg.zeros(2000, dtype=mg.float32, device=device), 0.25)
    assert scalar_p.dtype == mg.float32 and abs(float(scalar_p.mean()) - 0.25) < 0.06
    assert mg.ones(3).bernoulli().tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("make", [lambda lib: lib.bernoulli(lib.tensor([1.5])),
                                  lambda lib: lib.bernoulli(lib.zeros(2), 2.0),
                                  lambda lib: lib.bernoulli(lib.tensor([1, 0])),
                                  lambda lib: lib.normal(lib.zeros(2), -1.0),
                                  lambda lib: lib.normal(lib.zeros(2), lib.ones(3)),
                                  lambda lib: lib.empty(2).bernoulli_(1.5),
                                  lambda lib: lib.empty(2).bernoulli_(lib.tensor([1.5, 0.2]))])
def test_bernoulli_and_normal_errors_match_torch(make):
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (mg, torch):
        with pytest.raises(Exception) as info:
            make(lib)
        outcomes.append((type(info.value), str(info.value).split("  (Could")[0]))
    assert outcomes[0] == outcomes[1]


def test_normal_forms_statistics_and_zero_gradients(device):
    torch = pytest.importorskip("torch")
    g = mg.Generator().manual_seed(4)
    mean = mg.tensor([[-2.0], [3.0]], dtype=mg.float64, device=device, requires_grad=True)
    std = mg.tensor(np.full(50000, 0.5), dtype=mg.float64, device=device, requires_grad=True)
    y = mg.normal(mean, std, generator=g)
    assert y.shape == (2, 50000) and y.dtype == mg.float64 and y.device == mean.device
    host = to_numpy(y)
    np.testing.assert_allclose(host.mean(axis=1), [-2.0, 3.0], atol=0.01)
    np.testing.assert_allclose(host.std(axis=1), [0.5, 0.5], rtol=0.02)
    y.sum().backward()
    tm, ts = torch.zeros(2, 1, requires_grad=True), torch.ones(3, requires_grad=True)
    torch.normal(tm, ts).sum().backward()
    assert (tm.grad == 0).all() and (ts.grad == 0).all()
    assert mean.grad.shape == (2, 1) and (to_numpy(mean.grad) == 0).all()
    assert std.grad.shape == (50000,) and (to_numpy(std.grad) == 0).all()
    assert mg.normal(1.0, 2.0, (3, 4)).dtype == mg.float32
    assert torch.normal(1.0, 2.0, (3, 4)).dtype == torch.float32
    assert mg.normal(0.0, 1.0, (2,), dtype=mg.float64).dtype == mg.float64
    assert mg.normal(1.0, mg.ones(3)).shape == (3,)
    assert mg.normal(mg.zeros(3, dtype=mg.float64), 2.0).dtype == mg.float64


def test_in_place_fills(device):
    g = mg.Generator().manual_seed(5)
    t = mg.empty(40000, dtype=mg.float64, device=device)
    version = t._version
    assert t.normal_(1.0, 0.02, generator=g) is t and t._version == version + 1
    assert abs(float(t.mean()) - 1.0) < 1e-3 and abs(float(t.std()) - 0.02) < 1e-3
    t.uniform_(-3, -1, generator=g)
    host = to_numpy(t)
    assert host.min() >= -3 and host.max() < -1 and abs(host.mean() + 2) < 0.02
    t.uniform_(**{"from": 2, "to": 3})
    assert to_numpy(t).min() >= 2
    ints = mg.zeros(4000, dtype=mg.int64, device=device).bernoulli_(0.25, generator=g)
    assert ints.dtype == mg.int64 and set(to_numpy(ints).tolist()) == {0, 1}
    assert abs(to_numpy(ints).mean() - 0.25) < 0.05
    leaf = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.normal_()
    with mg.no_grad():
        leaf.uniform_(0, 1)                       # what nn.init and `p.data.` do
    with pytest.raises(RuntimeError, match="from=2 > to=1"):
        mg.empty(2).uniform_(2, 1)
