"""The kernel catalogue: registration, dispatch, fallbacks and the layering rules."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigrad_kernels as kernels
from minigrad_kernels.catalogue import CATALOGUE, ENV_VAR, KernelCatalogue, get_array_module

pytestmark = pytest.mark.usefixtures("unforced_kernels")

KERNELS_DIR = pathlib.Path(kernels.__file__).parent


@pytest.fixture
def catalogue():
    cat = KernelCatalogue()

    @cat.reference("double")
    def double(x):
        return x * 2

    return cat


def test_reference_is_called_when_nothing_else_is_registered(catalogue):
    assert catalogue.dispatch("double", 3) == 6
    assert catalogue.select("double", 3)[0] == "reference"
    assert catalogue.reference_impl("double")(4) == 8


def test_optimised_impl_is_chosen_only_where_its_predicate_accepts(catalogue):
    catalogue.register("double", "numba", lambda x: ("numba", x + x), accepts=lambda x: x > 0)
    assert catalogue.dispatch("double", 5) == ("numba", 10)
    assert catalogue.dispatch("double", -5) == -10
    assert catalogue.select("double", 5)[0] == "numba"


def test_first_accepting_impl_wins_in_registration_order(catalogue):
    catalogue.add_backend("numba-experimental")
    catalogue.register("double", "numba-experimental", lambda x: "experimental",
                       accepts=lambda x: isinstance(x, str))
    catalogue.register("double", "numba", lambda x: "numba")
    assert catalogue.dispatch("double", 1) == "numba"
    assert catalogue.dispatch("double", "a") == "experimental"
    assert [b for b, _, _ in catalogue.implementations("double")] == ["numba-experimental", "numba"]


def test_register_works_as_a_decorator_and_passes_keyword_arguments():
    cat = KernelCatalogue()
    cat.reference("scale")(lambda x, factor=1: x * factor)

    @cat.register("scale", "numba", accepts=lambda x, factor=1: factor != 0)
    def scale_numba(x, factor=1):
        return ("numba", x * factor)

    assert cat.dispatch("scale", 2, factor=3) == ("numba", 6)
    assert cat.dispatch("scale", 2, factor=0) == 0


def test_enable_false_falls_back_to_reference(catalogue):
    catalogue.register("double", "numba", lambda x: "numba")
    catalogue.enable("numba", False)
    assert catalogue.dispatch("double", 2) == 4
    catalogue.enable("numba", True)
    assert catalogue.dispatch("double", 2) == "numba"


def test_environment_variable_forces_references(catalogue, monkeypatch):
    catalogue.register("double", "numba", lambda x: "numba")
    monkeypatch.setenv(ENV_VAR, "reference")
    assert catalogue.dispatch("double", 2) == 4
    monkeypatch.setenv(ENV_VAR, "cuda")
    assert catalogue.dispatch("double", 2) == 4
    monkeypatch.setenv(ENV_VAR, "numba,cuda")
    assert catalogue.dispatch("double", 2) == "numba"
    monkeypatch.setenv(ENV_VAR, "numbaa")
    with pytest.raises(ValueError, match="unknown backends"):
        catalogue.dispatch("double", 2)


def test_registration_errors(catalogue):
    with pytest.raises(ValueError, match="already has a reference"):
        catalogue.reference("double")(lambda x: x)
    with pytest.raises(KeyError, match="no reference"):
        catalogue.register("triple", "numba", lambda x: 3 * x)
    with pytest.raises(ValueError, match="unknown backend"):
        catalogue.register("double", "opencl", lambda x: x)
    with pytest.raises(KeyError, match="unknown kernel"):
        catalogue.dispatch("triple", 1)


def test_global_catalogue_dispatches_public_entry_point_to_registered_kernel(monkeypatch):
    calls = []

    def fake_matmul(a, b):
        calls.append((a.shape, b.shape))
        return np.full((a.shape[0], b.shape[1]), 7.0, dtype=a.dtype)

    CATALOGUE.register("matmul", "numba", fake_matmul, accepts=lambda a, b: a.ndim == b.ndim == 2)
    try:
        a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
        assert (kernels.matmul(a, b) == 7).all() and calls == [((2, 3), (3, 4))]
        assert (kernels.matmul(a[None], b) == 3).all()        # predicate declines 3-D
        monkeypatch.setenv(ENV_VAR, "reference")
        assert (kernels.matmul(a, b) == 3).all() and len(calls) == 1
        assert CATALOGUE.reference_impl("matmul")(a, b).dtype == np.float32
    finally:
        CATALOGUE.unregister("matmul", "numba", fake_matmul)
    # Only the fake is gone (kernels/cuda/ registers its own matmul where numba-cuda is).
    assert all(fn is not fake_matmul for _, fn, _ in CATALOGUE.implementations("matmul"))
    assert "numba" not in [backend for backend, _, _ in CATALOGUE.implementations("matmul")]


def test_every_entry_point_has_a_reference():
    for name in ["matmul", "im2col", "col2im", "conv2d_forward", "conv2d_backward_input",
                 "conv2d_backward_weight", "max_pool2d_forward", "max_pool2d_backward",
                 "avg_pool2d_forward", "avg_pool2d_backward", "softmax", "log_softmax",
                 "logsumexp", "attention_forward", "attention_backward"]:
        assert callable(CATALOGUE.reference_impl(name))
        assert callable(getattr(kernels, name))


def test_get_array_module_is_numpy_for_numpy_and_non_arrays():
    assert get_array_module(np.zeros(2), 3, None, (1, 2)) is np
    assert get_array_module() is np

    class FakeCupyArray:                     # looks like CuPy by module name only
        __module__ = "cupy._core.core"
    assert get_array_module(FakeCupyArray()) is np


def test_kernels_never_import_minigrad_and_only_catalogue_names_numpy():
    for path in KERNELS_DIR.rglob("*.py"):
        source = path.read_text()
        assert "import minigrad" not in source and "from minigrad" not in source, path
        if path.name != "catalogue.py":
            assert "import numpy" not in source and "from numpy" not in source, path
    code = "import sys, minigrad_kernels; sys.exit(any(m.split('.')[0] == 'minigrad' for m in sys.modules))"
    root = str(KERNELS_DIR.parent)
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
