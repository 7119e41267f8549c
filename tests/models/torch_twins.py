"""Helpers for comparing ``models/`` with their PyTorch twins (``benchmarks/torch_twins.py``):
moving weights across as numpy arrays and comparing outputs and gradients.

A twin has the same parameter names and shapes as its minigrad model, so
``copy_weights(torch_model, mg_model)`` makes them compute the same function; tests then
compare outputs and gradients against PyTorch as the oracle.
"""
import numpy as np
import torch


def copy_weights(torch_model, mg_model):
    """Load the torch model's state_dict (as numpy) into the minigrad model, strictly."""
    mg_model.load_state_dict({k: v.detach().cpu().numpy()
                              for k, v in torch_model.state_dict().items()})


def state_shapes(module):
    """{state_dict key: shape tuple} for a minigrad or torch module."""
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def to_torch(x):
    """A CPU torch copy of a minigrad tensor on any device."""
    return torch.from_numpy(np.ascontiguousarray(x.detach().cpu().numpy()))


def assert_close(mg_tensor, torch_tensor, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(mg_tensor.detach().cpu().numpy(), torch_tensor.detach().numpy(),
                               rtol=rtol, atol=atol)


def assert_grads_close(mg_model, torch_model, rtol=1e-4, atol=1e-5):
    grads = {n: p.grad for n, p in torch_model.named_parameters()}
    for name, p in mg_model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        np.testing.assert_allclose(p.grad.cpu().numpy(), grads[name].numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)


# The twins themselves live with the benchmarks, which compare against them too.
from minigrad_benchmarks.torch_twins import *  # noqa: E402,F401,F403
