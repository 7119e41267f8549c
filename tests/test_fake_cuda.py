"""The fake CuPy of ``tests/fake_cuda`` (``MINIGRAD_FAKE_CUDA=1``) is strict where CuPy differs
from numpy, so the cuda variants of the suite fail where op code assumes numpy. These tests
run only under the fake (gpu-marked: ``MINIGRAD_FAKE_CUDA=1 python -m pytest -m gpu``)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad_kernels import CATALOGUE, get_array_module

cupy = pytest.importorskip("cupy")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(
    not hasattr(cupy, "host_syncs"), reason="checks the fake CuPy (MINIGRAD_FAKE_CUDA=1)")]


def test_device_arrays_are_their_own_type_and_refuse_implicit_conversion():
    a = cupy.arange(6.0).reshape(2, 3)
    assert type(a) is cupy.ndarray and not isinstance(a, np.ndarray)
    assert type(a).__module__.startswith("cupy") and get_array_module(a) is cupy
    for convert in (np.asarray, np.array, lambda x: np.zeros((2, 3)).__setitem__(Ellipsis, x)):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
            convert(a)
    assert type(np.exp(a)) is cupy.ndarray           # numpy's functions dispatch, like CuPy's
    assert type(a.get()) is np.ndarray and type(cupy.asnumpy(a)) is np.ndarray
    assert a.device.id == 0 and a.__cuda_array_interface__["shape"] == (2, 3)


def test_mixing_with_numpy_arrays_is_a_type_error_but_scalars_are_fine():
    a = cupy.ones(3)
    for mix in (lambda: a + np.ones(3), lambda: np.ones(3) * a,
                lambda: cupy.where(a > 0, a, np.ones(3)), lambda: cupy.concatenate([a, np.ones(3)]),
                lambda: a.__setitem__(slice(None), np.ones(3))):
        with pytest.raises(TypeError, match="Unsupported type"):
            mix()
    assert type(a + np.float32(2)) is cupy.ndarray and type(a * np.array(2.0)) is cupy.ndarray
    assert type(a.sum()) is cupy.ndarray and a.sum().ndim == 0     # never a numpy scalar


def test_host_data_is_copied_in():
    host = np.zeros(3)
    device = cupy.asarray(host)
    device[0] = 5.0
    assert host[0] == 0.0


def test_no_writeable_flag_no_errstate_and_writable_broadcasts():
    a = cupy.zeros((1, 3))
    assert not hasattr(a.flags, "writeable") and a.flags.c_contiguous
    assert not hasattr(cupy, "errstate") and not hasattr(cupy, "seterr")
    view = cupy.broadcast_to(a, (4, 3))
    view[0, 0] = 7.0                      # lands on the shared element, as on a GPU
    assert float(a[0, 0]) == 7.0
    with np.errstate(all="raise"):        # the caller's errstate does not reach the device
        assert np.isinf(float(cupy.ones(1)[0] / cupy.zeros(1)[0]))


def test_random_streams_differ_from_numpys_and_kernels_cannot_run():
    cupy.random.seed(0)
    np.random.seed(0)
    assert not np.array_equal(cupy.random.rand(4).get(), np.random.rand(4))
    assert type(cupy.random.default_rng(1).standard_normal(3)) is cupy.ndarray
    with pytest.raises(RuntimeError, match="cannot compile or run CUDA kernels"):
        cupy.RawKernel("extern \"C\" __global__ void k() {}", "k")


def test_host_reads_are_counted():
    a = cupy.arange(3.0)
    before = cupy.host_syncs
    a.sum().item(), float(a[0]), bool(a[1] > 0), a.get(), a.tolist()
    assert cupy.host_syncs - before == 5


def test_minigrad_sees_a_cuda_device_and_dispatch_keeps_device_arrays_on_references():
    assert mg.cuda_is_available() and mg.cuda.device_count() == 1
    a = cupy.ones((4, 4), dtype=np.float32)
    for name, args in [("matmul", (a, a)), ("softmax", (a, 1))]:
        assert "cuda" in [backend for backend, _, _ in CATALOGUE.implementations(name)]
        assert CATALOGUE.select(name, *args)[0] == "reference"
    out = mg.ones(4, 4, device="cuda") @ mg.ones(4, 4, device="cuda")
    assert type(out.array) is cupy.ndarray
