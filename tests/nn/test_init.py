"""nn.init: exact gains and fans (against PyTorch), distribution bounds and moments
(statistical tests with a fixed seed and tolerances from sampling theory), seeding, and
the in-place contract."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

N_ROWS, N_COLS = 300, 400           # 120,000 samples per statistical test
N = N_ROWS * N_COLS
Z = 5.0                              # tolerance in standard errors


def check_moments(values, mean, var, fourth_central):
    """Sample mean and variance within Z standard errors of their theoretical values:
    SE(mean) = √(var/n), SE(var) ≈ √((μ₄ − σ⁴)/n)."""
    values = values.astype(np.float64).ravel()
    n = values.size
    assert abs(values.mean() - mean) < Z * math.sqrt(var / n)
    assert abs(values.var() - var) < Z * math.sqrt((fourth_central - var ** 2) / n)


def check_uniform(values, bound):
    assert values.min() >= -bound and values.max() <= bound
    var = bound ** 2 / 3                                  # U(−b, b): b²/3, μ₄ = b⁴/5
    check_moments(values, 0.0, var, bound ** 4 / 5)
    assert values.min() < -0.99 * bound and values.max() > 0.99 * bound


def check_normal(values, std, mean=0.0):
    check_moments(values, mean, std ** 2, 3 * std ** 4)   # μ₄ = 3σ⁴


@pytest.fixture(autouse=True)
def seeded():
    mg.manual_seed(1234)


# ---------------------------------------------------------------------- gains and fans
@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", 5 ** 0.5),
    ("selu", None)])
def test_calculate_gain_equals_torch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_values_and_errors():
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01 ** 2))
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@given(st.lists(st.integers(1, 5), min_size=2, max_size=5))
def test_fans_equal_torch(shape):
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(mg.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mg.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(mg.empty(3, 3), mode="fan_avg")


# ---------------------------------------------------------------------- distributions
def test_uniform_and_normal(device):
    t = init.uniform_(mg.empty(N_ROWS, N_COLS, device=device), -2.0, 3.0)
    v = t.cpu().numpy()
    assert v.min() >= -2.0 and v.max() < 3.0
    check_moments(v, 0.5, 25 / 12, 5 ** 4 / 80)          # U(a, b): (b−a)²/12, μ₄ = (b−a)⁴/80
    check_normal(init.normal_(mg.empty(N_ROWS, N_COLS, device=device), 1.5, 0.5).cpu().numpy(), 0.5,
                 mean=1.5)


def test_xavier(device):
    fan_in, fan_out = N_COLS * 3, N_ROWS * 3                # (out, in, kernel) layout
    std = 0.7 * math.sqrt(2.0 / (fan_in + fan_out))
    t = mg.empty(N_ROWS, N_COLS, 3, device=device)
    check_uniform(init.xavier_uniform_(t, gain=0.7).cpu().numpy(), math.sqrt(3.0) * std)
    check_normal(init.xavier_normal_(t, gain=0.7).cpu().numpy(), std)


@pytest.mark.parametrize("a,mode,nonlinearity", [(0, "fan_in", "relu"),
                                                 (5 ** 0.5, "fan_in", "leaky_relu"),
                                                 (0.1, "fan_out", "leaky_relu"),
                                                 (0, "FAN_OUT", "tanh")])
def test_kaiming(a, mode, nonlinearity, device):
    t = mg.empty(N_ROWS, N_COLS, device=device)
    fan = N_COLS if mode.lower() == "fan_in" else N_ROWS
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    check_uniform(init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity).cpu().numpy(),
                  math.sqrt(3.0) * std)
    check_normal(init.kaiming_normal_(t, a=a, mode=mode,
                                      nonlinearity=nonlinearity).cpu().numpy(), std)


def test_linear_default_bound_is_one_over_sqrt_fan_in(device):
    """kaiming_uniform_(a=√5) — nn.Linear's default — is U(±1/√fan_in)."""
    t = init.kaiming_uniform_(mg.empty(N_ROWS, N_COLS, device=device), a=math.sqrt(5))
    check_uniform(t.cpu().numpy(), 1 / math.sqrt(N_COLS))


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 1.0, 1.5),
                                          (1.0, 0.5, 0.0, 3.0)])
def test_trunc_normal_(mean, std, a, b, device):
    """Both samplers (normal with redraws for wide intervals, uniform proposals for narrow
    ones) give the truncated normal: bounds hold and the mean and variance are the
    truncated distribution's (computed by quadrature here)."""
    v = init.trunc_normal_(mg.empty(N_ROWS, N_COLS,
                                    device=device), mean, std, a, b).cpu().numpy().astype(np.float64)
    assert v.min() >= a and v.max() <= b
    grid = np.linspace(a, b, 200001)
    pdf = np.exp(-0.5 * ((grid - mean) / std) ** 2)
    pdf /= np.trapezoid(pdf, grid)
    m = np.trapezoid(grid * pdf, grid)
    var = np.trapezoid((grid - m) ** 2 * pdf, grid)
    fourth = np.trapezoid((grid - m) ** 4 * pdf, grid)
    check_moments(v, m, var, fourth)


def test_orthogonal_eye_dirac_constant(device):
    torch = pytest.importorskip("torch")
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        q = init.orthogonal_(mg.empty(*shape, device=device),
                             gain=2.0).cpu().numpy().reshape(shape[0], -1)
        small = min(q.shape)
        gram = q @ q.T if q.shape[0] == small else q.T @ q
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    np.testing.assert_array_equal(init.eye_(mg.empty(3, 5, device=device)).cpu().numpy(),
                                  torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((2, 4, 1, 3, 3), 1)]:
        np.testing.assert_array_equal(
            init.dirac_(mg.empty(*shape, device=device), groups).cpu().numpy(),
            torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())
    assert init.constant_(mg.empty(2, device=device), 0.25).tolist() == [0.25, 0.25]
    assert init.ones_(mg.empty(2, device=device)).tolist() == [1, 1]
    assert init.zeros_(mg.ones(2, device=device)).tolist() == [0, 0]


# ---------------------------------------------------------------------- contract
def test_seeded_and_generator_reproducible(device):
    mg.manual_seed(7)
    first = init.normal_(mg.empty(5, device=device)).cpu().numpy().copy()
    mg.manual_seed(7)
    assert np.array_equal(first, init.normal_(mg.empty(5, device=device)).cpu().numpy())
    a = init.uniform_(mg.empty(5, device=device),
                      generator=np.random.default_rng(3)).cpu().numpy().copy()
    b = init.uniform_(mg.empty(5, device=device), generator=np.random.default_rng(3)).cpu().numpy()
    assert np.array_equal(a, b)


@pytest.mark.parametrize("fill", [
    lambda t: init.uniform_(t), lambda t: init.normal_(t), lambda t: init.xavier_uniform_(t),
    lambda t: init.kaiming_normal_(t), lambda t: init.trunc_normal_(t),
    lambda t: init.orthogonal_(t), lambda t: init.constant_(t, 3.0), lambda t: init.zeros_(t)])
def test_in_place_on_parameters_without_graph(fill, device):
    p = nn.Parameter(mg.empty(4, 3, dtype=mg.float64, device=device))
    array, version = p.array, p._version
    assert fill(p) is p
    assert p.array is array and p._version > version        # written in place, recorded
    assert p.grad_fn is None and p.requires_grad and p.is_leaf and p.dtype == mg.float64


def test_zero_element_kaiming_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.kaiming_uniform_(mg.empty(0, 3))
    assert any("zero-element" in str(w.message) for w in caught)
