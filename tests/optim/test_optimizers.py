"""SGD, Adam, AdamW, RMSprop, Adadelta, Adagrad, Adamax, NAdam, RAdam: every option combination, several parameter groups, follows
PyTorch's trajectory step by step in float64; plus the Optimizer contract (groups,
zero_grad, state_dict round trips, validation errors)."""
import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

STEPS = 6
SHAPES = [(4, 3), (3,), (2, 3)]


def objective(lib, params, data):
    """A smooth non-quadratic loss touching every parameter except the last ("frozen"
    below, to check that parameters without gradients are skipped)."""
    w, b, _ = params
    x = lib.tensor(data, device=w.device)
    h = x @ w + b
    return (h * h * h * h).sum() * 0.01 + (h - 1.0).sum() + (w * w).sum()


def initial_values(seed):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in SHAPES]
    return values, rng.standard_normal((5, 4))


def run(lib, cls_name, groups_kw, kwargs, dtype="float64", steps=STEPS, seed=0, device=None):
    """Build the parameters (the same values in both libraries; ours on ``device``), run
    ``steps`` updates and return the parameter values after each step, on the host."""
    values, data = initial_values(seed)
    if lib == "torch":
        import torch as module
        params = [module.nn.Parameter(module.tensor(v, dtype=getattr(module, dtype)))
                  for v in values]
        optim_module = module.optim
    else:
        module = mg
        params = [nn.Parameter(mg.tensor(v, dtype=getattr(mg, dtype), device=device))
                  for v in values]
        optim_module = optim
    data = data.astype(dtype)
    groups = [dict(params=[params[i] for i in idx], **kw) for idx, kw in groups_kw]
    opt = getattr(optim_module, cls_name)(groups, **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        objective(module, params, data).backward()
        opt.step()
        trajectory.append([p.detach().cpu().numpy().copy() for p in params])
    return trajectory, opt


def compare(cls_name, kwargs, groups_kw=(((0, 1), {}), ((2,), {})), rtol=1e-10, atol=1e-10,
            dtype="float64", *, device):
    pytest.importorskip("torch")
    ours, _ = run("mg", cls_name, groups_kw, kwargs, dtype, device=device)
    theirs, _ = run("torch", cls_name, groups_kw, kwargs, dtype)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {step + 1}")
    # The update really moved the parameters with gradients (and only those).
    assert not np.allclose(ours[-1][0], ours[0][0])


def grid(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_CASES = [kw for kw in grid(momentum=[0.0, 0.9], dampening=[0.0, 0.3], weight_decay=[0.0, 0.1],
                               nesterov=[False, True], maximize=[False, True])
             if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))]
ADAM_CASES = grid(amsgrad=[False, True], weight_decay=[0.0, 0.05], maximize=[False, True],
                  betas=[(0.9, 0.999), (0.5, 0.9)])
RMSPROP_CASES = grid(momentum=[0.0, 0.8], centered=[False, True], weight_decay=[0.0, 0.1],
                     maximize=[False, True], alpha=[0.99, 0.7])

ADADELTA_CASES = grid(rho=[0.9, 0.5], weight_decay=[0.0, 0.1], maximize=[False, True],
                      lr=[1.0, 0.3])
ADAGRAD_CASES = grid(lr_decay=[0.0, 0.2], weight_decay=[0.0, 0.1], maximize=[False, True],
                     initial_accumulator_value=[0.0, 0.5])

VARIANT_CASES = (
    [("Adamax", kw) for kw in grid(weight_decay=[0.0, 0.1], maximize=[False, True],
                                   betas=[(0.9, 0.999), (0.5, 0.8)])]
    + [("NAdam", kw) for kw in grid(weight_decay=[0.0, 0.1], maximize=[False, True],
                                    decoupled_weight_decay=[False, True],
                                    momentum_decay=[4e-3, 0.1])]
    + [("RAdam", kw) for kw in grid(weight_decay=[0.0, 0.1], maximize=[False, True],
                                    decoupled_weight_decay=[False, True],
                                    betas=[(0.9, 0.999), (0.9, 0.5)])])


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_follows_torch(kwargs, device):
    compare("SGD", dict(lr=0.01, **kwargs), device=device)


@pytest.mark.parametrize("cls_name", ["Adam", "AdamW"])
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_follows_torch(cls_name, kwargs, device):
    compare(cls_name, dict(lr=0.05, eps=1e-6, **kwargs), device=device)


@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_follows_torch(kwargs, device):
    compare("RMSprop", dict(lr=0.01, **kwargs), device=device)


@pytest.mark.parametrize("kwargs", ADADELTA_CASES, ids=str)
def test_adadelta_follows_torch(kwargs, device):
    compare("Adadelta", kwargs, rtol=1e-12, atol=1e-12, device=device)


@pytest.mark.parametrize("kwargs", ADAGRAD_CASES, ids=str)
def test_adagrad_follows_torch(kwargs, device):
    compare("Adagrad", dict(lr=0.05, **kwargs), rtol=1e-12, atol=1e-12, device=device)


@pytest.mark.parametrize("cls_name,kwargs", VARIANT_CASES, ids=str)
def test_adam_variants_follow_torch(cls_name, kwargs, device):
    """(RAdam with β₂ = 0.5 takes its rectified adaptive step from step 2 on; with
    β₂ = 0.999 the first 5 steps are its plain momentum phase.)"""
    compare(cls_name, dict(lr=0.05, **kwargs), rtol=1e-12, atol=1e-12, device=device)


def test_adagrad_creates_state_eagerly_like_torch():
    """PyTorch fills Adagrad's state in the constructor, for every parameter."""
    torch = pytest.importorskip("torch")
    ours = optim.Adagrad([nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(3))],
                         initial_accumulator_value=0.25).state_dict()["state"]
    theirs = torch.optim.Adagrad([torch.nn.Parameter(torch.ones(2)),
                                  torch.nn.Parameter(torch.ones(3))],
                                 initial_accumulator_value=0.25).state_dict()["state"]
    assert ours.keys() == theirs.keys()
    for i in theirs:
        assert list(ours[i]) == list(theirs[i])
        for key in theirs[i]:
            np.testing.assert_array_equal(ours[i][key].numpy(), theirs[i][key].numpy())


@pytest.mark.parametrize("cls_name,kwargs,group_kwargs", [
    ("SGD", dict(lr=0.01, momentum=0.9), dict(lr=0.1, momentum=0.5, nesterov=True)),
    ("Adam", dict(lr=0.01), dict(lr=0.1, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01), dict(weight_decay=0.5, maximize=True)),
    ("RMSprop", dict(lr=0.01), dict(centered=True, momentum=0.3, lr=0.001)),
    ("Adadelta", dict(lr=0.5), dict(rho=0.7, weight_decay=0.2)),
    ("Adagrad", dict(lr=0.01), dict(lr_decay=0.5, lr=0.1)),
    ("NAdam", dict(lr=0.01), dict(momentum_decay=0.2, weight_decay=0.1)),
])
def test_per_group_options_follow_torch(cls_name, kwargs, group_kwargs, device):
    compare(cls_name, kwargs, groups_kw=(((0,), {}), ((1, 2), group_kwargs)), device=device)


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad",
                                      "Adamax", "NAdam", "RAdam"])
def test_float32_close_to_torch(cls_name, device):
    kwargs = dict(lr=0.01, momentum=0.9) if cls_name in ("SGD", "RMSprop") else dict(lr=0.01)
    compare(cls_name, kwargs, rtol=1e-4, atol=1e-5, dtype="float32", device=device)


def test_adam_first_step_is_lr_times_sign(device):
    """The bias correction makes Adam's first step ≈ lr·sign(g) whatever |g| is (adam.py),
    where the printed "Adam" θ ← θ − α∇J (docs/seeds.md#errata-002) would step by lr·g."""
    p = nn.Parameter(mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, device=device))
    p.grad = mg.tensor([1e-3, -50.0, 7.0], dtype=mg.float64, device=device)
    optim.Adam([p], lr=0.1, eps=1e-12).step()
    np.testing.assert_allclose(p.numpy(force=True), [0.9, -1.9, 2.9], rtol=1e-9)


def test_adam_equals_textbook_formula_not_the_printed_one():
    """Adam printed as θ ← θ − α∇J (docs/seeds.md#errata-002). minigrad's Adam equals the corrected textbook
    rule (m, v, m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − α m̂/(√v̂ + ε)) computed here in
    numpy from the same autograd gradients, and differs from the printed one."""
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    target = np.array([1.0, -2.0, 0.5])
    p = nn.Parameter(mg.tensor([0.3, 0.1, -0.4], dtype=mg.float64))
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    theta, m, v = p.detach().numpy().copy(), np.zeros(3), np.zeros(3)
    printed = theta.copy()
    for t in range(1, 8):
        opt.zero_grad()
        ((p - mg.tensor(target)) ** 4).sum().backward()
        g = p.grad.numpy().copy()
        opt.step()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(p.detach().numpy(), theta, rtol=1e-12, atol=1e-14)
        printed = printed - lr * 4 * (printed - target) ** 3
    assert not np.allclose(theta, printed, atol=1e-3)


# ---------------------------------------------------------------------- contract
def test_state_dict_layout_matches_torch_and_round_trips():
    torch = pytest.importorskip("torch")
    groups = (((0, 1), {}), ((2,), {"lr": 0.1}))
    _, ours = run("mg", "Adam", groups, dict(lr=0.05, amsgrad=True), steps=2)
    _, theirs = run("torch", "Adam", groups, dict(lr=0.05, amsgrad=True), steps=2)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1]      # param 2 has no grad
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0])
    assert sd["state"][0]["step"].dtype == mg.float32 and float(sd["state"][0]["step"]) == 2.0
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    shared = set(sd["param_groups"][0]) & set(tsd["param_groups"][0])
    assert {"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "params"} <= shared
    for key in shared - {"params"}:
        assert sd["param_groups"][1][key] == tsd["param_groups"][1][key], key


@pytest.mark.parametrize("cls_name,kwargs", [("SGD", dict(lr=0.01, momentum=0.9)),
                                             ("Adam", dict(lr=0.05)),
                                             ("RMSprop", dict(lr=0.01, centered=True))])
def test_resume_from_state_dict_continues_identically(cls_name, kwargs, device):
    """Six steps straight equal three steps, state_dict, a fresh optimizer over copied
    parameters, load_state_dict, three more steps."""
    straight, _ = run("mg", cls_name, (((0, 1, 2), {}),), kwargs, steps=6, device=device)
    first, opt = run("mg", cls_name, (((0, 1, 2), {}),), kwargs, steps=3, device=device)
    params = opt.param_groups[0]["params"]
    copies = [nn.Parameter(p.detach().clone()) for p in params]
    resumed = getattr(optim, cls_name)(copies, lr=123.0)
    resumed.load_state_dict(opt.state_dict())
    assert resumed.param_groups[0]["lr"] == kwargs["lr"]
    assert resumed.param_groups[0]["params"][0] is copies[0]
    _, data = initial_values(0)
    for _ in range(3):
        resumed.zero_grad()
        objective(mg, copies, data).backward()
        resumed.step()
    for p, expected in zip(copies, straight[-1]):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), expected)
    # The loaded state is a copy: stepping the resumed optimizer left the source alone.
    key = "momentum_buffer" if cls_name == "SGD" else "square_avg" if cls_name == "RMSprop" \
        else "exp_avg"
    assert resumed.state[copies[0]][key].array is not opt.state[params[0]][key].array


def test_load_state_dict_casts_to_parameter_dtype_and_checks_groups():
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    q = nn.Parameter(mg.ones(2, dtype=mg.float64))
    other = optim.SGD([q], lr=0.1, momentum=0.9)
    other.load_state_dict(sd)
    assert other.state[q]["momentum_buffer"].dtype == mg.float64
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [q]}, {"params": [nn.Parameter(mg.ones(1))]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([q, nn.Parameter(mg.ones(1))]).load_state_dict(sd)


def test_zero_grad_and_closure(device):
    p = nn.Parameter(mg.tensor([2.0], device=device))
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with mg.no_grad():
        loss = opt.step(closure)       # the closure runs with grad enabled regardless
    assert loss.item() == 4.0 and p.item() == 0.0
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()                         # no gradient: nothing happens
    assert p.item() == 0.0


def test_named_parameters_and_repr():
    m = nn.Module()
    m.w = nn.Parameter(mg.ones(2))
    opt = optim.Adam(m.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"]
    assert opt.param_groups[0]["params"][0] is m.w
    assert repr(opt).startswith("Adam (\nParameter Group 0\n    amsgrad: False\n")


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: optim.AdamW(p, lr=-1e-3), "Invalid learning rate: -0.001"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
    (lambda p: optim.Adadelta(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    (lambda p: optim.LBFGS(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "Invalid momentum_decay value: -1"),
    (lambda p: optim.RAdam(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.LBFGS([{"params": p}, {"params": [nn.Parameter(mg.ones(1))]}]),
     "LBFGS doesn't support per-parameter options"),
    (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda p: optim.SGD([(p[0] * 2)], lr=0.1), "can't optimize a non-leaf Tensor"),
    (lambda p: optim.SGD([{"params": p}, {"params": p}], lr=0.1),
     "some parameters appear in more than one parameter group"),
])
def test_validation_errors(make, message):
    params = [nn.Parameter(mg.ones(2))]
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(params)


def test_type_errors():
    p = nn.Parameter(mg.ones(2))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([p, 3], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)


def test_optimizer_keeps_no_graph_and_bumps_versions(device):
    p = nn.Parameter(mg.ones(3, device=device))
    opt = optim.Adam([p], lr=0.1)
    (p * 3).sum().backward()
    version = p._version
    opt.step()
    assert p.grad_fn is None and p.is_leaf and p._version > version
    assert all(t.grad_fn is None for t in opt.state[p].values())


@pytest.mark.parametrize("cls_name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                             ("AdamW", dict(lr=0.01, amsgrad=True))])
def test_end_to_end_training_follows_torch(cls_name, kwargs, device):
    """Module + DataLoader + optimizer + scheduler + clipping together: an MLP started
    from PyTorch's weights (loaded as numpy arrays) stays on PyTorch's trajectory for an
    epoch in float64."""
    torch = pytest.importorskip("torch")
    if not all(hasattr(nn, name) for name in ("Linear", "ReLU", "MSELoss")):
        pytest.skip("nn layers not available yet")
    from minigrad.utils.data import DataLoader, TensorDataset
    from minigrad.nn.utils import clip_grad_norm_
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 1)).double()
    ours = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.to(device)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 4)), rng.standard_normal((40, 1))
    runs = []
    for lib, model, loader in [
            (mg, ours, DataLoader(TensorDataset(mg.tensor(x, device=device), mg.tensor(y, device=device)),
                                  batch_size=8)),
            (torch, theirs, torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=8))]:
        optim_module = optim if lib is mg else torch.optim
        opt = getattr(optim_module, cls_name)(model.parameters(), **kwargs)
        sched = optim_module.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        clip = clip_grad_norm_ if lib is mg else torch.nn.utils.clip_grad_norm_
        loss_fn = nn.MSELoss() if lib is mg else torch.nn.MSELoss()
        norms = []
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            norms.append(float(clip(model.parameters(), 0.5)))
            opt.step()
            sched.step()
        runs.append(({k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()},
                     norms))

    (ours_sd, ours_norms), (theirs_sd, theirs_norms) = runs
    np.testing.assert_allclose(ours_norms, theirs_norms, rtol=1e-10)
    for k in theirs_sd:
        np.testing.assert_allclose(ours_sd[k], theirs_sd[k], rtol=1e-10, atol=1e-12, err_msg=k)
