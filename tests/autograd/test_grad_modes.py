"""inference_mode as PyTorch spells it: a context manager, a decorator with and without
parentheses, ``inference_mode(False)`` recording again (even inside no_grad), and the flags it reports, side by side with
torch."""
import pytest

import minigrad as mg

try:
    import torch
except ImportError:          # the oracle is optional: skip the module, never fail collection
    pytest.skip("torch (the oracle) is not installed", allow_module_level=True)


def _observe(L):
    x = L.ones(2, requires_grad=True)
    seen = []

    @L.inference_mode()
    def with_parentheses(t):
        return (t * 2).requires_grad

    @L.inference_mode
    def bare(t):
        return (t * 2).requires_grad

    seen += [with_parentheses(x), bare(x), L.is_inference_mode_enabled()]
    with L.inference_mode():
        seen += [L.is_grad_enabled(), L.is_inference_mode_enabled(), (x * 2).requires_grad]
        with L.inference_mode(False):
            seen += [L.is_inference_mode_enabled()]
    with L.inference_mode(False):
        seen += [L.is_grad_enabled(), (x * 2).requires_grad]
    with L.no_grad():
        with L.inference_mode():
            pass
        seen += [L.is_grad_enabled()]
        with L.inference_mode(False):
            seen += [L.is_grad_enabled(), (x * 2).requires_grad]
    seen += [L.is_grad_enabled(), L.is_inference_mode_enabled()]
    return seen


def test_inference_mode_behaves_like_torch():
    assert _observe(mg) == _observe(torch)


def test_a_gradient_that_is_not_a_tensor_is_a_type_error_like_torch():
    for L in (mg, torch):
        x = L.ones(2, requires_grad=True)
        with pytest.raises(TypeError):
            x.sum().backward(2.0)
        with pytest.raises(TypeError):
            L.autograd.grad(x.sum(), x, grad_outputs=2.0)
