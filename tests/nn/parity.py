"""Helpers for the nn tests: moving tensors and weights between minigrad and PyTorch and
comparing a computation (values and gradients) run in both. Our side runs on the device of
its inputs; the torch oracle runs on the CPU and comparisons read our values to the host."""
import numpy as np

import minigrad as mg


def to_torch(torch, t, requires_grad=None):
    """A torch tensor with ``t``'s values (a copy), optionally requiring grad."""
    array = np.array(t.detach().cpu().numpy() if isinstance(t, mg.Tensor) else t)
    out = torch.from_numpy(array)
    flag = t.requires_grad if requires_grad is None and isinstance(t, mg.Tensor) else requires_grad
    return out.requires_grad_(bool(flag)) if out.is_floating_point() else out


def leaf(array, requires_grad=True, *, device):
    """A float64 minigrad leaf on ``device`` holding a copy of ``array``."""
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad, device=device)


def device_of(*values):
    """The device of the first minigrad tensor among ``values`` (nested in lists, tuples and
    dicts), the CPU when there is none: a module under test runs where its inputs are."""
    for v in values:
        if isinstance(v, mg.Tensor):
            return v.device
        if isinstance(v, (list, tuple, dict)):
            found = device_of(*(v.values() if isinstance(v, dict) else v))
            if found is not None:
                return found
    return None


def assert_close(ours, theirs, rtol=1e-9, atol=1e-10):
    """Compare a minigrad tensor (or array) with a torch tensor (or array)."""
    a = ours.detach().cpu().numpy() if isinstance(ours, mg.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def run_both(torch, fn_mg, fn_torch, inputs, seed=0, rtol=1e-9, atol=1e-10):
    """Run ``fn_mg(*inputs)`` and ``fn_torch(*torch copies)``; compare the outputs and the
    gradients of every floating input that requires grad, for a random output cotangent."""
    torch_inputs = [to_torch(torch, x) if isinstance(x, mg.Tensor) else x for x in inputs]
    out, expected = fn_mg(*inputs), fn_torch(*torch_inputs)
    assert_close(out, expected, rtol, atol)
    if not out.requires_grad:
        return out
    cotangent = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(mg.tensor(cotangent, dtype=out.dtype, device=out.device))
    expected.backward(torch.from_numpy(cotangent).to(expected.dtype))
    for x, tx in zip(inputs, torch_inputs):
        if isinstance(x, mg.Tensor) and x.requires_grad:
            assert x.grad is not None, "minigrad produced no gradient"
            assert_close(x.grad, tx.grad, rtol, atol)
    return out


def load_from_torch(module, torch_module):
    """Load a torch module's state into a minigrad module through ``{k: v.numpy()}``."""
    state = {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}
    module.load_state_dict(state)


def assert_same_state_layout(module, torch_module):
    """Same state_dict keys, in the same order, with the same shapes."""
    ours = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in torch_module.state_dict().items()}
    assert list(ours) == list(theirs)
    assert ours == theirs


def compare_modules(torch, module, torch_module, *inputs, rtol=1e-9, atol=1e-10, seed=0):
    """Load the torch weights into ``module`` (both float64), move it to the inputs' device,
    run both on ``inputs``, and compare outputs, input gradients and every parameter gradient."""
    module.double()
    torch_module.double()
    load_from_torch(module, torch_module)
    module.to(device_of(inputs) or "cpu")
    run_both(torch, module, torch_module, inputs, seed, rtol, atol)
    torch_params = dict(torch_module.named_parameters())
    for name, param in module.named_parameters():
        expected = torch_params[name].grad
        if expected is None:
            assert param.grad is None or not param.grad.cpu().numpy().any()

        else:
            assert_close(param.grad, expected, rtol, atol)
