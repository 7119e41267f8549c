"""Shared fixtures for the kernel tests: a float64 central-difference VJP, and
``reference_kernels`` for the modules that pin down the references' behaviour."""
import numpy as np
import pytest

import minigrad_kernels as kernels


def central_difference_vjp(f, x, dy, eps=1e-6):
    """``∂⟨dy, f(x)⟩/∂x`` by central differences, one element of ``x`` at a time.

    ``x`` must be float64 and small (each element costs two calls of ``f``).
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.sum(f(x) * dy)
        x[index] = original - eps
        minus = np.sum(f(x) * dy)
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.fixture(scope="session")
def numeric_vjp():
    """Session-scoped so hypothesis tests may use it (no per-example state)."""
    return central_difference_vjp


@pytest.fixture(scope="module")
def reference_kernels():
    """Every entry point runs its reference for the whole module, whatever backends are
    loaded: those tests describe the reference, and the parity harness holds the
    optimised kernels to it.  Module-scoped, so hypothesis tests may use it."""
    with kernels.use("reference"):
        yield
