"""Parity helper for modules whose arguments and results are nested (tuples of tensors,
``None``, keyword masks): MultiheadAttention, the recurrent layers, the Transformer.

``compare_nested`` loads the torch module's weights into ours (both float64), converts every
minigrad tensor among the arguments to torch (once per object, so ``q is k is v`` stays
true on the torch side, which picks PyTorch's self-attention path), runs both, compares
every output, then back-propagates one random cotangent per float output and compares the
gradients of every input that requires grad and of every parameter."""
import numpy as np

import minigrad as mg
from tests.nn.parity import assert_close, device_of, load_from_torch, to_torch


def _convert(torch, value, memo):
    if isinstance(value, mg.Tensor):
        if id(value) not in memo:
            memo[id(value)] = to_torch(torch, value)
        return memo[id(value)]
    if isinstance(value, (tuple, list)):
        return type(value)(_convert(torch, v, memo) for v in value)
    if isinstance(value, dict):
        return {k: _convert(torch, v, memo) for k, v in value.items()}
    return value


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _flatten(v)]
    return [value]


def compare_nested(torch, module, torch_module, *args, rtol=1e-9, atol=1e-10, seed=0,
                   load=True, **kwargs):
    """Run ``module(*args, **kwargs)`` and ``torch_module`` on torch copies; compare
    outputs (NaN where torch has NaN), input gradients and parameter gradients (both
    modules' gradients are cleared first). Returns our output."""
    if load:
        module.double()
        torch_module.double()
        load_from_torch(module, torch_module)
    module.to(device_of(args, kwargs) or "cpu")
    module.zero_grad()
    torch_module.zero_grad()
    memo = {}
    torch_args, torch_kwargs = _convert(torch, args, memo), _convert(torch, kwargs, memo)
    out, expected = module(*args, **kwargs), torch_module(*torch_args, **torch_kwargs)
    ours, theirs = _flatten(out), _flatten(expected)
    assert len(ours) == len(theirs)
    rng = np.random.default_rng(seed)
    loss, torch_loss = 0, 0
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
            continue
        assert_close(a, b, rtol, atol)
        if a.requires_grad and np.isfinite(b.detach().numpy()).all():
            cotangent = rng.standard_normal(tuple(a.shape))
            loss = loss + (a * mg.tensor(cotangent, device=a.device)).sum()
            torch_loss = torch_loss + (b * torch.from_numpy(cotangent)).sum()
    if isinstance(loss, int):
        return out
    loss.backward()
    torch_loss.backward()
    inputs = [v for v in _flatten(list(args) + list(kwargs.values())) if isinstance(v, mg.Tensor)]
    for x in inputs:
        if x.requires_grad:
            expected_grad = memo[id(x)].grad
            assert (x.grad is None) == (expected_grad is None)
            if expected_grad is not None:
                assert_close(x.grad, expected_grad, rtol, atol)
    torch_params = dict(torch_module.named_parameters())
    for name, param in module.named_parameters():
        expected_grad = torch_params[name].grad
        if expected_grad is None:
            assert param.grad is None or not param.grad.cpu().numpy().any(), name

        else:
            assert param.grad is not None, f"no gradient for {name}"
            assert_close(param.grad, expected_grad, rtol, atol)
    return out
