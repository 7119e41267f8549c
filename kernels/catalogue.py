"""One catalogue of kernel names, each with a reference and optional optimised versions.

Every kernel that minigrad calls has a *name* (``"conv2d_forward"``) and exactly one
*reference* implementation: plain, vectorised xp code that is the test oracle.  A
backend ("numba" on CPU, "cuda" on GPU) may register faster implementations of the same
name, each guarded by an ``accepts(*args, **kwargs)`` predicate that says which inputs it
handles (dtype, contiguity, device, sizes).  ``dispatch`` calls the first enabled
optimised implementation that accepts the arguments, otherwise the reference:

    CATALOGUE.dispatch("matmul", a, b)
        -> numba_matmul(a, b)     if "numba" is enabled and numba_accepts(a, b)
        -> reference_matmul(a, b) otherwise

Optimised versions are tried in registration order.  Setting the environment variable
``MINIGRAD_KERNELS=reference`` (read on every dispatch, so tests can set it with
monkeypatch) forces the references everywhere; ``MINIGRAD_KERNELS=numba`` (a comma
separated list) allows only the backends named.  ``enable(backend, False)`` switches one
backend off in-process.

``get_array_module`` is the only place in ``kernels`` that names numpy for computing: every
kernel asks it for ``xp`` so the same code runs on numpy and CuPy arrays.
"""
import os
from dataclasses import dataclass
from typing import Callable, Optional

import numpy

BACKENDS = ("numba", "cuda")
ENV_VAR = "MINIGRAD_KERNELS"


def get_array_module(*arrays):
    """Return ``cupy`` if any argument is a ``cupy.ndarray`` (and CuPy imports), else numpy.

    Non-array arguments (ints, tuples, None) are ignored, so callers can pass everything.
    The type's module is checked first so numpy-only runs never try to import CuPy.
    """
    for array in arrays:
        if type(array).__module__.startswith("cupy"):
            try:
                import cupy
            except ImportError:
                return numpy
            if isinstance(array, cupy.ndarray):
                return cupy
    return numpy


@dataclass(frozen=True)
class OptimisedKernel:
    """An optimised implementation of a kernel name on one backend."""

    backend: str
    fn: Callable
    accepts: Optional[Callable] = None

    def handles(self, *args, **kwargs):
        return self.accepts is None or bool(self.accepts(*args, **kwargs))


class KernelCatalogue:
    """Kernel name -> reference implementation + optimised implementations per backend."""

    def __init__(self):
        self._references = {}
        self._optimised = {}
        self._enabled = {backend: True for backend in BACKENDS}

    # ----------------------------------------------------------------- registration
    def reference(self, name):
        """Decorator registering ``fn`` as the reference (oracle) implementation of ``name``.

        The function is returned unchanged, so reference modules can call one another
        directly without going through dispatch.
        """

        def register_reference(fn):
            if name in self._references:
                raise ValueError(f"kernel {name!r} already has a reference implementation")
            self._references[name] = fn
            return fn

        return register_reference

    def register(self, name, backend, fn=None, accepts=None):
        """Add an optimised implementation of ``name`` for ``backend``.

        ``accepts(*args, **kwargs) -> bool`` says whether ``fn`` handles these arguments;
        None means it handles everything.  With ``fn`` omitted this returns a decorator.
        The reference must be registered first, so every optimised kernel has an oracle.
        """
        if backend not in self._enabled:
            raise ValueError(f"unknown backend {backend!r}; known: {sorted(self._enabled)}")
        if fn is None:
            return lambda f: self.register(name, backend, f, accepts)
        if name not in self._references:
            raise KeyError(f"kernel {name!r} has no reference implementation to test against")
        self._optimised.setdefault(name, []).append(OptimisedKernel(backend, fn, accepts))
        return fn

    def unregister(self, name, backend, fn):
        """Remove one optimised implementation (tests use this to clean up after themselves)."""
        kernels = self._optimised.get(name, [])
        self._optimised[name] = [k for k in kernels if not (k.backend == backend and k.fn is fn)]

    def add_backend(self, backend):
        """Make a new backend name known (enabled), e.g. for an experimental kernel family."""
        self._enabled.setdefault(backend, True)

    # ----------------------------------------------------------------- switches
    def enable(self, backend, flag=True):
        """Switch a backend's optimised kernels on or off for this process."""
        if backend not in self._enabled:
            raise ValueError(f"unknown backend {backend!r}; known: {sorted(self._enabled)}")
        self._enabled[backend] = bool(flag)

    def is_enabled(self, backend):
        """True if ``backend`` is switched on here and allowed by ``MINIGRAD_KERNELS``."""
        if not self._enabled.get(backend, False):
            return False
        allowed = _allowed_by_environment(self._enabled)
        return allowed is None or backend in allowed

    # ----------------------------------------------------------------- lookup
    def names(self):
        return sorted(self._references)

    def reference_impl(self, name):
        """The reference implementation of ``name``: the oracle optimised kernels are tested against."""
        try:
            return self._references[name]
        except KeyError:
            raise KeyError(f"unknown kernel {name!r}; known: {self.names()}") from None

    def implementations(self, name):
        """``[(backend, fn, accepts), ...]`` registered for ``name``, in dispatch order."""
        self.reference_impl(name)
        return [(k.backend, k.fn, k.accepts) for k in self._optimised.get(name, [])]

    def select(self, name, *args, **kwargs):
        """``(backend, fn)`` that ``dispatch`` would call; backend is ``"reference"`` on fallback."""
        reference = self.reference_impl(name)
        for kernel in self._optimised.get(name, ()):
            if self.is_enabled(kernel.backend) and kernel.handles(*args, **kwargs):
                return kernel.backend, kernel.fn
        return "reference", reference

    def dispatch(self, name, *args, **kwargs):
        """Call the first enabled optimised implementation that accepts the arguments, else the reference."""
        _, fn = self.select(name, *args, **kwargs)
        return fn(*args, **kwargs)


def _allowed_by_environment(known):
    """Backends allowed by ``MINIGRAD_KERNELS``: None = all, empty set = references only."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in ("", "all", "auto"):
        return None
    if value == "reference":
        return frozenset()
    allowed = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = allowed - set(known)
    if unknown:
        raise ValueError(f"{ENV_VAR}={value!r} names unknown backends {sorted(unknown)}; "
                         f"use 'reference' or a comma list of {sorted(known)}")
    return allowed


CATALOGUE = KernelCatalogue()
