"""Module hooks: forward pre-hooks (with_kwargs), forward hooks (with_kwargs, always_call,
prepend), full backward hooks and pre-hooks, the deprecated register_backward_hook, global
module hooks, handles. The same program runs on minigrad and PyTorch and must log the same
calls, values and gradients."""
import warnings

import pytest

import minigrad as mg


def values(gs):
    return [None if g is None else g.tolist() for g in gs]


def hook_program(lib):
    nn = lib.nn
    log = []
    lin = nn.Linear(3, 2).double()
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[1., 2., 3.], [4., 5., 6.]], dtype=lib.float64))
        lin.bias.copy_(lib.tensor([0.5, -0.5], dtype=lib.float64))
    handles = [
        lin.register_forward_pre_hook(lambda m, a: log.append(("pre", list(a[0].shape)))
                                      or (a[0] * 2,)),
        lin.register_forward_hook(lambda m, a, o: o + 1),
        lin.register_forward_hook(lambda m, a, k, o: log.append(("fwd-kw", sorted(k))),
                                  with_kwargs=True),
        lin.register_forward_hook(lambda m, a, o: log.append(("first", values([o]))),
                                  prepend=True),
        lin.register_full_backward_hook(
            lambda m, gi, go: log.append(("bw", values(gi), values(go))) or (gi[0] * 10,)),
        lin.register_full_backward_pre_hook(
            lambda m, go: log.append(("bw-pre", values(go))) or (go[0] * 3,)),
    ]
    x = lib.tensor([[1., 2., 3.]], dtype=lib.float64, requires_grad=True)
    y = lin(x)
    log.append(("y", y.tolist()))
    y.sum().backward()
    log.append(("grads", x.grad.tolist(), lin.weight.grad.tolist()))
    for h in handles:
        h.remove()
    log.append(("unhooked", lin(x).tolist()))

    # no input requires grad: the full hook fires from the outputs, grad_input all None
    lin2 = nn.Linear(3, 1).double()
    lin2.register_full_backward_hook(lambda m, gi, go: log.append(("no-grad-in", values(gi),
                                                                   [list(g.shape) for g in go])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lin2(lib.ones(2, 3, dtype=lib.float64)).sum().backward()

    # always_call: runs (output None) when forward raises
    class Bad(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    bad = Bad()
    bad.register_forward_hook(lambda m, a, o: log.append(("always", o)), always_call=True)
    bad.register_forward_hook(lambda m, a, o: log.append(("not-always", o)))
    try:
        bad(1)
    except ValueError as e:
        log.append(("raised", str(e)))

    # a pre-hook with kwargs replaces args and kwargs
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale
    s = Scale()
    s.register_forward_pre_hook(lambda m, a, kw: (a, {"scale": 5.0}), with_kwargs=True)
    log.append(("kwargs", s(lib.ones(1)).tolist()))

    # several inputs and outputs, a non-tensor argument and an unused output
    class Two(nn.Module):
        def forward(self, a, n, b):
            return a * n, b * 2
    two = Two()
    two.register_full_backward_hook(lambda m, gi, go: log.append(("two", values(gi), values(go))))
    a = lib.ones(2, dtype=lib.float64, requires_grad=True)
    o1, o2 = two(a, 3, lib.ones(2, dtype=lib.float64))
    o1.sum().backward()
    log.append(("two-grad", a.grad.tolist()))

    # hooks on every module of a Sequential, in call order
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    for name, m in seq.named_modules():
        m.register_forward_hook(lambda m, a, o, name=name: log.append(("seq", name)))
    seq(lib.ones(1, 2))

    # a global forward hook sees every module call
    handle = lib.nn.modules.module.register_module_forward_hook(
        lambda m, a, o: log.append(("global", type(m).__name__)))
    nn.ReLU()(lib.ones(1))
    handle.remove()
    nn.ReLU()(lib.ones(1))
    return log


def test_module_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = hook_program(mg)
    assert ours == hook_program(torch)


def test_module_hook_values():
    log = {entry[0]: entry[1:] for entry in hook_program(mg)}
    # x doubled by the pre-hook: W·2x + b + 1
    assert log["y"] == ([[29.5, 64.5]],)
    # grad_output tripled by the pre-hook, grad_input ×10 by the full hook: 10 · 2 · 3 · Wᵀ1
    assert log["grads"][0] == [[300.0, 420.0, 540.0]]
    assert log["always"] == (None,) and "not-always" not in log
    assert log["kwargs"] == ([5.0],)
    assert log["two"] == ([[3.0, 3.0], None, [0.0, 0.0]], [[1.0, 1.0], None])


def test_deprecated_backward_hook_matches_pytorch():
    """register_backward_hook is a hook on the output's grad_fn: for a one-op module its
    grad_input is the module's input gradient."""
    torch = pytest.importorskip("torch")
    logs = []
    for lib in (mg, torch):
        log = []
        sig = lib.nn.Sigmoid()
        sig.register_backward_hook(lambda m, gi, go: log.append((values(gi), values(go))))
        z = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
        with pytest.warns(FutureWarning, match="non-full backward hook"):
            out = sig(z)
        out.sum().backward()
        log.append(z.grad.tolist())
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and "
                                               "full backward hooks"):
            sig.register_full_backward_hook(lambda *a: None)
        logs.append(log)
    assert logs[0] == logs[1]


def test_hook_return_value_errors():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of "
                                               "grad_input, got 2, but expected 1"):
            lin(lib.ones(1, 2, requires_grad=True)).sum().backward()
        m = lib.nn.ReLU()
        m.register_forward_pre_hook(lambda m, a, k: 1, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            m(lib.ones(1))


def test_module_without_hooks_calls_forward_directly():
    lin = mg.nn.Linear(2, 2)
    assert not lin._forward_hooks and not lin._backward_hooks
    y = lin(mg.ones(1, 2))
    assert y.grad_fn.name() != "BackwardHookFunctionBackward"
