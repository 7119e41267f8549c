"""One catalogue of kernel names, each with a reference and optional optimised versions.

Every kernel that minigrad calls has a *name* (``"conv2d_forward"``) and exactly one
*reference* implementation: plain, vectorised xp code that is the test oracle and takes
arrays of any array module.  A *backend* is bound to the one array module its kernels
take: ``"numba"`` (``kernels/numba_cpu/``) takes numpy arrays, ``"cuda"``
(``kernels/cuda/``) takes CuPy arrays.  A backend may register faster implementations of
a name, each optionally guarded by an ``accepts(*args, **kwargs)`` predicate that says
which of those arrays it handles (dtype, contiguity, sizes).  ``dispatch`` first finds
the *device* of the call, the array module of its array arguments, and considers only
the backends bound to it; among those it calls the first enabled implementation whose
predicate accepts the arguments, otherwise the reference:

    CATALOGUE.dispatch("matmul", a, b)          # a, b numpy arrays
        -> numba_matmul(a, b)     if "numba" is enabled and numba_accepts(a, b)
        -> reference_matmul(a, b) otherwise     (a "cuda" kernel is never tried)

So a predicate never has to test the device, and a kernel registered without one is
never handed another module's arrays.  Optimised versions are tried in registration
order.  Which backends may run, most local first:

* ``with CATALOGUE.use("reference"):`` (or ``kernels.use``) forces the references in
  this thread/context; ``use("numba")`` allows only the backends named.  It nests and
  restores the previous choice on exit; it overrides the environment variable.
* ``MINIGRAD_KERNELS=reference`` (read on every dispatch that has candidates) forces the
  references; ``MINIGRAD_KERNELS=numba`` (a comma separated list) allows only those named.
* ``enable(backend, False)`` switches one backend off in-process, whatever the above say.

``get_array_module`` is the only place in ``kernels`` that names numpy for computing: every
kernel asks it for ``xp`` so the same code runs on numpy and CuPy arrays.
"""
import contextlib
import contextvars
import importlib
import os
import pkgutil
from dataclasses import dataclass
from typing import Callable, Optional

import numpy

# Backend name -> the array module (device) its kernels take.
BACKENDS = {"numba": "numpy", "cuda": "cupy"}
DEVICES = ("numpy", "cupy")
ENV_VAR = "MINIGRAD_KERNELS"

# The backends ``use(...)`` allows in this context: None = no override.  A ContextVar is
# per thread (and per asyncio task), so a test's ``use`` never leaks into another thread.
_USE_OVERRIDE = contextvars.ContextVar("minigrad_kernels_use", default=None)


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


def array_device(args, kwargs=None):
    """``"cupy"`` if any positional or keyword argument is a CuPy array, else ``"numpy"``.

    Only the type's module name is looked at (no CuPy import, no isinstance chain), since
    this runs on every dispatch that has an optimised candidate.
    """
    for value in args:
        if type(value).__module__.startswith("cupy"):
            return "cupy"
    if kwargs:
        for value in kwargs.values():
            if type(value).__module__.startswith("cupy"):
                return "cupy"
    return "numpy"


@dataclass(frozen=True)
class OptimisedKernel:
    """An optimised implementation of a kernel name on one backend."""

    backend: str
    fn: Callable
    accepts: Optional[Callable] = None
    device: str = "numpy"


class KernelCatalogue:
    """Kernel name -> reference implementation + optimised implementations per backend."""

    def __init__(self):
        self._references = {}
        # name -> {device -> [OptimisedKernel, ...]}: dispatch indexes by device first.
        self._optimised = {}
        self._devices = dict(BACKENDS)
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
        device = self._devices[backend]
        per_device = self._optimised.setdefault(name, {})
        per_device.setdefault(device, []).append(OptimisedKernel(backend, fn, accepts, device))
        return fn

    def unregister(self, name, backend, fn):
        """Remove one optimised implementation (tests use this to clean up after themselves)."""
        per_device = self._optimised.get(name, {})
        for device, kernels in list(per_device.items()):
            kept = [k for k in kernels if not (k.backend == backend and k.fn is fn)]
            if kept:
                per_device[device] = kept
            else:
                del per_device[device]
        if not per_device:
            self._optimised.pop(name, None)

    def add_backend(self, backend, device="numpy"):
        """Make a new backend name known (enabled), bound to the array module ``device``
        (``"numpy"`` or ``"cupy"``), e.g. for an experimental kernel family or a test."""
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; known: {list(DEVICES)}")
        if backend in self._devices and self._devices[backend] != device:
            raise ValueError(f"backend {backend!r} is already bound to {self._devices[backend]!r}")
        self._devices[backend] = device
        self._enabled.setdefault(backend, True)

    def remove_backend(self, backend):
        """Forget a backend added with ``add_backend`` and every implementation it registered."""
        if backend in BACKENDS:
            raise ValueError(f"cannot remove the built-in backend {backend!r}")
        for name in list(self._optimised):
            for kernel in self._implementation_records(name):
                if kernel.backend == backend:
                    self.unregister(name, backend, kernel.fn)
        self._devices.pop(backend, None)
        self._enabled.pop(backend, None)

    def backend_device(self, backend):
        """The array module (``"numpy"`` or ``"cupy"``) that ``backend``'s kernels take."""
        try:
            return self._devices[backend]
        except KeyError:
            raise ValueError(f"unknown backend {backend!r}; known: {sorted(self._devices)}") from None

    # ----------------------------------------------------------------- switches
    def enable(self, backend, flag=True):
        """Switch a backend's optimised kernels on or off for this process."""
        if backend not in self._enabled:
            raise ValueError(f"unknown backend {backend!r}; known: {sorted(self._enabled)}")
        self._enabled[backend] = bool(flag)

    def is_enabled(self, backend):
        """True if ``backend`` is switched on here and allowed by ``use`` (or, outside any
        ``use``, by ``MINIGRAD_KERNELS``)."""
        if not self._enabled.get(backend, False):
            return False
        allowed = self._allowed()
        return allowed is None or backend in allowed

    def _allowed(self):
        override = _USE_OVERRIDE.get()
        return override if override is not None else _allowed_by_environment(self._enabled)

    @contextlib.contextmanager
    def use(self, *backends):
        """Within the block, allow only ``backends`` (``"reference"`` alone = none at all).

        ``with CATALOGUE.use("reference"):`` makes every dispatch call the reference;
        ``with CATALOGUE.use("numba"):`` lets only numba kernels run (others fall back to
        the reference).  The choice is held in a ContextVar, so it is local to this thread
        and restored on exit, even on error; blocks nest.
        """
        names = frozenset(b.strip().lower() for b in backends)
        if not names:
            raise ValueError("use() needs 'reference' or at least one backend name")
        if "reference" in names:
            if len(names) > 1:
                raise ValueError("use('reference') cannot be combined with backend names")
            names = frozenset()
        unknown = names - set(self._enabled)
        if unknown:
            raise ValueError(f"unknown backends {sorted(unknown)}; known: {sorted(self._enabled)}")
        token = _USE_OVERRIDE.set(names)
        try:
            yield self
        finally:
            _USE_OVERRIDE.reset(token)

    # ----------------------------------------------------------------- lookup
    def names(self):
        return sorted(self._references)

    def reference_impl(self, name):
        """The reference implementation of ``name``: the oracle optimised kernels are tested against."""
        try:
            return self._references[name]
        except KeyError:
            raise KeyError(f"unknown kernel {name!r}; known: {self.names()}") from None

    def _implementation_records(self, name):
        return [k for kernels in self._optimised.get(name, {}).values() for k in kernels]

    def implementations(self, name):
        """``[(backend, fn, accepts), ...]`` registered for ``name``: grouped by device (in the
        order devices were first registered for it), in dispatch order within each."""
        self.reference_impl(name)
        return [(k.backend, k.fn, k.accepts) for k in self._implementation_records(name)]

    def _widened(self, name, low, args, kwargs):
        """A kernel call with float16/bfloat16 array arguments, as PyTorch's CPU kernels run
        them: every half-width float array is widened to float32 (accumulation in float32;
        numpy's own bfloat16 matmul accumulates in bfloat16 and is slower), the kernel runs,
        and each float32 result is rounded once to ``low``, the arguments' half dtype."""
        def widen(a):
            dtype = getattr(a, "dtype", None)
            if dtype is not None and dtype.itemsize == 2 and dtype.kind in "fV":
                return a.astype(numpy.float32)
            return a
        out = self.dispatch(name, *[widen(a) for a in args], **kwargs)

        def narrow(a):
            return a.astype(low) if getattr(a, "dtype", None) == numpy.float32 else a
        with numpy.errstate(over="ignore"):     # float16 overflows to ±inf, silently as torch
            return tuple(narrow(a) for a in out) if isinstance(out, tuple) else narrow(out)

    def select(self, name, *args, **kwargs):
        """``(backend, fn)`` that ``dispatch`` would call; backend is ``"reference"`` on fallback."""
        kernel = self._choose(name, args, kwargs)
        if kernel is None:
            return "reference", self.reference_impl(name)
        return kernel.backend, kernel.fn

    def dispatch(self, name, *args, **kwargs):
        """Call the first enabled optimised implementation for the arguments' device that
        accepts them, else the reference.  Half-width floats (float16, and bfloat16 whose
        numpy kind is 'V') are computed in float32 and rounded once, see ``_widened``."""
        for arg in args:
            dtype = getattr(arg, "dtype", None)
            if dtype is not None and dtype.itemsize == 2 and dtype.kind in "fV":
                return self._widened(name, dtype, args, kwargs)
        if name in self._optimised:
            kernel = self._choose(name, args, kwargs)
            if kernel is not None:
                return kernel.fn(*args, **kwargs)
        # The common case today (no optimised kernel at all) skips the device probe.
        try:
            reference = self._references[name]
        except KeyError:
            raise KeyError(f"unknown kernel {name!r}; known: {self.names()}") from None
        return reference(*args, **kwargs)

    def _choose(self, name, args, kwargs):
        """The OptimisedKernel dispatch would call, or None for the reference."""
        per_device = self._optimised.get(name)
        if not per_device:
            return None
        candidates = per_device.get(array_device(args, kwargs))
        if not candidates:
            return None
        allowed = self._allowed()
        enabled = self._enabled
        for kernel in candidates:
            # One call per candidate at most: this loop is on the hot path of every matmul.
            if (enabled.get(kernel.backend, False)
                    and (allowed is None or kernel.backend in allowed)
                    and (kernel.accepts is None or kernel.accepts(*args, **kwargs))):
                return kernel
        return None


def _allowed_by_environment(known):
    """Backends allowed by ``MINIGRAD_KERNELS``: None = all, empty set = references only."""
    value = os.environ.get(ENV_VAR, "")
    if not value:
        return None
    value = value.strip().lower()
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


# ----------------------------------------------------------------- backend packages
# An optimised backend is a package mirroring ``kernels/reference/`` file by file (as
# tinygrad finds ``runtime/ops_<name>.py``): every module in ``kernels/numba_cpu/`` or
# ``kernels/cuda/`` is imported, and importing it registers its kernels.  ``numba_cpu/conv.py``
# may only register names whose reference is in ``reference/conv.py``, so the oracle of a
# fast kernel is one file away (``tests/kernels/test_backend_layout.py`` checks both rules).

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
