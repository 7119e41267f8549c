"""Backends bound to array modules, and ``use(...)``: a numba kernel never sees a CuPy
array, a CUDA kernel never sees a numpy array, and tests can force a backend locally."""
import threading

import numpy as np
import pytest

import minigrad_kernels as kernels
from minigrad_kernels.catalogue import (CATALOGUE, ENV_VAR, KernelCatalogue, array_device)

pytestmark = pytest.mark.usefixtures("unforced_kernels")


class FakeCupyArray:
    """Stands in for ``cupy.ndarray``: dispatch decides the device by the type's module."""
    __module__ = "cupy._core.core"

    def __init__(self, value):
        self.value = value


@pytest.fixture
def catalogue():
    cat = KernelCatalogue()
    cat.reference("double")(lambda x: ("reference", x))
    return cat


def test_array_device_looks_at_positional_and_keyword_arrays():
    assert array_device((np.ones(2), 3, None)) == "numpy"
    assert array_device(()) == "numpy"
    assert array_device((np.ones(2), FakeCupyArray(1))) == "cupy"
    assert array_device((np.ones(2),), {"mask": FakeCupyArray(1)}) == "cupy"


def test_backends_are_bound_to_their_array_module(catalogue):
    assert catalogue.backend_device("numba") == "numpy"
    assert catalogue.backend_device("cuda") == "cupy"
    with pytest.raises(ValueError, match="unknown backend"):
        catalogue.backend_device("opencl")


def test_a_kernel_without_predicate_only_receives_its_own_device(catalogue):
    seen = []
    catalogue.register("double", "numba", lambda x: seen.append(("numba", type(x))) or "numba")
    catalogue.register("double", "cuda", lambda x: seen.append(("cuda", type(x))) or "cuda")
    host, device = np.ones(3), FakeCupyArray(1)
    assert catalogue.dispatch("double", host) == "numba"
    assert catalogue.dispatch("double", device) == "cuda"
    assert catalogue.select("double", device)[0] == "cuda"
    assert seen == [("numba", np.ndarray), ("cuda", FakeCupyArray)]


def test_device_is_filtered_before_the_predicate_runs(catalogue):
    asked = []

    def accepts(x):
        asked.append(type(x))
        return True

    catalogue.register("double", "numba", lambda x: "numba", accepts=accepts)
    device_array = FakeCupyArray(1)
    assert catalogue.dispatch("double", device_array) == ("reference", device_array)
    assert asked == []                        # never asked about a CuPy array
    assert catalogue.select("double", FakeCupyArray(1))[0] == "reference"
    assert catalogue.select("double", np.ones(1))[0] == "numba" and asked == [np.ndarray]


def test_add_backend_binds_a_device_and_remove_backend_cleans_up(catalogue):
    catalogue.add_backend("tiled-gpu", device="cupy")
    fn = catalogue.register("double", "tiled-gpu", lambda x: "tiled")
    assert catalogue.select("double", np.ones(1))[0] == "reference"
    assert catalogue.select("double", FakeCupyArray(1))[0] == "tiled-gpu"
    with pytest.raises(ValueError, match="already bound"):
        catalogue.add_backend("tiled-gpu", device="numpy")
    with pytest.raises(ValueError, match="unknown device"):
        catalogue.add_backend("tpu-kernels", device="jax")
    with pytest.raises(ValueError, match="built-in"):
        catalogue.remove_backend("numba")
    catalogue.remove_backend("tiled-gpu")
    assert catalogue.implementations("double") == [] and fn is not None
    with pytest.raises(ValueError, match="unknown backend"):
        catalogue.enable("tiled-gpu")


def test_use_reference_forces_references_and_restores_on_exit(catalogue):
    catalogue.register("double", "numba", lambda x: "numba")
    with catalogue.use("reference"):
        assert catalogue.dispatch("double", 2) == ("reference", 2)
        with catalogue.use("numba"):                  # nests
            assert catalogue.dispatch("double", 2) == "numba"
        assert catalogue.dispatch("double", 2) == ("reference", 2)
    assert catalogue.dispatch("double", 2) == "numba"
    with pytest.raises(RuntimeError):
        with catalogue.use("reference"):
            raise RuntimeError("restored even on error")
    assert catalogue.dispatch("double", 2) == "numba"


def test_use_allows_only_the_backends_named(catalogue):
    catalogue.add_backend("experimental")
    catalogue.register("double", "experimental", lambda x: "experimental")
    catalogue.register("double", "numba", lambda x: "numba")
    assert catalogue.dispatch("double", 1) == "experimental"
    with catalogue.use("numba"):
        assert catalogue.dispatch("double", 1) == "numba"
    with catalogue.use("cuda"):
        assert catalogue.dispatch("double", 1) == ("reference", 1)
    catalogue.enable("numba", False)                  # enable(False) still wins
    with catalogue.use("numba"):
        assert catalogue.dispatch("double", 1) == ("reference", 1)


def test_use_overrides_the_environment_and_rejects_bad_names(catalogue, monkeypatch):
    catalogue.register("double", "numba", lambda x: "numba")
    monkeypatch.setenv(ENV_VAR, "reference")
    assert catalogue.dispatch("double", 1) == ("reference", 1)
    with catalogue.use("numba"):
        assert catalogue.dispatch("double", 1) == "numba"
    for bad in [(), ("reference", "numba"), ("numbaa",)]:
        with pytest.raises(ValueError):
            with catalogue.use(*bad):
                pass


def test_use_is_local_to_the_thread(catalogue):
    catalogue.register("double", "numba", lambda x: "numba")
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        inside.wait(5)
        seen["other"] = catalogue.dispatch("double", 1)
        outside.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with catalogue.use("reference"):
        inside.set()
        outside.wait(5)
        seen["this"] = catalogue.dispatch("double", 1)
    thread.join(5)
    assert seen == {"other": "numba", "this": ("reference", 1)}


def test_kernels_use_drives_the_global_catalogue():
    def fake_softmax(x, axis):
        return np.zeros_like(x)

    # Its own backend: the real numba softmax, registered first, would be dispatched to.
    backend = "use-test"
    CATALOGUE.add_backend(backend, device="numpy")
    CATALOGUE.register("softmax", backend, fake_softmax)
    try:
        x = np.ones((2, 3))
        with kernels.use(backend):
            assert (kernels.softmax(x, -1) == 0).all()
        with kernels.use("reference"):
            np.testing.assert_allclose(kernels.softmax(x, -1), 1 / 3)
    finally:
        CATALOGUE.remove_backend(backend)
    assert all(b != backend for b, _, _ in CATALOGUE.implementations("softmax"))
