"""Device-agnostic test helpers: the devices tests run on, moving a drawn tensor to one, and
reading any tensor back to the host for comparison.

A test that takes a ``device`` argument runs once per entry of ``DEVICES`` (``tests/conftest.py``
parametrises it): ``test_add[cpu]`` always, ``test_add[cuda]`` only with ``-m gpu`` (the
``gpu`` marker, deselected by default) and only where ``minigrad.cuda_is_available()``;
elsewhere the cuda variant skips with its reason. Tests build their tensors with
``device=device`` and compare on the host (``t.detach().cpu().numpy()``, or ``to_numpy`` /
``assert_close`` here), so one assertion serves every device; PyTorch oracles stay on CPU
torch.

Without a GPU, ``MINIGRAD_FAKE_CUDA=1`` runs the cuda variants on the CPU: ``tests/conftest.py``
then puts ``tests/fake_cuda`` on ``sys.path`` (only where the real CuPy does not import), whose
``cupy`` package is a strict numpy-backed stand-in. Its arrays refuse implicit conversion to
numpy, refuse mixing with numpy arrays, have no ``writeable`` flag and never warn, as CuPy's,
so op code that assumes numpy fails loudly (``MINIGRAD_FAKE_CUDA=1 python -m pytest -m gpu``).
It cannot catch speed, asynchrony, real-kernel or CuPy-coverage problems (its docstring lists
them): a real GPU run is still the final word."""
import numpy as np
import pytest

import minigrad as mg

CUDA_SKIP_REASON = "no usable CUDA device (minigrad.cuda_is_available() is False)"

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[
        pytest.mark.gpu,
        pytest.mark.skipif(not mg.cuda_is_available(), reason=CUDA_SKIP_REASON)]),
]


def to_numpy(value):
    """A host numpy array of a minigrad or torch tensor on any device (detached), a CuPy
    array, or anything array-like."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):
        return value.get()
    return np.asarray(value)


def assert_close(actual, expected, rtol=1e-7, atol=0.0, **kwargs):
    """``np.testing.assert_allclose`` on host copies of tensors or arrays on any device; the
    shapes must match exactly (no broadcasting of the expected value)."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, **kwargs)


def on_device(t, device):
    """``t`` as a leaf on ``device`` with the same ``requires_grad``: ``t`` itself when it is
    already there, so a CPU tensor keeps its exact (possibly non-contiguous) layout."""
    if t.device == device:
        return t
    return t.detach().to(device).requires_grad_(t.requires_grad)
