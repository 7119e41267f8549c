"""utils.checkpoint against the same computation without checkpointing (and torch's rules):
equal gradients for inputs and parameters with dropout (random state replayed), keyword
arguments, non-tensor outputs, autograd.grad, checkpoint_sequential, activations actually
freed, and the reentrant variant's warnings/errors as PyTorch gives them."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.utils.checkpoint import checkpoint, checkpoint_sequential

try:
    import torch
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)
F = mg.nn.functional


def _model(seed=0):
    mg.manual_seed(seed)
    return mg.nn.Sequential(mg.nn.Linear(6, 16), mg.nn.GELU(), mg.nn.Dropout(0.3),
                            mg.nn.Linear(16, 16), mg.nn.LayerNorm(16), mg.nn.Dropout(0.3),
                            mg.nn.Linear(16, 3)).double()


def _grads(model, x):
    return [x.grad] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradients_equal_plain_run_with_dropout(use_reentrant):
    x = mg.randn(5, 6, dtype=mg.float64, requires_grad=True)
    runs = []
    for wrapped in (False, True):
        model = _model()
        x.grad = None
        mg.manual_seed(7)
        out = checkpoint(model, x, use_reentrant=use_reentrant) if wrapped else model(x)
        mg.randn(3)      # the random state moves on before backward: the rerun must replay
        (out * mg.arange(3.0, dtype=mg.float64)).sum().backward()
        runs.append((out.detach().numpy(), [g.numpy() for g in _grads(model, x)]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_without_preserved_rng_state_dropout_masks_differ():
    x = mg.randn(40, 6, dtype=mg.float64, requires_grad=True)
    model = _model()
    mg.manual_seed(3)
    checkpoint(model, x, use_reentrant=False, preserve_rng_state=False).sum().backward()
    replayed = x.grad.numpy().copy()
    x.grad = None
    mg.manual_seed(3)
    model(x).sum().backward()
    assert not np.array_equal(replayed, x.grad.numpy())


def test_kwargs_non_tensor_outputs_and_autograd_grad():
    w = mg.randn(4, 4, dtype=mg.float64, requires_grad=True)

    def fn(a, *, scale, tag):
        h = (a @ w).sin() * scale
        return h, tag, a.shape[0]
    a = mg.randn(2, 4, dtype=mg.float64, requires_grad=True)
    h, tag, n = checkpoint(fn, a, use_reentrant=False, scale=3.0, tag="x")
    assert tag == "x" and n == 2
    got = mg.autograd.grad((h ** 2).sum(), (a, w))
    plain = fn(a, scale=3.0, tag="x")[0]
    want = mg.autograd.grad((plain ** 2).sum(), (a, w))
    for g, e in zip(got, want):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale,tag"):
        checkpoint(fn, a, use_reentrant=True, scale=3.0, tag="x")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        torch.utils.checkpoint.checkpoint(lambda t, scale: t, torch.ones(1), use_reentrant=True,
                                          scale=1)


def test_parameter_grads_when_no_input_requires_grad():
    lin = mg.nn.Linear(3, 2)
    x = mg.randn(4, 3)
    checkpoint(lin, x, use_reentrant=False).sum().backward()
    assert lin.weight.grad is not None
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)),
                               rtol=1e-6)
    # reentrant: like PyTorch, a warning and no graph at all
    lin.weight.grad = None
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(lin, x, use_reentrant=True)
    assert not out.requires_grad
    tl = torch.nn.Linear(3, 2)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        assert not torch.utils.checkpoint.checkpoint(tl, torch.randn(4, 3),
                                                     use_reentrant=True).requires_grad


def test_missing_use_reentrant_warns_like_torch():
    x = mg.randn(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        torch.utils.checkpoint.checkpoint(lambda t: t * 2, torch.ones(2, requires_grad=True))


@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_plain(segments):
    x = mg.randn(5, 6, dtype=mg.float64, requires_grad=True)
    results = []
    for wrapped in (False, True):
        model = _model()
        x.grad = None
        mg.manual_seed(11)
        out = checkpoint_sequential(model, segments, x, use_reentrant=False) if wrapped \
            else model(x)
        out.pow(2).sum().backward()
        results.append([out.detach().numpy()] + [g.numpy() for g in _grads(model, x)])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_activations_are_freed_until_backward():
    seen = []

    def fn(a):
        h = a.exp()
        seen.append(weakref.ref(h))
        return (h * h).sum()
    x = mg.randn(100, requires_grad=True)
    plain = fn(x)
    gc.collect()
    assert seen[-1]() is not None           # kept for (h*h)'s backward
    out = checkpoint(fn, x, use_reentrant=False)
    gc.collect()
    assert seen[-1]() is None                # freed: backward will recompute it
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.detach().numpy()), rtol=1e-5)
    del plain


def test_signature_options_like_torch():
    from minigrad.utils.checkpoint import noop_context_fn
    x = mg.randn(3, requires_grad=True)
    out = checkpoint(lambda t: t.exp(), x, use_reentrant=False, determinism_check="none",
                     context_fn=noop_context_fn, preserve_rng_state=False)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()), rtol=1e-6)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="always")
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        torch.utils.checkpoint.checkpoint(lambda t: t, torch.ones(1, requires_grad=True),
                                          use_reentrant=False, determinism_check="always")
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
