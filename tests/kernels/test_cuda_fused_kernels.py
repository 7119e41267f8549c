"""The fused numba.cuda kernels of ``kernels/cuda/loss.py``, ``pointwise.py`` and
``optimizer.py`` (cross-entropy forward/backward/fused, GELU forward/backward, Adam's
one-launch update) in the CUDA simulator.

As ``test_cuda_kernels.py``: ``tests/conftest.py`` sets ``NUMBA_ENABLE_CUDASIM=1`` unless
``MINIGRAD_REAL_CUDA=1``, so kernels run as Python on numpy arrays (on CuPy arrays on a
GPU).  Kernels are launched at tiny block sizes on ragged sizes, outputs start NaN-poisoned,
and results are compared with float64 numpy and with the catalogue's reference.
"""
import math

import numpy as np
import pytest

from minigrad_kernels.catalogue import CATALOGUE

pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
from minigrad_kernels.cuda import loss as cuda_loss  # noqa: E402
from minigrad_kernels.cuda import optimizer as cuda_optimizer  # noqa: E402
from minigrad_kernels.cuda import pointwise as cuda_pointwise  # noqa: E402
from tests.kernels.cuda_device import poisoned, rand, to_device, to_host  # noqa: E402
from minigrad_kernels.reference import loss as reference_loss  # noqa: E402
from minigrad_kernels.reference import optimizer as reference_optimizer  # noqa: E402
from minigrad_kernels.reference import pointwise as reference_pointwise  # noqa: E402


F32 = dict(rtol=3e-5, atol=3e-6)


# ------------------------------------------------------------------------ cross-entropy (float64)
def ce_float64(x, target, weight, ignore_index, eps):
    """Per-row loss, lse and the per-row gradient of ℓ_i wrt x_i, in float64 (the formulas
    written out directly, a second oracle besides the reference)."""
    x = x.astype(np.float64)
    n, c = x.shape
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    lse = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    z = x - lse[:, None]
    p = np.exp(z)
    loss, grad = np.zeros(n), np.zeros((n, c))
    row_w = np.zeros(n)
    for i in range(n):
        if target[i] == ignore_index:
            continue
        t = target[i]
        row_w[i] = w[t]
        a = (eps / c) * w
        a[t] += (1 - eps) * w[t]
        loss[i] = -(a * z[i]).sum()
        grad[i] = a.sum() * p[i] - a
    return loss, lse, grad, row_w


def ce_case(rng, n, c, weighted, ignore):
    x = rand(rng, n, c, scale=3.0)
    target = rng.integers(0, c, n).astype(np.int64)
    if ignore:
        target[::3] = -100
    weight = (rng.random(c) + 0.5).astype(np.float32) if weighted else None
    return x, target, weight


@pytest.mark.parametrize("threads", [4, 8])
@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_kernel_modes_match_float64(threads, eps, weighted):
    rng = np.random.default_rng(threads + int(10 * eps) + weighted)
    n, c = 5, 13                                   # C not a multiple of the block
    x, target, weight = ce_case(rng, n, c, weighted, ignore=True)
    want_loss, want_lse, want_grad, _ = ce_float64(x, target, weight, -100, eps)
    g = (rng.random(n) + 0.5).astype(np.float32)
    for mode in cuda_loss.MODES:
        kernel = cuda_loss.make_cross_entropy(threads, mode)
        loss, lse, dx = cuda_loss.cross_entropy_rows(
            to_device(x), to_device(target), None if weight is None else to_device(weight),
            -100, eps, mode, to_device(g), kernel=kernel)
        if mode != "backward":
            np.testing.assert_allclose(to_host(loss), want_loss, **F32)
            np.testing.assert_allclose(to_host(lse), want_lse, **F32)
        if mode != "forward":
            np.testing.assert_allclose(to_host(dx), g[:, None] * want_grad, **F32)


def test_cross_entropy_kernel_writes_every_output_over_nan_poison():
    rng = np.random.default_rng(3)
    x, target, _ = ce_case(rng, 3, 9, False, ignore=False)
    kernel = cuda_loss.make_cross_entropy(4, "fused")
    loss, lse, dx = poisoned(3), poisoned(3), poisoned((3, 9))
    one = to_device(np.ones(1, np.float32))
    kernel[3, 4](to_device(x), to_device(target), to_device(np.zeros(1, np.float32)), 0, -100,
                 np.float32(0.1), to_device(np.full(1, 9, np.float32)),
                 to_device(np.ones(3, np.float32)), loss, lse, dx)
    del one
    assert np.isfinite(to_host(loss)).all() and np.isfinite(to_host(lse)).all()
    assert np.isfinite(to_host(dx)).all()
    np.testing.assert_allclose(to_host(dx).sum(1), 0.0, atol=1e-6)   # softmax − onehot rows


def test_cross_entropy_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        cuda_loss.make_cross_entropy(4, "both")


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("eps, weighted", [(0.0, False), (0.1, True)])
def test_cross_entropy_wrappers_match_the_reference(reduction, eps, weighted):
    rng = np.random.default_rng(7)
    x, target, weight = ce_case(rng, 6, 11, weighted, ignore=True)
    args = (to_device(x), to_device(target), None if weight is None else to_device(weight), -100,
            eps, reduction)
    ref_f = CATALOGUE.reference_impl("cross_entropy_forward")
    ref_b = CATALOGUE.reference_impl("cross_entropy_backward")
    assert cuda_loss.accepts_cross_entropy(*args)
    np.testing.assert_allclose(to_host(cuda_loss.cross_entropy_forward(*args)),
                               to_host(ref_f(*args)), **F32)
    d_loss = to_device(rand(rng, 6) if reduction == "none"
                       else np.full((), 0.7, dtype=np.float32))
    back = (args[0], args[1], d_loss) + args[2:]
    assert cuda_loss.accepts_backward(*back)
    np.testing.assert_allclose(to_host(cuda_loss.cross_entropy_backward(*back)),
                               to_host(ref_b(*back)), **F32)
    loss, lse, dx = cuda_loss.cross_entropy_fused_rows(*args)
    np.testing.assert_allclose(to_host(loss), to_host(ref_f(*args)), **F32)
    ones = to_device(np.ones(6, np.float32) if reduction == "none" else np.ones((), np.float32))
    np.testing.assert_allclose(to_host(dx), to_host(ref_b(args[0], args[1], ones, *args[2:])),
                               **F32)
    np.testing.assert_allclose(to_host(lse), ce_float64(x, target, weight, -100, eps)[1], **F32)
    registered_loss, registered_dx = cuda_loss.cross_entropy_forward_backward(*args)
    want_loss, want_dx = CATALOGUE.reference_impl("cross_entropy_forward_backward")(*args)
    np.testing.assert_allclose(to_host(registered_loss), to_host(want_loss), **F32)
    np.testing.assert_allclose(to_host(registered_dx), to_host(want_dx), **F32)


def test_cross_entropy_mean_of_all_ignored_is_nan_with_zero_gradient():
    x = rand(np.random.default_rng(0), 2, 5)
    target = to_device(np.full(2, -100, np.int64))
    loss, _, dx = cuda_loss.cross_entropy_fused_rows(to_device(x), target, None, -100, 0.0,
                                                     "mean")
    assert math.isnan(float(to_host(loss)))
    assert (to_host(dx) == 0).all()


def test_cross_entropy_accepts_only_2d_float32():
    x = np.zeros((2, 3), np.float32)
    t = np.zeros(2, np.int64)
    assert cuda_loss.accepts_cross_entropy(x, t, None, -100, 0.0, "mean")
    assert not cuda_loss.accepts_cross_entropy(x.astype(np.float64), t, None, -100, 0.0, "mean")
    assert not cuda_loss.accepts_cross_entropy(np.zeros((2, 3, 4), np.float32), t, None, -100, 0.0,
                                               "mean")
    assert not cuda_loss.accepts_cross_entropy(x, t.astype(np.float32), None, -100, 0.0, "mean")
    assert not cuda_loss.accepts_cross_entropy(x, t, np.ones(4, np.float32), -100, 0.0, "mean")
    assert not cuda_loss.accepts_cross_entropy(x, t, None, -100, 0.0, "avg")
    assert not cuda_loss.accepts_backward(x, t, np.ones(3, np.float32), None, -100, 0.0, "none")


# ------------------------------------------------------------------------------------ GELU
def gelu64(x, approximate, backward):
    x = x.astype(np.float64)
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x ** 3))
        if backward:
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        return 0.5 * x * (1 + t)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if backward:
        return cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return x * cdf


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("backward", [False, True])
def test_gelu_kernel_at_tiny_blocks_matches_float64(approximate, backward):
    rng = np.random.default_rng(11)
    x = rand(rng, 77, scale=3.0)                 # 77: ragged against 8 threads × 3 blocks
    x[:3] = [0.0, -12.0, 12.0]
    dy = rand(rng, 77)
    kernel = cuda_pointwise.make_gelu(8, approximate, backward)
    out = poisoned(77)
    kernel[3, 8](to_device(x), to_device(dy), out)      # grid-stride: 24 threads, 77 elements
    want = gelu64(x, approximate, backward) * (dy if backward else 1.0)
    # tanh′ at x ≪ 0 is a difference of O(1) terms: float32 leaves ~1e-7·|x| absolute error.
    np.testing.assert_allclose(to_host(out), want, rtol=2e-6, atol=1e-6 if backward else 2e-7)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "gelu_backward", "gelu_tanh_backward"])
def test_gelu_wrappers_match_the_reference(name):
    rng = np.random.default_rng(5)
    x = rand(rng, 3, 7, 5, scale=2.5)[:, ::2]        # non-contiguous, ragged
    args = (to_device(x),) if "backward" not in name else (to_device(rand(rng, 3, 4, 5)),
                                                          to_device(x))
    fn = getattr(cuda_pointwise, name)
    implementations = [f for backend, f, _ in CATALOGUE.implementations(name) if backend == "cuda"]
    assert fn in implementations
    got = fn(*args)
    assert got.shape == x.shape and got.dtype == np.float32
    # The float32 reference loses ~1e-7 absolute to cancellation in 1 + erf (x ≪ 0).
    np.testing.assert_allclose(to_host(got), to_host(CATALOGUE.reference_impl(name)(*args)),
                               rtol=2e-6, atol=1e-6)


def test_gelu_backward_references_match_float64():
    rng = np.random.default_rng(2)
    x, dy = rng.standard_normal(50) * 3, rng.standard_normal(50)
    for approximate, fn in (("none", reference_pointwise.gelu_backward),
                            ("tanh", reference_pointwise.gelu_tanh_backward)):
        np.testing.assert_allclose(fn(dy, x), dy * gelu64(x, approximate, True), rtol=1e-12)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        cuda_pointwise.make_gelu(8, "sigmoid")


# ------------------------------------------------------------------------------------ Adam
ADAM_CASES = [dict(weight_decay=0.0, decoupled=False, maximize=False, amsgrad=False),
              dict(weight_decay=0.1, decoupled=False, maximize=True, amsgrad=False),
              dict(weight_decay=0.05, decoupled=True, maximize=False, amsgrad=True),
              dict(weight_decay=0.0, decoupled=False, maximize=False, amsgrad=True, beta2=0.0)]


def adam_state(rng, n, amsgrad):
    theta, grad = rand(rng, n), rand(rng, n)
    m, v = rand(rng, n, scale=0.1), np.abs(rand(rng, n, scale=0.01))
    vmax = np.abs(rand(rng, n, scale=0.01)) if amsgrad else None
    return theta, grad, m, v, vmax


@pytest.mark.parametrize("case", ADAM_CASES, ids=["plain", "l2-maximize", "adamw-amsgrad",
                                                  "beta2-0"])
def test_adam_kernel_is_bit_identical_to_the_reference(case):
    rng = np.random.default_rng(len(str(case)))
    n = 61                                           # ragged against 16 threads × 3 blocks
    theta, grad, m, v, vmax = adam_state(rng, n, case["amsgrad"])
    hyper = dict(step=3, lr=1e-2, beta1=0.9, beta2=case.get("beta2", 0.999), eps=1e-8,
                 weight_decay=case["weight_decay"], decoupled=case["decoupled"],
                 maximize=case["maximize"])
    want = [a.copy() for a in (theta, m, v)] + [None if vmax is None else vmax.copy()]
    reference_optimizer.adam_update(want[0], grad, want[1], want[2], want[3], **hyper)
    got = [to_device(a.copy()) for a in (theta, m, v)] + [None if vmax is None
                                                         else to_device(vmax.copy())]
    kernel = cuda_optimizer.make_adam(16)
    cuda_optimizer.adam_update(got[0], to_device(grad), got[1], got[2], got[3], **hyper,
                               kernel=kernel)
    for g, w in zip(got, want):
        if w is not None:
            np.testing.assert_array_equal(to_host(g), w)      # bit for bit
    assert not np.array_equal(want[0], theta)


def test_adam_reference_matches_float64_formula():
    rng = np.random.default_rng(9)
    theta, grad, m, v, _ = adam_state(rng, 40, False)
    t64, m64, v64, g64 = (a.astype(np.float64) for a in (theta, m, v, grad))
    hyper = dict(step=5, lr=1e-3, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01,
                 decoupled=True, maximize=False)
    reference_optimizer.adam_update(theta, grad, m, v, None, **hyper)
    t64 *= 1 - 1e-3 * 0.01
    m64 = 0.8 * m64 + 0.2 * g64
    v64 = 0.99 * v64 + 0.01 * g64 ** 2
    t64 -= 1e-3 / (1 - 0.8 ** 5) * m64 / (np.sqrt(v64) / math.sqrt(1 - 0.99 ** 5) + 1e-6)
    np.testing.assert_allclose(theta, t64, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(v, v64, rtol=1e-6)


def test_adam_kernel_overwrites_nan_poison_and_reads_grad_only():
    rng = np.random.default_rng(4)
    theta, grad, m, v, _ = adam_state(rng, 20, True)
    vmax = poisoned(20)
    # A NaN-poisoned max buffer stays NaN (numpy's maximum propagates it): poison m instead
    # and check it is overwritten by a finite value.
    m_dev, grad_dev = poisoned(20), to_device(grad.copy())
    m_dev[:] = to_device(m)
    cuda_optimizer.adam_update(to_device(theta), grad_dev, m_dev, to_device(v), vmax, 1, 1e-3,
                               0.9, 0.999, 1e-8, 0.0, False, False,
                               kernel=cuda_optimizer.make_adam(16))
    assert np.isnan(to_host(vmax)).all()
    assert np.isfinite(to_host(m_dev)).all()
    np.testing.assert_array_equal(to_host(grad_dev), grad)


def test_adam_accepts_flat_float32_only():
    a = np.zeros(5, np.float32)
    assert cuda_optimizer.accepts_adam(a, a, a, a, None, 1, 1e-3, 0.9, 0.999, 1e-8, 0, False, False)
    assert cuda_optimizer.accepts_adam(a, a, a, a, a, 1, 1e-3, 0.9, 0.999, 1e-8, 0, False, False)
    assert not cuda_optimizer.accepts_adam(a.astype(np.float64), a, a, a, None)
    assert not cuda_optimizer.accepts_adam(np.zeros((5, 1), np.float32), a, a, a, None)
    assert not cuda_optimizer.accepts_adam(a, np.zeros(4, np.float32), a, a, None)
    assert not cuda_optimizer.accepts_adam(np.zeros(10, np.float32)[::2], a, a, a, None)


def test_fused_kernels_are_registered_under_their_reference_names():
    for name, module in (("cross_entropy_forward", cuda_loss),
                         ("cross_entropy_backward", cuda_loss),
                         ("cross_entropy_forward_backward", cuda_loss),
                         ("gelu", cuda_pointwise), ("gelu_tanh_backward", cuda_pointwise),
                         ("adam_update", cuda_optimizer)):
        backends = [backend for backend, fn, _ in CATALOGUE.implementations(name)]
        assert "cuda" in backends, name
        reference_module = CATALOGUE.reference_impl(name).__module__
        assert reference_module.endswith(module.__name__.rpartition(".")[2])
