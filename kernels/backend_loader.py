"""Loading an optimised backend package by file convention (as tinygrad finds
``runtime/ops_<name>.py``): every module in ``kernels/numba_cpu/`` or ``kernels/cuda/`` is
imported, and importing it registers its kernels with the catalogue.

A backend package mirrors ``kernels/reference/`` file by file: ``numba_cpu/conv.py`` may
only register names whose reference is in ``reference/conv.py``, so the oracle of every
fast kernel is one file away (``tests/kernels/test_backend_layout.py`` checks both rules).
"""
import importlib
import pkgutil

# Top-level modules whose absence means "this backend is not installed here", not a bug.
OPTIONAL_DEPENDENCIES = frozenset({"numba", "numba_cuda", "cupy", "cupy_backends", "cuda"})


def mirror_modules(package_path):
    """Names of the modules in a backend package folder, in sorted (deterministic) order."""
    return sorted(info.name for info in pkgutil.iter_modules(package_path)
                  if not info.name.startswith("_"))


def load_backend(package_name, package_path):
    """Import every mirror module of the backend package; return the names imported.

    An ImportError of an optional dependency (numba, numba-cuda, CuPy) propagates, so the
    caller can treat the whole backend as absent; any other ImportError is a bug and
    propagates too, and ``is_missing_optional_dependency`` tells the two apart.
    """
    loaded = []
    for name in mirror_modules(package_path):
        importlib.import_module(f"{package_name}.{name}")
        loaded.append(name)
    return loaded


def is_missing_optional_dependency(error):
    """True if ``error`` says an optional backend dependency is not installed."""
    missing = getattr(error, "name", None) or ""
    return missing.split(".")[0] in OPTIONAL_DEPENDENCIES
