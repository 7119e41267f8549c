"""Where the CUDA kernel tests run, shared by tests/kernels/test_cuda_*.py: under the CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``, the default here) kernels take numpy arrays; with a
real GPU (``MINIGRAD_REAL_CUDA=1``) they take CuPy arrays; elsewhere the importing test
module skips.  Import it after ``pytest.importorskip("minigrad_kernels.cuda")``."""
import numpy as np
import pytest

from minigrad_kernels.cuda._launch import SIMULATED


def _device_modules():
    if SIMULATED:
        return np, (lambda a: a), (lambda a: a)
    try:
        import cupy
        cupy.zeros(1)
    except Exception:
        pytest.skip("needs NUMBA_ENABLE_CUDASIM=1 or CuPy with a GPU", allow_module_level=True)
    return cupy, cupy.asarray, cupy.asnumpy


#: The kernels' array module and the host↔device copies (identities in the simulator).
xp, to_device, to_host = _device_modules()


def rand(rng, *shape, scale=1.0):
    """Standard-normal float32 host data of ``shape``, times ``scale``."""
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def poisoned(shape):
    """A float32 device output filled with NaN, so an element no thread writes shows."""
    return to_device(np.full(shape, np.nan, dtype=np.float32))
