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
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("MultiplicativeLR", dict(lr_lambda=lam2)),
    ("MultiplicativeLR", dict(lr_lambda=[lam, lam2])),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=12, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
]
# No closed form to compare with: LambdaLR is one; the others' recursions are checked
# against PyTorch above.
NO_CLOSED_FORM = ("LambdaLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts")


def make_optimizer(lib):
    if lib == "torch":
        import torch
        params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(1))]
        return torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.3}],
                               lr=0.1, momentum=0.9)
    params = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(1))]
    return optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.3}], lr=0.1,
                     momentum=0.9)


def lr_sequence(lib, name, kwargs, epochs=EPOCHS, opt=None, make=None):
    if lib == "torch":
        import torch
        module = torch.optim.lr_scheduler
    else:
        module = lr_scheduler
    opt = opt if opt is not None else make_optimizer(lib)
    sched = make(module, opt) if make else getattr(module, name)(opt, **kwargs)
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


@pytest.mark.parametrize("name,kwargs", [s for s in SCHEDULES if s[0] not in NO_CLOSED_FORM],
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


def sequential(module, opt):
    warmup = module.LinearLR(opt, start_factor=0.1, total_iters=4)
    decay = module.ExponentialLR(opt, gamma=0.8)
    constant = module.ConstantLR(opt, factor=0.5, total_iters=3)
    cosine = module.CosineAnnealingLR(opt, T_max=6, eta_min=0.01)
    return module.SequentialLR(opt, [warmup, decay, constant, cosine], milestones=[5, 12, 20])


def test_sequential_lr_equals_torch():
    pytest.importorskip("torch")
    ours = lr_sequence("mg", None, None, make=sequential)
    assert ours == lr_sequence("torch", None, None, make=sequential)
    assert len(set(map(tuple, ours))) > 20          # every phase really changed the lr


def test_sequential_lr_checks_and_resumes():
    opt = make_optimizer("mg")
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        lr_scheduler.SequentialLR(opt, [], milestones=[])
    step = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="number of milestones to be equal to 2"):
        lr_scheduler.SequentialLR(opt, [step], milestones=[1, 2])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(opt, [step, lr_scheduler.StepLR(make_optimizer("mg"), 2)],
                                  milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(opt, [step, lr_scheduler.ReduceLROnPlateau(opt)],
                                  milestones=[3])
    straight = lr_sequence("mg", None, None, epochs=15, make=sequential)
    opt = make_optimizer("mg")
    sched = sequential(lr_scheduler, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    # PyTorch's resume order: build both, then load both (building a warm-up scheduler
    # rescales the lr it finds, so it must not come after the optimizer's load).
    opt2 = make_optimizer("mg")
    sched2 = sequential(lr_scheduler, opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    resumed = []
    for _ in range(8):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    assert resumed == straight[8:]


def make_for(lib, cls_name, **kwargs):
    if lib == "torch":
        import torch
        params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(1))]
        optim_module = torch.optim
    else:
        params = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(1))]
        optim_module = optim
    return getattr(optim_module, cls_name)([{"params": params[:1]},
                                            {"params": params[1:], "lr": 0.3}], **kwargs)


ONE_CYCLE = [
    ("SGD", dict(momentum=0.9), dict(max_lr=1.0, total_steps=30)),
    ("SGD", dict(momentum=0.9), dict(max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=7,
                                     anneal_strategy="linear", three_phase=True)),
    ("SGD", dict(), dict(max_lr=0.4, total_steps=20, cycle_momentum=False, pct_start=0.5)),
    ("Adam", dict(), dict(max_lr=0.01, total_steps=25, base_momentum=[0.8, 0.7],
                          max_momentum=0.9, div_factor=10.0, final_div_factor=100.0)),
    ("AdamW", dict(), dict(max_lr=0.01, total_steps=17, three_phase=True, pct_start=0.25)),
]


@pytest.mark.parametrize("cls_name,opt_kwargs,kwargs", ONE_CYCLE, ids=str)
def test_one_cycle_lr_equals_torch(cls_name, opt_kwargs, kwargs):
    """Learning rates and momenta (SGD's momentum or Adam's β₁) at every step, and the
    group keys the scheduler writes, as PyTorch's; stepping past the end raises."""
    torch = pytest.importorskip("torch")
    runs = []
    for lib, module in (("mg", lr_scheduler), ("torch", torch.optim.lr_scheduler)):
        opt = make_for(lib, cls_name, lr=0.1, **opt_kwargs)
        sched = module.OneCycleLR(opt, **kwargs)
        total = sched.total_steps
        seq = []
        for _ in range(total):
            seq.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match=f"Tried to step {total + 1} times"):
            sched.step()
        runs.append((seq, [{k: v for k, v in g.items() if k != "params"}
                           for g in opt.param_groups]))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize("make,error,message", [
    (lambda m, o: m.OneCycleLR(o, 1.0), ValueError, "You must define either"),
    (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda m, o: m.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=0), ValueError,
     "Expected positive integer steps_per_epoch"),
    (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=5, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start"),
    (lambda m, o: m.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy="exp"),
     ValueError, "anneal_strategy must be one of"),
    (lambda m, o: m.OneCycleLR(o, [1.0], total_steps=5), ValueError,
     "max_lr must have the same length as optimizer.param_groups"),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be"),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
     "threshold mode x is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     "expected 2 min_lrs, got 1"),
])
def test_new_scheduler_errors_match_torch(make, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(error, match=message):
        make(lr_scheduler, make_optimizer("mg"))
    with pytest.raises(error, match=message):
        make(torch.optim.lr_scheduler, make_optimizer("torch"))


def test_one_cycle_needs_momentum():
    p = nn.Parameter(mg.ones(2))
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([p]), 1.0, total_steps=5)
    lr_scheduler.OneCycleLR(optim.Adagrad([p]), 1.0, total_steps=5, cycle_momentum=False)


PLATEAU = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold=0.05, factor=0.3, cooldown=2),
    dict(threshold_mode="abs", threshold=0.02, patience=0, cooldown=1, min_lr=[0.01, 0.05]),
    dict(mode="max", threshold_mode="abs", patience=1, min_lr=0.02, eps=0.05),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=str)
def test_reduce_lr_on_plateau_equals_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    # Improving, then a noisy plateau, a short improvement, and another plateau.
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.01 * rng.standard_normal(15),
                              np.linspace(0.5, 0.3, 5), 0.3 + 0.02 * np.abs(rng.standard_normal(22))])
    runs = []
    for lib, module in (("mg", lr_scheduler), ("torch", torch.optim.lr_scheduler)):
        opt = make_optimizer(lib)
        sched = module.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for metric in metrics:
            opt.step()
            sched.step(mg.tensor(metric) if lib == "mg" else torch.tensor(metric))
            seq.append((sched.get_last_lr(), sched.best, sched.num_bad_epochs,
                        sched.cooldown_counter, sched.last_epoch))
        runs.append(seq)
    assert runs[0] == runs[1]
    assert runs[0][-1][0] != runs[0][0][0]         # the lr really came down


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt = make_optimizer("mg")
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for metric in (1.0, 1.0, 1.0, 0.5):
        sched.step(metric)
    fresh = lr_scheduler.ReduceLROnPlateau(make_optimizer("mg"))
    fresh.load_state_dict(sched.state_dict())
    assert (fresh.best, fresh.patience, fresh.num_bad_epochs, fresh.last_epoch) == (0.5, 1, 0, 4)
    assert fresh._is_better(0.4, 0.5) and not fresh._is_better(0.49996, 0.5)


class SubclassSGD(optim.Optimizer):
    """A user's optimizer that overrides ``step`` (as PyTorch programs do)."""

    def __init__(self, params, lr):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.data.add_(p.grad, alpha=-group["lr"])


def test_user_optimizer_subclass_gets_no_spurious_warning():
    """PyTorch wraps the optimizer instance's step when a scheduler is built, so a subclass
    overriding step is tracked too: no warning when it steps first, the warning when not."""
    p = nn.Parameter(mg.ones(2))
    opt = SubclassSGD([p], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    p.grad = mg.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.05
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9])
    late = SubclassSGD([nn.Parameter(mg.ones(2))], lr=0.1)
    sched = lr_scheduler.StepLR(late, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_warns_when_step_is_replaced_after_the_scheduler():
    opt = make_optimizer("mg")
    sched = lr_scheduler.StepLR(opt, step_size=1)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="has been overridden after learning rate scheduler"):
        sched.step()


def chained(module, opt):
    return module.ChainedScheduler([module.ConstantLR(opt, factor=0.1, total_iters=2),
                                    module.ExponentialLR(opt, gamma=0.9)])


def test_chained_scheduler_equals_torch_and_resumes():
    pytest.importorskip("torch")
    ours = lr_sequence("mg", None, None, make=chained)
    assert ours == lr_sequence("torch", None, None, make=chained)
    opt = make_optimizer("mg")
    sched = chained(lr_scheduler, opt)
    for _ in range(5):
        opt.step()
        sched.step()
    opt2 = make_optimizer("mg")
    sched2 = chained(lr_scheduler, opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    opt2.step()
    sched2.step()
    assert sched2.get_last_lr() == ours[6]


def test_warm_restarts_fractional_epochs_equal_torch():
    torch = pytest.importorskip("torch")
    runs = []
    for lib, module in (("mg", lr_scheduler), ("torch", torch.optim.lr_scheduler)):
        opt = make_optimizer(lib)
        sched = module.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3, eta_min=0.001)
        seq = []
        for epoch in range(12):
            for i in range(4):
                opt.step()
                sched.step(epoch + i / 4)
                seq.append(sched.get_last_lr())
        runs.append(seq)
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer("mg"), T_0=0)
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        lr_scheduler.MultiplicativeLR(make_optimizer("mg"), lr_lambda=0.5)
