"""An optimizer never applies half a step: a gradient it could not apply is refused when it
is assigned (PyTorch's checks on ``.grad =``), and bad hyperparameters, NaN included, are
refused by the constructor with PyTorch's ValueError."""
import numpy as np
import pytest

import minigrad as mg

OPTIMIZERS = {
    "sgd": lambda ps: mg.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: mg.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    "adam": lambda ps: mg.optim.Adam(ps, lr=0.1),
    "adamw": lambda ps: mg.optim.AdamW(ps, lr=0.1, weight_decay=0.5),
    "rmsprop": lambda ps: mg.optim.RMSprop(ps, lr=0.1),
}
BAD_GRADS = {
    "wrong_shape": (lambda: mg.ones(3), RuntimeError, "size '\\[3\\]' to a tensor of size '\\[2\\]'"),
    "numpy_array": (lambda: np.ones(2, dtype=np.float32), TypeError, "numpy.ndarray"),
    "python_float": (lambda: 1.0, TypeError, "type float"),
    "float64": (lambda: mg.ones(2, dtype=mg.float64), RuntimeError, "dtype 'float64'"),
    "int64": (lambda: mg.tensor([1, 2]), RuntimeError, "dtype 'int64'"),
}


@pytest.mark.parametrize("bad", sorted(BAD_GRADS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_bad_grad_is_refused_and_the_step_changes_nothing_it_should_not(name, bad):
    a = mg.nn.Parameter(mg.tensor([1.0, 2.0]))
    b = mg.nn.Parameter(mg.tensor([3.0, 4.0]))
    opt = OPTIMIZERS[name]([a, b])
    make, error, message = BAD_GRADS[bad]
    a.grad = mg.tensor([0.5, -0.5])
    with pytest.raises(error, match=message):
        b.grad = make()
    assert b.grad is None
    opt.step()                               # a steps; b, without a gradient, is untouched
    assert b.tolist() == [3.0, 4.0] and a.tolist() != [1.0, 2.0]


def test_grad_assignment_matches_torch_rules():
    torch = pytest.importorskip("torch")
    for make, _, _ in BAD_GRADS.values():
        value = make()
        theirs = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
        ours = mg.nn.Parameter(mg.tensor([1.0, 2.0]))
        torch_value = torch.from_numpy(value.numpy()) if isinstance(value, mg.Tensor) else value
        with pytest.raises(Exception) as torch_error:
            theirs.grad = torch_value
        with pytest.raises(torch_error.type):
            ours.grad = value
    ours = mg.zeros(2, dtype=mg.int64)             # integer tensors may hold integer grads
    ours.grad = mg.ones(2, dtype=mg.int64)
    ours.grad = None
    assert ours.grad is None


NAN = float("nan")


@pytest.mark.parametrize("make, option", [
    (lambda ps: mg.optim.Adam(ps, lr=NAN), "learning rate"),
    (lambda ps: mg.optim.Adam(ps, weight_decay=NAN), "weight_decay"),
    (lambda ps: mg.optim.Adam(ps, eps=NAN), "epsilon"),
    (lambda ps: mg.optim.Adam(ps, betas=(0.9, NAN)), "beta parameter at index 1"),
    (lambda ps: mg.optim.AdamW(ps, lr=NAN), "learning rate"),
    (lambda ps: mg.optim.RMSprop(ps, lr=NAN), "learning rate"),
    (lambda ps: mg.optim.RMSprop(ps, alpha=NAN), "alpha"),
])
def test_nan_hyperparameters_are_refused_like_torch(make, option):
    with pytest.raises(ValueError, match=f"Invalid {option}"):
        make([mg.nn.Parameter(mg.ones(2))])


def test_sgd_accepts_nan_like_torch():
    # PyTorch's SGD writes ``lr < 0.0`` (NaN passes); the CLI validates its own options.
    mg.optim.SGD([mg.nn.Parameter(mg.ones(2))], lr=0.1, momentum=NAN, weight_decay=NAN)
