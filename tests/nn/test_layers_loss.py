"""Loss layers against torch.nn: reprs, buffers (class weights, pos_weight) in state_dict,
equal values and input gradients for each reduction and option."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from tests.nn.parity import assert_same_state_layout, leaf, run_both


def _cases(torch, rng):
    weight = rng.uniform(0.5, 2, 4)
    yield "CrossEntropyLoss", dict(weight=weight, ignore_index=1, label_smoothing=0.1), "class"
    yield "CrossEntropyLoss", dict(reduction="sum"), "prob"
    yield "NLLLoss", dict(weight=weight, reduction="none"), "class"
    yield "MSELoss", dict(reduction="sum"), "real"
    yield "L1Loss", dict(), "real"
    yield "BCELoss", dict(weight=weight), "unit"
    yield "BCEWithLogitsLoss", dict(pos_weight=rng.uniform(0.5, 2, 4), reduction="none"), "real01"


def test_losses_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for name, options, kind in _cases(torch, rng):
        mg_opts = {k: mg.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k,
                   v in options.items()}
        t_opts = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                  for k, v in options.items()}
        ours, theirs = getattr(nn, name)(**mg_opts), getattr(torch.nn, name)(**t_opts)
        assert repr(ours) == repr(theirs)
        assert_same_state_layout(ours, theirs)
        x = leaf(rng.uniform(0.05, 0.95, (3, 4)) if kind == "unit" else rng.standard_normal((3, 4)),
                 device=device)
        if kind == "class":
            target = rng.integers(0, 4, 3)
            run_both(torch, lambda x: ours(x, mg.tensor(target, device=device)),
                     lambda x: theirs(x, torch.from_numpy(target)), [x])
        else:
            y = rng.dirichlet(np.ones(4), 3) if kind == "prob" else (
                rng.standard_normal((3, 4)) if kind == "real" else rng.uniform(0, 1, (3, 4)))
            run_both(torch, lambda x: ours(x, mg.tensor(y, device=device)),
                     lambda x: theirs(x, torch.from_numpy(y)), [x])


def test_weights_are_buffers_and_legacy_flags(device):
    loss = nn.CrossEntropyLoss(weight=mg.ones(3, device=device)).to(device)
    assert list(loss.state_dict()) == ["weight"] and not list(loss.parameters())
    assert list(nn.BCEWithLogitsLoss(pos_weight=mg.ones(2, device=device)).to(device).state_dict()) == ["pos_weight"]
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).to(device).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False, size_average=True).to(device).reduction == "none"
