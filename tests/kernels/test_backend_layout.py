"""The optimised backend packages mirror ``kernels/reference/`` file by file.

``numba_cpu/conv.py`` (or ``cuda/conv.py``) may exist only beside ``reference/conv.py``,
and may register only names whose reference is defined there, so a reader finds a fast
kernel's oracle one file away.  The checks are functions, tested on the real tree and on
deliberately broken layouts (today both backend folders hold no kernels at all)."""
import pathlib

import pytest

import minigrad_kernels as kernels
from minigrad_kernels import catalogue as catalogue_module
from minigrad_kernels.catalogue import CATALOGUE, KernelCatalogue

KERNELS_DIR = pathlib.Path(kernels.__file__).parent
BACKEND_PACKAGES = {"numba": "numba_cpu", "cuda": "cuda"}


def unmirrored_files(kernels_dir):
    """``package/module`` for each backend module with no same-named reference module."""
    references = set(catalogue_module.mirror_modules([str(kernels_dir / "reference")]))
    return [f"{package}/{name}" for package in sorted(set(BACKEND_PACKAGES.values()))
            for name in catalogue_module.mirror_modules([str(kernels_dir / package)])
            if name not in references]


def _module_of(fn):
    # numba dispatchers keep the Python function they compiled as ``py_func``.
    return getattr(getattr(fn, "py_func", fn), "__module__", "")


def misplaced_registrations(catalogue, root="minigrad_kernels"):
    """``(name, backend, module)`` for each numba/cuda implementation registered from outside
    ``<root>.<package>.<file>`` where ``<root>.reference.<file>`` holds the reference."""
    bad = []
    for name in catalogue.names():
        reference_file = _module_of(catalogue.reference_impl(name)).rpartition(".")[2]
        for backend, fn, _ in catalogue.implementations(name):
            if backend not in BACKEND_PACKAGES:
                continue
            expected = f"{root}.{BACKEND_PACKAGES[backend]}.{reference_file}"
            if _module_of(fn) != expected:
                bad.append((name, backend, _module_of(fn)))
    return bad


def test_every_backend_module_mirrors_a_reference_module():
    assert unmirrored_files(KERNELS_DIR) == []


def test_every_registered_backend_kernel_lives_in_its_references_mirror_file():
    assert misplaced_registrations(CATALOGUE) == []


def test_backend_packages_load_every_module_they_hold():
    for package in sorted(set(BACKEND_PACKAGES.values())):
        module = getattr(kernels, package, None)
        if module is None:                           # backend not installed here
            continue
        assert module.LOADED == catalogue_module.mirror_modules([str(KERNELS_DIR / package)])


def test_layout_check_reports_a_backend_file_without_reference(tmp_path):
    for folder, files in {"reference": ["conv.py", "__init__.py"],
                          "numba_cpu": ["conv.py", "convolution.py", "__init__.py"],
                          "cuda": ["_launch.py", "conv.py"]}.items():
        (tmp_path / folder).mkdir()
        for name in files:
            (tmp_path / folder / name).write_text("")
    # Private helpers (leading underscore) are not mirror modules.
    assert unmirrored_files(tmp_path) == ["numba_cpu/convolution"]


def test_layout_check_reports_a_kernel_registered_from_the_wrong_file():
    cat = KernelCatalogue()

    def reference_conv(x):
        return x
    reference_conv.__module__ = "minigrad_kernels.reference.conv"
    cat.reference("conv2d_forward")(reference_conv)

    def right(x):
        return x
    right.__module__ = "minigrad_kernels.numba_cpu.conv"

    def wrong(x):
        return x
    wrong.__module__ = "minigrad_kernels.cuda.pooling"
    cat.register("conv2d_forward", "numba", right)
    cat.register("conv2d_forward", "cuda", wrong)
    cat.add_backend("experiment")
    cat.register("conv2d_forward", "experiment", wrong)     # not a mirrored backend
    assert misplaced_registrations(cat) == [
        ("conv2d_forward", "cuda", "minigrad_kernels.cuda.pooling")]


def test_missing_optional_dependencies_are_told_apart_from_bugs():
    assert catalogue_module.is_missing_optional_dependency(ModuleNotFoundError(name="numba"))
    assert catalogue_module.is_missing_optional_dependency(ModuleNotFoundError(name="cupy.cuda"))
    assert not catalogue_module.is_missing_optional_dependency(
        ModuleNotFoundError(name="minigrad_kernels.numba_cpu.misspelt"))
    assert not catalogue_module.is_missing_optional_dependency(ImportError("cannot import name"))


def test_the_references_work_without_any_backend_installed():
    import subprocess
    import sys
    # Block numba and cupy at import time: the package must still import and compute.
    code = ("import sys; sys.modules['numba'] = None; sys.modules['cupy'] = None\n"
            "import numpy as np, minigrad_kernels as k\n"
            "assert (k.matmul(np.eye(2), np.ones((2, 2))) == 1).all()\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=str(KERNELS_DIR.parent),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
