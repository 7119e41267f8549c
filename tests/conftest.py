"""Test configuration: the repo root on sys.path, hypothesis profiles, the simulator for
numba.cuda kernels (unless a real GPU is declared), the fake CuPy (``MINIGRAD_FAKE_CUDA=1``), the `slow`/`gpu` markers, and the
`device` argument: a test that takes `device` runs once per device of `tests/devices.py`
(`test_add[cpu]`; `test_add[cuda]` carries the `gpu` marker, so `-m gpu` runs exactly the
cuda variants, with fewer hypothesis examples)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
# One BLAS thread unless told otherwise: on a shared 2-core machine a threaded OpenBLAS
# competing with other work runs 10-30x slower (set before anything imports numpy).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
if os.environ.get("MINIGRAD_REAL_CUDA") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
# MINIGRAD_FAKE_CUDA=1: where the real CuPy does not import, or imports but finds no GPU
# (the `gpu` extra on a CPU machine, as in CI), `import cupy` finds the strict numpy-backed
# stand-in in tests/fake_cuda (its docstring says what it mimics and what not), so
# minigrad.cuda_is_available() is True and `-m gpu` runs the cuda variants on the CPU.
FAKE_CUDA = False


def _real_cuda_usable():
    try:
        import cupy
        return bool(cupy.cuda.is_available())
    except Exception:      # no CuPy, or a CuPy without its CUDA libraries
        return False


if os.environ.get("MINIGRAD_FAKE_CUDA") == "1" and not _real_cuda_usable():
    sys.path.insert(0, os.path.join(ROOT, "tests", "fake_cuda"))
    for _name in [name for name in sys.modules if name == "cupy" or name.startswith(("cupy.", "cupyx", "cupy_backends"))]:
        del sys.modules[_name]
    FAKE_CUDA = True

import pytest  # noqa: E402
from hypothesis import settings, HealthCheck  # noqa: E402

settings.register_profile("default", deadline=None, max_examples=30,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", deadline=None, max_examples=300,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# `-m gpu` runs only the cuda variants: a handful of examples each keeps the whole suite on
# CuPy within minutes (the cpu variants keep the default profile's coverage).
settings.register_profile("gpu", deadline=None, max_examples=5,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running; run with -m slow")
    config.addinivalue_line("markers", "gpu: needs a real CUDA device; run with -m gpu")
    config.addinivalue_line("markers", "network: fetches data from a package registry")
    markexpr = config.option.markexpr or ""
    if "HYPOTHESIS_PROFILE" not in os.environ and "gpu" in markexpr and "not gpu" not in markexpr:
        settings.load_profile("gpu")


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc):
    """`device` is a direct parametrisation, not a fixture, so hypothesis tests may take it
    (no function-scoped-fixture health check); trylast puts it last in the id: [add-cpu]."""
    if "device" in metafunc.fixturenames:
        from tests.devices import DEVICES
        metafunc.parametrize("device", DEVICES)


@pytest.fixture
def unforced_kernels(monkeypatch):
    """Dispatch as configured in-process, whatever ``MINIGRAD_KERNELS`` says: for tests of
    the catalogue's own choices, which a suite run under ``MINIGRAD_KERNELS=reference``
    (the references-only check) must not change."""
    monkeypatch.delenv("MINIGRAD_KERNELS", raising=False)
