"""Parity harness: every optimised implementation in the catalogue against its reference.

The test below is parametrised over every registered ``(name, backend, implementation)``,
so a kernel added to ``kernels/numba_cpu/`` or ``kernels/cuda/`` is tested without writing
a test: ``check_parity`` draws cases for its name from ``cases.CASES`` (odd sizes,
permuted and strided inputs, float32 and float64), keeps those its ``accepts`` predicate
takes, moves them to the backend's array module, and compares every output with the
reference's: same shape and dtype, integers exactly, floats within a per-dtype tolerance
(NaN where the reference has NaN).  Today no optimised kernel is registered, so that
parametrisation is empty; the tests after it prove the harness passes a correct
implementation and catches wrong ones, under a test-only backend.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from minigrad_kernels.catalogue import CATALOGUE
from tests.kernels.cases import CASES

# Different summation orders (tiling, SIMD lanes) move float32 results by a few ulps of the
# partial sums, hence more than float32's epsilon; float64 kernels have no such excuse.
TOLERANCES = {np.dtype(np.float16): dict(rtol=1e-2, atol=1e-2),
              np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5),
              np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12)}
# The largest array a drawn case may hold when a kernel runs in the CUDA simulator.
SIMULATED_MAX_ELEMENTS = 128
REGISTERED = [(name, backend, fn, accepts) for name in CATALOGUE.names()
              for backend, fn, accepts in CATALOGUE.implementations(name)]


def _device_arrays(device):
    """``(to_device, to_host)`` for a backend's array module, or skip where it cannot run."""
    identity = (lambda a: a, lambda a: a)
    if device == "numpy":
        return identity
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":       # the simulator takes numpy arrays
        return identity
    try:
        import cupy
        cupy.zeros(1)
    except Exception:                                       # no CuPy, or no GPU: treat alike
        pytest.skip("CUDA backend kernels need CuPy with a GPU, or NUMBA_ENABLE_CUDASIM=1")
    return (lambda a: cupy.asarray(a) if isinstance(a, np.ndarray) else a,
            lambda a: cupy.asnumpy(a) if isinstance(a, cupy.ndarray) else a)


def _map(function, value):
    if isinstance(value, (tuple, list)):
        return type(value)(_map(function, v) for v in value)
    return function(value)


def assert_same_outputs(got, want, path="output"):
    """Recursive comparison of a kernel's outputs (arrays, tuples of arrays, None)."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), \
            f"{path}: expected {len(want)} outputs, got {got!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_outputs(g, w, f"{path}[{i}]")
        return
    if want is None:
        assert got is None, f"{path}: expected None"
        return
    want, got = np.asarray(want), np.asarray(got)
    assert got.shape == want.shape, f"{path}: shape {got.shape} != reference {want.shape}"
    assert got.dtype == want.dtype, f"{path}: dtype {got.dtype} != reference {want.dtype}"
    if want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=path)
        return
    np.testing.assert_allclose(got, want, equal_nan=True, err_msg=path, **TOLERANCES[want.dtype])


def _largest_array(value):
    if isinstance(value, (tuple, list)):
        return max((_largest_array(v) for v in value), default=0)
    return getattr(value, "size", 0)


def check_parity(name, fn, backend, accepts=None, max_examples=30, database=True,
                 max_elements=None):
    """Compare ``fn`` (an implementation of ``name`` on ``backend``) with the reference on
    drawn cases; raises AssertionError on the first (shrunk) mismatch. ``max_elements``
    skips cases with a larger array (the simulator's budget)."""
    reference = CATALOGUE.reference_impl(name)
    to_device, to_host = _device_arrays(CATALOGUE.backend_device(backend))
    strategy = CASES[name]

    @settings(deadline=None, max_examples=max_examples, database=None if not database else
              settings.default.database, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
    @given(strategy)
    def matches_reference(args):
        if max_elements is not None:
            assume(_largest_array(args) <= max_elements)
        if accepts is not None:
            assume(accepts(*_map(to_device, args)))
        want = reference(*args)
        got = _map(to_host, fn(*_map(to_device, args)))
        assert_same_outputs(got, want, f"{name} on {backend}")

    matches_reference()


@pytest.mark.parametrize("name, backend, fn, accepts", REGISTERED,
                         ids=[f"{n}-{b}-{getattr(f, '__name__', 'fn')}" for n, b, f, _ in REGISTERED])
def test_implementation_matches_reference(name, backend, fn, accepts):
    # The CUDA simulator runs every thread as a Python thread (~0.2 ms each, more per
    # barrier): fewer and smaller drawn cases there (flash attention's backward at T = 140
    # took minutes); tests/kernels/test_cuda_*.py add ragged ones at tiny tiles.
    simulated = (CATALOGUE.backend_device(backend) == "cupy"
                 and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1")
    check_parity(name, fn, backend, accepts, max_examples=10 if simulated else 30,
                 max_elements=SIMULATED_MAX_ELEMENTS if simulated else None)


def test_every_kernel_name_has_a_case_generator():
    missing = sorted(set(CATALOGUE.names()) - set(CASES))
    assert not missing, f"add a case generator to tests/kernels/cases.py for {missing}"
    assert not set(CASES) - set(CATALOGUE.names()), "case generator for an unknown kernel"


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_generator_builds_arguments_the_reference_accepts(name):
    """Each generator's cases run through the reference (and through a copy of it, which
    must match exactly): a broken generator fails here, not when a kernel arrives."""
    reference = CATALOGUE.reference_impl(name)

    def reference_twin(*args):
        return reference(*args)

    check_parity(name, reference_twin, "numba", max_examples=8, database=False)


# ---------------------------------------------------------------- the harness itself
TEST_BACKEND = "parity-harness-test"


@pytest.fixture
def test_backend():
    CATALOGUE.add_backend(TEST_BACKEND, device="numpy")
    try:
        yield TEST_BACKEND
    finally:
        CATALOGUE.remove_backend(TEST_BACKEND)
    assert all(b != TEST_BACKEND for n in CATALOGUE.names()
               for b, _, _ in CATALOGUE.implementations(n))


def _registered(backend, name):
    return [(n, b, f, a) for n in CATALOGUE.names() for b, f, a in CATALOGUE.implementations(n)
            if b == backend and n == name]


def test_harness_passes_a_correct_implementation(test_backend):
    def softmax_from_log_softmax(x, axis):
        # A different formula with the same value: exp(log_softmax).
        return np.exp(CATALOGUE.reference_impl("log_softmax")(x, axis))

    CATALOGUE.register("softmax", test_backend, softmax_from_log_softmax,
                       accepts=lambda x, axis: x.ndim >= 1)
    [(name, backend, fn, accepts)] = _registered(test_backend, "softmax")
    check_parity(name, fn, backend, accepts, database=False)


def test_harness_catches_a_kernel_that_assumes_contiguous_input(test_backend):
    def softmax_reading_memory_in_c_order(x, axis):
        # The classic optimised-kernel bug: walk the buffer from the data pointer as if the
        # array were C-contiguous.  (In bounds for the layouts cases.py draws: a permuted
        # array owns a buffer of its size, a strided one a buffer twice its size.)
        c_strides = tuple(int(np.prod(x.shape[i + 1:])) * x.itemsize for i in range(x.ndim))
        read = np.lib.stride_tricks.as_strided(x, shape=x.shape, strides=c_strides).copy()
        return CATALOGUE.reference_impl("softmax")(read, axis)

    CATALOGUE.register("softmax", test_backend, softmax_reading_memory_in_c_order)
    [(name, backend, fn, accepts)] = _registered(test_backend, "softmax")
    with pytest.raises(AssertionError):
        check_parity(name, fn, backend, accepts, database=False)


def test_harness_catches_a_float32_precision_loss(test_backend):
    def log_softmax_through_float16(x, axis):
        # Correct in float64, but rounds float32 inputs to half precision on the way.
        low = x.astype(np.float16) if x.dtype == np.float32 else x
        return CATALOGUE.reference_impl("log_softmax")(low, axis).astype(x.dtype)

    CATALOGUE.register("log_softmax", test_backend, log_softmax_through_float16)
    [(name, backend, fn, accepts)] = _registered(test_backend, "log_softmax")
    with pytest.raises(AssertionError, match="log_softmax"):
        check_parity(name, fn, backend, accepts, database=False)


def test_harness_catches_a_wrong_output_dtype(test_backend):
    def sigmoid_promoting_to_float64(x):
        return CATALOGUE.reference_impl("sigmoid")(x.astype(np.float64))

    CATALOGUE.register("sigmoid", test_backend, sigmoid_promoting_to_float64)
    [(name, backend, fn, accepts)] = _registered(test_backend, "sigmoid")
    with pytest.raises(AssertionError, match="dtype"):
        check_parity(name, fn, backend, accepts, database=False)
