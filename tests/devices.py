"""Device-agnostic test helpers: the devices tests run on, building tensors on one, and
reading any tensor back to the host for comparison.

A test that takes a ``device`` argument runs once per entry of ``DEVICES`` (``tests/conftest.py``
parametrises it): ``test_add[cpu]`` always, ``test_add[cuda]`` only with ``-m gpu`` (the
``gpu`` marker, deselected by default) and only where ``minigrad.cuda_is_available()``;
elsewhere the cuda variant skips with its reason. Comparisons happen on the host in numpy,
so one assertion serves every device (PyTorch oracles stay on CPU torch)."""
import numpy as np
import pytest

import minigrad as mg

CUDA_SKIP_REASON = "no usable CUDA device (minigrad.cuda_is_available() is False)"


def _cuda_param():
    return pytest.param("cuda", id="cuda", marks=[
        pytest.mark.gpu,
        pytest.mark.skipif(not mg.cuda_is_available(), reason=CUDA_SKIP_REASON)])


DEVICES = [pytest.param("cpu", id="cpu"), _cuda_param()]


def to_numpy(value):
    """A host numpy array of a Tensor on any device (detached), a CuPy array, or array-like."""
    if isinstance(value, mg.Tensor):
        return value.detach().cpu().numpy()
    if hasattr(value, "get") and hasattr(value, "__cuda_array_interface__"):
        return value.get()
    if hasattr(value, "detach"):  # a torch tensor: the oracle lives on the CPU
        return value.detach().cpu().numpy()
    return np.asarray(value)


def assert_close(actual, expected, rtol=1e-7, atol=0.0, **kwargs):
    """``np.testing.assert_allclose`` on host copies of Tensors or arrays on any device;
    shapes must match exactly (no broadcasting of the expected value)."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, **kwargs)


def tensor(array, device, requires_grad=False, dtype=None):
    """A leaf on ``device`` holding a copy of ``array`` (its dtype kept unless ``dtype``)."""
    return mg.tensor(array, dtype=dtype, device=device, requires_grad=requires_grad)


def on_device(t, device):
    """``t`` as a leaf on ``device`` with the same ``requires_grad`` (``t`` itself when it is
    already there, so a CPU tensor keeps its exact, possibly non-contiguous, layout)."""
    if t.device == device:
        return t
    return t.detach().to(device).requires_grad_(t.requires_grad)
