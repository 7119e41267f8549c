"""LBFGS with the closure API against PyTorch: the same starting point gives the same
iterates, losses, closure-call counts and iteration counts, step by step in float64, on
the Rosenbrock function and on a linear least-squares regression, with and without the
strong-Wolfe line search, with short histories and evaluation limits."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim.lbfgs import cubic_minimum

try:
    import torch
except ImportError:          # the oracle is optional: skip the module, never fail collection
    pytest.skip("torch (the oracle) is not installed", allow_module_level=True)


def rosenbrock(lib, params, data):
    (x,) = params
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def regression(lib, params, data):
    w, b = params
    inputs, targets = data
    residual = inputs @ w + b - targets
    return (residual * residual).mean() + 0.01 * (w * w).sum()


def problem(lib, name, device=None):
    rng = np.random.default_rng(3)
    kw = dict(device=device) if lib is mg else {}
    if name == "rosenbrock":
        values, data = [np.array([-1.2, 1.0, -0.5, 0.8, 1.5])], None
    else:
        x = rng.standard_normal((30, 4))
        y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * rng.standard_normal((30, 1))
        values = [rng.standard_normal((4, 1)), np.zeros(1)]
        data = (lib.tensor(x, **kw), lib.tensor(y, **kw))
    params = [lib.nn.Parameter(lib.tensor(v, dtype=lib.float64, **kw)) for v in values]
    return params, data


def run(lib, name, kwargs, steps, device=None):
    params, data = problem(lib, name, device)
    opt = lib.optim.LBFGS(params, **kwargs)
    objective = rosenbrock if name == "rosenbrock" else regression
    calls = []

    def closure():
        opt.zero_grad()
        loss = objective(lib, params, data)
        loss.backward()
        calls.append(float(loss.detach()))
        return loss

    history = []
    for _ in range(steps):
        returned = float(opt.step(closure).detach())
        state = opt.state[params[0]]
        history.append(([p.detach().cpu().numpy().copy() for p in params], returned,
                        state["func_evals"], state["n_iter"], len(state["old_dirs"])))
    return history, calls


# Each case: problem, options, step calls, and the relative tolerance. Both libraries round
# the first step's t = 1/‖g‖₁ or the gradient one ulp apart now and then; fixed unit steps
# on Rosenbrock (no line search) amplify such a difference about a million-fold over 80
# evaluations, every other case stays within 1e-12.
CASES = [
    ("rosenbrock", dict(), 4, 1e-8),
    ("rosenbrock", dict(line_search_fn="strong_wolfe"), 4, 1e-12),
    ("rosenbrock", dict(lr=0.1, history_size=3, max_iter=7), 6, 1e-12),
    ("rosenbrock", dict(line_search_fn="strong_wolfe", history_size=2, max_iter=40,
                        max_eval=45), 3, 1e-10),
    ("rosenbrock", dict(line_search_fn="strong_wolfe", max_iter=5, max_eval=6), 5, 1e-12),
    ("regression", dict(), 3, 1e-12),
    ("regression", dict(line_search_fn="strong_wolfe"), 2, 1e-12),
    ("regression", dict(lr=0.5, max_iter=4, history_size=1), 4, 1e-12),
    ("regression", dict(tolerance_grad=1e-3, tolerance_change=1e-4), 3, 1e-12),
]


@pytest.mark.parametrize("name,kwargs,steps,rtol", CASES, ids=str)
def test_trajectory_follows_torch(name, kwargs, steps, rtol, device):
    ours, our_calls = run(mg, name, kwargs, steps, device)
    theirs, their_calls = run(torch, name, kwargs, steps)
    assert len(our_calls) == len(their_calls)          # the same closure evaluations
    np.testing.assert_allclose(our_calls, their_calls, rtol=rtol, atol=1e-12)
    for step, (a, b) in enumerate(zip(ours, theirs), 1):
        for x, y in zip(a[0], b[0]):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-12, err_msg=f"step {step}")
        assert a[1:] == pytest.approx(b[1:], rel=rtol, abs=1e-12), f"step {step}"
    start = problem(mg, name)[0][0].detach().numpy()
    assert not np.allclose(ours[-1][0][0], start)      # the parameters really moved


def test_converges_on_rosenbrock_2d():
    x = nn.Parameter(mg.tensor([-1.5, 2.0], dtype=mg.float64))
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(mg, [x], None)
        loss.backward()
        return loss

    opt.step(closure)
    # Stopped by tolerance_change on the loss a little short of the minimum (1, 1).
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-5)


def test_state_dict_resumes_the_history():
    """A fresh optimizer loaded with the state_dict continues exactly as the original."""
    straight, _ = run(mg, "rosenbrock", dict(max_iter=3), 4)
    params, _ = problem(mg, "rosenbrock")
    opt = optim.LBFGS(params, max_iter=3)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(mg, params, None)
        loss.backward()
        return loss

    for _ in range(2):
        opt.step(closure)
    resumed = optim.LBFGS(params, max_iter=3)
    resumed.load_state_dict(opt.state_dict())
    opt = resumed
    for _ in range(2):
        opt.step(closure)
    np.testing.assert_array_equal(params[0].detach().numpy(), straight[-1][0][0])


def test_needs_a_closure_and_knows_one_line_search():
    p = nn.Parameter(mg.ones(2))
    with pytest.raises(TypeError, match="closure"):     # as PyTorch: a required argument
        optim.LBFGS([p]).step()
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([p]).step(None)
    opt = optim.LBFGS([p], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_already_optimal_returns_at_once():
    p = nn.Parameter(mg.zeros(3, dtype=mg.float64))
    opt = optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0 and len(calls) == 1
    assert opt.state[p]["n_iter"] == 0


@pytest.mark.parametrize("x1,f1,g1,x2,f2,g2", [
    (0.0, 1.0, -2.0, 1.0, 0.5, 1.0), (1.0, 0.5, 1.0, 0.0, 1.0, -2.0),
    (0.0, 0.0, -1.0, 2.0, 3.0, 4.0), (0.0, 0.0, 1.0, 1.0, 5.0, -1.0)])
def test_cubic_minimum_equals_torch(x1, f1, g1, x2, f2, g2):
    from torch.optim.lbfgs import _cubic_interpolate
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    expected = float(_cubic_interpolate(x1, f1, t(g1), x2, f2, t(g2)))
    assert cubic_minimum(x1, f1, g1, x2, f2, g2) == pytest.approx(expected, rel=1e-14)
