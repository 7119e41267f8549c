"""The array path of every optimizer (the default; ``foreach=None/True`` or ``fused=True``)
against its Tensor-op reference (``foreach=False``, ``_reference_step``): the same
parameters, trajectories and state, bit for bit in float64 and float32, for every option
combination; plus what the path switch promises — PyTorch's flags and errors, one version
bump per step, the shared ``state_dict`` layout, and checkpoints crossing between paths
and from before the flags existed.
"""
import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

SHAPES = [(4, 3), (3,), (2, 3), ()]    # a 0-d parameter too: its scratch is a 0-d view
STEPS = 5


def grid(**options):
    return [dict(zip(options, values)) for values in itertools.product(*options.values())]


SGD_CASES = [kw for kw in grid(momentum=[0.0, 0.9], dampening=[0.0, 0.3],
                               weight_decay=[0.0, 0.1], nesterov=[False, True],
                               maximize=[False, True])
             if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))]
ADAM_CASES = grid(amsgrad=[False, True], weight_decay=[0.0, 0.05], maximize=[False, True],
                  betas=[(0.9, 0.999), (0.5, 0.0)])           # β₂ = 0: add_ with alpha 1
# α = 0 (add_ with alpha 1) only uncentred: centred it makes v − ḡ² = 0 and diverges.
RMSPROP_CASES = grid(momentum=[0.0, 0.8], centered=[False, True], weight_decay=[0.0, 0.1],
                     maximize=[False, True], alpha=[0.99, 0.5]) + grid(
                         momentum=[0.0, 0.8], alpha=[0.0], weight_decay=[0.1])
ADADELTA_CASES = grid(rho=[0.9, 0.0], weight_decay=[0.0, 0.1], maximize=[False, True],
                      lr=[1.0, 0.5])                      # ρ = 0: add_ with alpha 1
ADAGRAD_CASES = grid(lr_decay=[0.0, 0.2], weight_decay=[0.0, 0.1], maximize=[False, True],
                     initial_accumulator_value=[0.0, 0.3])
VARIANT_CASES = (
    [("Adamax", kw) for kw in grid(weight_decay=[0.0, 0.1], maximize=[False, True])]
    + [(name, kw) for name in ("NAdam", "RAdam")
       for kw in grid(weight_decay=[0.0, 0.1], maximize=[False, True],
                      decoupled_weight_decay=[False, True], betas=[(0.9, 0.999), (0.9, 0.5)])])
CASES = ([("SGD", dict(lr=0.01, **kw)) for kw in SGD_CASES]
         + [(name, dict(lr=0.05, **kw)) for name, kw in VARIANT_CASES]
         + [("Adadelta", kw) for kw in ADADELTA_CASES]
         + [("Adagrad", dict(lr=0.05, **kw)) for kw in ADAGRAD_CASES]
         + [(name, dict(lr=0.05, eps=1e-6, **kw)) for name in ("Adam", "AdamW")
            for kw in ADAM_CASES]
         + [("RMSprop", dict(lr=0.01, **kw)) for kw in RMSPROP_CASES])


def loss_of(params, data):
    """Smooth and non-quadratic; the 0-d parameter enters too, the last 2-d one does not
    (a parameter without a gradient must be skipped by both paths)."""
    w, b, _, c = params
    h = data @ w + b
    return (h * h * h * h).sum() * 0.01 + (h - 1.0).sum() + (w * w).sum() + c * c * c * c + c


def trajectory(cls_name, kwargs, dtype, device, steps=STEPS, share_grad=False):
    """Parameter and state arrays after each of ``steps`` updates, on the host."""
    rng = np.random.default_rng(0)
    params = [nn.Parameter(mg.tensor(rng.standard_normal(s), dtype=dtype, device=device))
              for s in SHAPES]
    data = mg.tensor(rng.standard_normal((5, 4)), dtype=dtype, device=device)
    opt = getattr(optim, cls_name)(params, **kwargs)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(params, data).backward()
        if share_grad:
            # One array as the gradient of two leaves (as expand's VJP can leave it): the
            # update must read it, never write it.
            params[1].grad = params[0].grad[0, :3]
        opt.step()
        state = {(i, k): v.detach().cpu().numpy().copy()
                 for i, p in enumerate(params) for k, v in opt.state[p].items()}
        history.append(([p.detach().cpu().numpy().copy() for p in params], state))
    return history, opt, params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls_name,kwargs", CASES, ids=str)
def test_array_path_equals_reference(cls_name, kwargs, dtype, device):
    """Same ufuncs, same scalars, same order: equal to the last bit in float64 and in
    float32 alike (the 1e-6 relative bound allowed for float32 is not needed)."""
    dtype = getattr(mg, dtype)
    fast, _, _ = trajectory(cls_name, kwargs, dtype, device)
    slow, _, _ = trajectory(cls_name, dict(kwargs, foreach=False), dtype, device)
    for step, ((fast_p, fast_s), (slow_p, slow_s)) in enumerate(zip(fast, slow), 1):
        for i, (a, b) in enumerate(zip(fast_p, slow_p)):
            np.testing.assert_array_equal(a, b, err_msg=f"step {step}, parameter {i}")
        assert fast_s.keys() == slow_s.keys()
        for key in slow_s:
            assert fast_s[key].dtype == slow_s[key].dtype
            np.testing.assert_array_equal(fast_s[key], slow_s[key], f"step {step}, {key}")
    assert all(np.isfinite(a).all() for a in fast[-1][0])   # a NaN would equal a NaN
    assert not np.array_equal(fast[-1][0][0], fast[0][0][0])
    np.testing.assert_array_equal(fast[-1][0][2], fast[0][0][2])   # no gradient: untouched


@pytest.mark.parametrize("cls_name,kwargs", [
    ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.05, weight_decay=0.1, maximize=True))])
def test_shared_gradient_is_read_not_written(cls_name, kwargs, device):
    fast, _, params = trajectory(cls_name, kwargs, mg.float64, device, share_grad=True)
    slow, _, _ = trajectory(cls_name, dict(kwargs, foreach=False), mg.float64, device,
                            share_grad=True)
    for (a, _), (b, _) in zip(fast, slow):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("flags", [dict(), dict(foreach=True), dict(fused=True)], ids=str)
def test_foreach_and_fused_select_the_array_path(flags, monkeypatch):
    p = nn.Parameter(mg.ones(3))
    p.grad = mg.ones(3)
    opt = optim.Adam([p], **flags)
    monkeypatch.setattr(opt, "_reference_step", lambda group: pytest.fail("reference path"))
    opt.step()
    assert opt.param_groups[0]["foreach"] == flags.get("foreach")
    reference = optim.Adam([p], foreach=False)
    monkeypatch.setattr(reference, "_array_step", lambda group: pytest.fail("array path"))
    reference.step()


@pytest.mark.parametrize("make,error,message", [
    (lambda p: optim.Adam(p, foreach=True, fused=True), RuntimeError, "cannot be `True`"),
    (lambda p: optim.SGD(p, foreach=True, fused=True), RuntimeError, "cannot be `True`"),
    (lambda p: optim.SGD(p, differentiable=True), NotImplementedError, "differentiable"),
    (lambda p: optim.Adam(p, differentiable=True), NotImplementedError, "differentiable"),
    (lambda p: optim.AdamW(p, capturable=True), NotImplementedError, "capturable"),
    (lambda p: optim.RMSprop(p, capturable=True), NotImplementedError, "capturable"),
    (lambda p: optim.RMSprop(p, differentiable=True), NotImplementedError, "differentiable"),
    (lambda p: optim.Adadelta(p, capturable=True), NotImplementedError, "capturable"),
    (lambda p: optim.Adagrad(p, differentiable=True), NotImplementedError, "differentiable"),
    (lambda p: optim.Adagrad(p, foreach=True, fused=True), RuntimeError, "cannot be `True`"),
])
def test_unsupported_modes_raise(make, error, message):
    with pytest.raises(error, match=message):
        make([nn.Parameter(mg.ones(2))])


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad",
                                      "Adamax", "NAdam", "RAdam", "LBFGS"])
def test_group_keys_match_torch(cls_name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, cls_name)([nn.Parameter(mg.ones(2))]).state_dict()["param_groups"]
    theirs = getattr(torch.optim, cls_name)([torch.nn.Parameter(torch.ones(2))])
    assert ours == theirs.state_dict()["param_groups"]


@pytest.mark.parametrize("cls_name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                             ("AdamW", dict(lr=0.1, amsgrad=True)),
                                             ("RMSprop", dict(momentum=0.5, centered=True)),
                                             ("Adadelta", dict(weight_decay=0.1)),
                                             ("Adagrad", dict(lr_decay=0.1)),
                                             ("NAdam", dict(weight_decay=0.1)),
                                             ("RAdam", dict(betas=(0.9, 0.5)))])
def test_one_version_bump_per_step(cls_name, kwargs, device):
    p = nn.Parameter(mg.ones(3, device=device))
    opt = getattr(optim, cls_name)([p], **kwargs)
    for step in range(1, 4):
        p.grad = mg.full((3,), float(step), device=device)
        version = p._version
        opt.step()
        assert p._version == version + 1 and p.grad_fn is None
        assert all(t.grad_fn is None for t in opt.state[p].values())
    # A graph that saved p before the step now refuses to run backward, as after add_.
    q = nn.Parameter(mg.ones(3, device=device))
    y = (q * q).sum()
    q.grad = mg.ones(3, device=device)
    getattr(optim, cls_name)([q], **kwargs).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("cls_name,kwargs", [("SGD", dict(lr=0.01, momentum=0.9)),
                                             ("Adam", dict(lr=0.05, amsgrad=True)),
                                             ("RMSprop", dict(lr=0.01, centered=True,
                                                              momentum=0.3)),
                                             ("Adadelta", dict(rho=0.5)),
                                             ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
                                             ("Adamax", dict(lr=0.05)),
                                             ("RAdam", dict(lr=0.05, betas=(0.9, 0.5)))])
def test_checkpoint_crosses_paths_and_predates_flags(cls_name, kwargs, device):
    """Three array-path steps, a state_dict stripped of the implementation flags (as a
    checkpoint written before they existed), loaded into a reference-path optimizer, two
    more steps: equal to five array-path steps."""
    straight, _, _ = trajectory(cls_name, kwargs, mg.float64, device, steps=5)
    _, opt, params = trajectory(cls_name, kwargs, mg.float64, device, steps=3)
    saved = opt.state_dict()
    for group in saved["param_groups"]:
        for flag in ("foreach", "fused", "capturable", "differentiable"):
            group.pop(flag, None)
    resumed = getattr(optim, cls_name)(params, foreach=False)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["foreach"] is False    # the constructor's, filled in
    data = mg.tensor(_data(), dtype=mg.float64, device=device)
    for _ in range(2):
        resumed.zero_grad()
        loss_of(params, data).backward()
        resumed.step()
    for p, expected in zip(params, straight[-1][0]):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), expected)


def test_nadam_checkpoint_casts_mu_product_like_torch():
    """Not in the exact-resume test above: PyTorch's load_state_dict casts every state
    tensor but ``step`` to the parameter's dtype, NAdam's float32 ``mu_product`` included,
    so a resumed float64 NAdam drifts from an uninterrupted one (by ~1e-11 here) in
    PyTorch, and identically in minigrad."""
    torch = pytest.importorskip("torch")
    dtypes = []
    for lib in (mg, torch):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        opt = lib.optim.NAdam([p])
        p.grad = lib.ones(3, dtype=lib.float64)
        opt.step()
        assert str(opt.state[p]["mu_product"].dtype).endswith("float32")
        resumed = lib.optim.NAdam([p])
        resumed.load_state_dict(opt.state_dict())
        dtypes.append(str(resumed.state[p]["mu_product"].dtype).split(".")[-1])
    assert dtypes == ["float64", "float64"]


def _data():
    """The data ``trajectory`` draws after the parameters (same generator, same order)."""
    rng = np.random.default_rng(0)
    for s in SHAPES:
        rng.standard_normal(s)
    return rng.standard_normal((5, 4))
