"""``minigrad.Generator`` and the global generator (``minigrad/random.py``): PyTorch's API
(manual_seed returning the generator, seed, initial_seed, get_state/set_state, the seed
range), reproducibility through ``generator=`` everywhere PyTorch takes one, independence
of separate generators from the global stream, and ``cuda.manual_seed(_all)`` without a
GPU."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init
from minigrad.utils.data import DataLoader, RandomSampler, TensorDataset, random_split


def test_generator_api_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = mg.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() == 67280421310721
    assert ours.manual_seed(5) is ours and theirs.manual_seed(5) is theirs
    assert ours.initial_seed() == 5
    assert mg.manual_seed(-1).initial_seed() == torch.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    assert mg.manual_seed(3) is mg.default_generator
    assert mg.initial_seed() == 3
    for bad in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(ValueError, match="Overflow"):
            mg.manual_seed(bad)
        with pytest.raises((ValueError, RuntimeError)):
            torch.manual_seed(bad)
    new_seed = ours.seed()
    assert 0 <= new_seed < 2 ** 64 and ours.initial_seed() == new_seed
    assert str(ours.device) == "cpu"
    state = ours.get_state()
    assert state.dtype == mg.uint8 and state.ndim == 1


def test_state_round_trip_and_independent_streams():
    g = mg.Generator().manual_seed(11)
    state = g.get_state()
    first = mg.randn(4, generator=g).tolist()
    mg.randn(10, generator=g)
    assert g.set_state(state) is g
    assert mg.randn(4, generator=g).tolist() == first
    # Drawing from a separate generator leaves the global stream where it was.
    mg.manual_seed(0)
    expected = mg.rand(3).tolist()
    mg.manual_seed(0)
    mg.rand(100, generator=mg.Generator())
    assert mg.rand(3).tolist() == expected
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(mg.zeros(3))
    with pytest.raises(TypeError, match="minigrad.Generator"):
        mg.rand(2, generator=3)


def test_global_state_helpers_are_the_default_generator():
    mg.manual_seed(9)
    state = mg.get_rng_state()
    a = mg.randint(0, 100, (5,)).tolist()
    mg.default_generator.set_state(state)
    assert mg.randint(0, 100, (5,)).tolist() == a
    assert mg.random.get_rng_state().tolist() == mg.default_generator.get_state().tolist()


SAMPLERS = {
    "rand": lambda g: mg.rand(3, 2, generator=g),
    "randn": lambda g: mg.randn(4, dtype=mg.float64, generator=g),
    "randint": lambda g: mg.randint(0, 10, (6,), generator=g),
    "randperm": lambda g: mg.randperm(8, generator=g),
    "normal": lambda g: mg.normal(mg.zeros(3), 2.0, generator=g),
    "normal_floats": lambda g: mg.normal(1.0, 0.5, (4,), generator=g),
    "bernoulli": lambda g: mg.bernoulli(mg.full((8,), 0.5), generator=g),
    "multinomial": lambda g: mg.multinomial(mg.ones(6), 4, generator=g),
    "multinomial_method": lambda g: mg.ones(2, 6).multinomial(3, True, generator=g),
    "normal_": lambda g: mg.empty(5).normal_(0, 1, generator=g),
    "uniform_": lambda g: mg.empty(5).uniform_(-1, 1, generator=g),
    "bernoulli_": lambda g: mg.empty(9).bernoulli_(0.5, generator=g),
    "init.uniform_": lambda g: init.uniform_(mg.empty(5), generator=g),
    "init.normal_": lambda g: init.normal_(mg.empty(5), generator=g),
    "init.trunc_normal_": lambda g: init.trunc_normal_(mg.empty(5), generator=g),
    "init.xavier_uniform_": lambda g: init.xavier_uniform_(mg.empty(3, 4), generator=g),
    "init.kaiming_normal_": lambda g: init.kaiming_normal_(mg.empty(3, 4), generator=g),
    "init.orthogonal_": lambda g: init.orthogonal_(mg.empty(3, 4), generator=g),
    "RandomSampler": lambda g: mg.tensor(list(RandomSampler(range(10), generator=g))),
    "RandomSampler_replacement": lambda g: mg.tensor(list(
        RandomSampler(range(10), replacement=True, num_samples=50, generator=g))),
    "random_split": lambda g: mg.tensor(random_split(range(10), [4, 6], generator=g)[0].indices),
    "DataLoader": lambda g: mg.cat([b[0] for b in DataLoader(
        TensorDataset(mg.arange(20)), batch_size=6, shuffle=True, generator=g)]),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_generator_keyword_reproduces_and_ignores_the_global_stream(name):
    draw = SAMPLERS[name]
    mg.manual_seed(1)
    a = draw(mg.Generator().manual_seed(42)).numpy()
    mg.manual_seed(2)                                    # another global state: no effect
    b = draw(mg.Generator().manual_seed(42)).numpy()
    np.testing.assert_array_equal(a, b)
    c = [draw(mg.Generator().manual_seed(s)).numpy() for s in (43, 44, 45)]
    assert any(not np.array_equal(a, x) for x in c)      # and the seed matters
    # The same function without generator= follows manual_seed.
    mg.manual_seed(7)
    d = draw(None).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(d, draw(None).numpy())


def test_generator_keyword_accepted_where_torch_has_it():
    """Every call above also exists with generator= in PyTorch (checked by running it)."""
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    torch.rand(2, generator=g), torch.randn(2, generator=g), torch.randint(0, 3, (2,), generator=g)
    torch.randperm(3, generator=g), torch.normal(torch.zeros(2), 1.0, generator=g)
    torch.normal(0.0, 1.0, (2,), generator=g), torch.bernoulli(torch.ones(2) / 2, generator=g)
    torch.multinomial(torch.ones(3), 2, generator=g), torch.empty(2).normal_(generator=g)
    torch.empty(2).uniform_(generator=g), torch.empty(2).bernoulli_(0.5, generator=g)
    for fn in ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_",
               "orthogonal_"):
        getattr(torch.nn.init, fn)(torch.empty(3, 4), generator=g)
    torch.utils.data.random_split(range(10), [4, 6], generator=g)
    list(torch.utils.data.RandomSampler(range(10), generator=g))


def test_module_initialisation_follows_manual_seed():
    mg.manual_seed(5)
    a = nn.Linear(3, 2).weight.detach().numpy().copy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(a, nn.Linear(3, 2).weight.detach().numpy())


def test_cuda_seeding_exists_without_a_gpu():
    torch = pytest.importorskip("torch")
    assert mg.cuda.manual_seed(1) is None and torch.cuda.manual_seed(1) is None
    assert mg.cuda.manual_seed_all(1) is None and torch.cuda.manual_seed_all(1) is None
    with pytest.raises(TypeError):
        mg.cuda.manual_seed_all("one")
