"""Learning-rate schedulers: the lr sequence of every group equals PyTorch's, step by step,
including resuming from state_dict and the closed forms behind step(epoch)."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

EPOCHS = 40


def lam(epoch):
    return 0.95 ** epoch


def lam2(epoch):
    return 1.0 / (1 + epoch)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 25], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lam)),
    ("LambdaLR", dict(lr_lambda=[lam, lam2])),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=12)),
]


def make_optimizer(lib):
    if lib == "torch":
        import torch
        params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(1))]
        return torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.3}],
                               lr=0.1, momentum=0.9)
    params = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(1))]
    return optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.3}], lr=0.1,
                     momentum=0.9)


def lr_sequence(lib, name, kwargs, epochs=EPOCHS):
    if lib == "torch":
        import torch
        module = torch.optim.lr_scheduler
    else:
        module = lr_scheduler
    opt = make_optimizer(lib)
    sched = getattr(module, name)(opt, **kwargs)
    seq = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
        assert seq[-1] == [g["lr"] for g in opt.param_groups]
    return seq


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=lambda v: str(v))
def test_lr_sequence_equals_torch(name, kwargs):
    pytest.importorskip("torch")
    ours, theirs = lr_sequence("mg", name, kwargs), lr_sequence("torch", name, kwargs)
    # The recursive forms are reproduced operation for operation: equal to the last bit.
    assert ours == theirs


@pytest.mark.parametrize("name,kwargs", [s for s in SCHEDULES if s[0] != "LambdaLR"],
                         ids=lambda v: str(v))
def test_recursive_values_stay_close_to_closed_form(name, kwargs):
    opt = make_optimizer("mg")
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for epoch in range(1, 25):
        opt.step()
        sched.step()
        np.testing.assert_allclose(sched.get_last_lr(), sched._get_closed_form_lr(), rtol=1e-9,
                                   atol=1e-12)


def test_step_with_epoch_uses_closed_form_like_torch():
    torch = pytest.importorskip("torch")
    ours = lr_scheduler.StepLR(make_optimizer("mg"), step_size=3, gamma=0.5)
    theirs = torch.optim.lr_scheduler.StepLR(make_optimizer("torch"), step_size=3, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [5, 2, 9]:
            ours.optimizer.step(), theirs.optimizer.step()
            ours.step(epoch)
            theirs.step(epoch)
            assert ours.get_last_lr() == theirs.get_last_lr()


@pytest.mark.parametrize("name,kwargs", [("CosineAnnealingLR", dict(T_max=10)),
                                         ("MultiStepLR", dict(milestones=[2, 6], gamma=0.5)),
                                         ("LambdaLR", dict(lr_lambda=lam))])
def test_resume_from_state_dict(name, kwargs):
    """Twelve straight steps equal five steps, saved state of optimizer and scheduler,
    fresh objects loaded from it, and seven more steps."""
    straight = lr_sequence("mg", name, kwargs, epochs=12)
    opt = make_optimizer("mg")
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(5):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    opt2 = make_optimizer("mg")
    opt2.load_state_dict(opt_state)
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    sched2.load_state_dict(sched_state)
    resumed = []
    for _ in range(7):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    assert resumed == straight[6:]


def test_initial_lr_and_base_lrs():
    opt = make_optimizer("mg")
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.base_lrs == [0.1, 0.3] and sched.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer("mg"), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(make_optimizer("mg"), [lam])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(make_optimizer("mg"), start_factor=0)


def test_warns_when_stepped_before_optimizer():
    sched = lr_scheduler.StepLR(make_optimizer("mg"), step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = make_optimizer("mg")
    sched = lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
