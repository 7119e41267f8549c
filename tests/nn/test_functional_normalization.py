"""F.batch_norm / F.layer_norm / F.group_norm: PyTorch parity of values and of input,
weight and bias gradients; running statistics updated in place over several steps (the
unbiased variance, as PyTorch) in training and used in evaluation; first and second
derivatives; PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both, to_torch


@settings(max_examples=15)
@given(st.sampled_from([(4, 3), (3, 2, 5), (2, 3, 2, 3)]), st.booleans(), st.booleans(),
       st.integers(0, 2 ** 16))
def test_batch_norm_training_matches_torch_over_steps(device, shape, affine, training, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    c = shape[1]
    mean, var = (mg.tensor(rng.standard_normal(c), device=device),
                 mg.tensor(rng.uniform(0.5, 2, c), device=device))
    t_mean, t_var = to_torch(torch, mean), to_torch(torch, var)
    w = leaf(rng.standard_normal(c), device=device) if affine else None
    b = leaf(rng.standard_normal(c), device=device) if affine else None
    for step in range(3):
        x = leaf(rng.standard_normal(shape) * 2 + 1, device=device)
        run_both(torch, lambda x, w, b: F.batch_norm(x, mean, var, w, b, training, 0.3, 1e-3),
                 lambda x, w, b: torch.nn.functional.batch_norm(x, t_mean, t_var, w, b, training,
                                                                0.3, 1e-3),
                 [x, w, b], seed + step)
        # atol: a running mean that lands near 0 differs by float64 rounding (~1e-16) only
        np.testing.assert_allclose(mean.cpu().numpy(), t_mean.cpu().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(var.cpu().numpy(), t_var.cpu().numpy(), rtol=1e-12, atol=1e-15)
        if w is not None:
            w.grad = b.grad = None


def test_batch_norm_without_running_stats_and_float32(device):
    torch = pytest.importorskip("torch")
    x = leaf(np.random.default_rng(0).standard_normal((5, 3, 2)), device=device)
    run_both(torch, lambda x: F.batch_norm(x, None, None, training=True),
             lambda x: torch.nn.functional.batch_norm(x, None, None, training=True), [x])
    x32 = mg.randn(4, 3, device=device)
    mean, var = mg.zeros(3, device=device), mg.ones(3, device=device)
    assert F.batch_norm(x32, mean, var, training=True).dtype == mg.float32
    assert mean.dtype == mg.float32 and var.dtype == mg.float32


def test_batch_norm_unbiased_running_variance(device):
    x = mg.tensor([[1.0], [3.0]], dtype=mg.float64, device=device)            # mean 2, biased var 1, unbiased 2
    mean, var = (mg.zeros(1, dtype=mg.float64, device=device),
                 mg.ones(1, dtype=mg.float64, device=device))
    out = F.batch_norm(x, mean, var, training=True, momentum=1.0, eps=0.0)
    np.testing.assert_allclose(out.cpu().numpy().ravel(), [-1.0, 1.0])
    assert mean.item() == 2.0 and var.item() == 2.0


@given(st.sampled_from([((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 2, 3), (3,)), ((5,), (5,))]),
       st.booleans(), st.booleans(), st.integers(0, 2 ** 16))
def test_layer_norm_matches_torch(device, case, with_weight, with_bias, seed):
    torch = pytest.importorskip("torch")
    shape, normalized = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape) * 3 + 2, device=device)
    w = leaf(rng.standard_normal(normalized), device=device) if with_weight else None
    b = leaf(rng.standard_normal(normalized), device=device) if with_bias else None
    run_both(torch, lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-4),
             lambda x, w, b: torch.nn.functional.layer_norm(x, normalized, w, b, 1e-4),
             [x, w, b], seed)


@pytest.mark.parametrize("shape,groups", [((2, 4, 3), 2), ((2, 6, 2, 2), 3), ((3, 4), 4)])
def test_group_norm_matches_torch(shape, groups, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = leaf(rng.standard_normal(shape), device=device)
    w, b = (leaf(rng.standard_normal(shape[1]), device=device),
            leaf(rng.standard_normal(shape[1]), device=device))
    run_both(torch, lambda x, w, b: F.group_norm(x, groups, w, b),
             lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b), [x, w, b])


def test_gradchecks(device):
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((3, 2, 2)), device=device)
    w, b = leaf(rng.standard_normal(2), device=device), leaf(rng.standard_normal(2), device=device)
    bn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert gradcheck(bn, (x, w, b))
    assert gradgradcheck(bn, (x, w, b))
    running = (mg.tensor(rng.standard_normal(2), device=device),
               mg.tensor(rng.uniform(0.5, 1.5, 2), device=device))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, *running, w, b), (x, w, b))
    ln_w, ln_b = (leaf(rng.standard_normal((2, 2)), device=device),
                  leaf(rng.standard_normal((2, 2)), device=device))
    ln = lambda x, w, b: F.layer_norm(x, (2, 2), w, b)  # noqa: E731
    assert gradcheck(ln, (x, ln_w, ln_b))
    assert gradgradcheck(ln, (x, ln_w, ln_b))


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.batch_norm(mg.randn(1, 3), mg.zeros(3), mg.ones(3), training=True), ValueError,
     "Expected more than 1 value per channel when training, got input size"),
    (lambda: F.batch_norm(mg.randn(4, 3), None, None), RuntimeError,
     "running_mean must be defined in evaluation mode"),
    (lambda: F.batch_norm(mg.randn(4, 3), mg.zeros(4), mg.ones(4), training=True), RuntimeError,
     "running_mean should contain 3 elements not 4"),
    (lambda: F.layer_norm(mg.randn(2, 3, 4), (5,)), RuntimeError,
     "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[2, 3, 4]"),
    (lambda: F.layer_norm(mg.randn(2, 3, 4), (4,), mg.ones(3)), RuntimeError,
     "Expected weight to be of same shape as normalized_shape, but got weight of shape [3] and "
     "normalized_shape = [4]"),
    (lambda: F.group_norm(mg.randn(2, 3, 4), 2), RuntimeError,
     "Expected number of channels in input to be divisible by num_groups"),
])
def test_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(1, 3), st.booleans(),
       st.sampled_from([None, 1e-3]), st.integers(0, 2 ** 16))
def test_rms_norm_matches_torch(device, shape, k, with_weight, eps, seed):
    torch = pytest.importorskip("torch")
    k = min(k, len(shape))
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape), device=device)
    normalized = tuple(shape[len(shape) - k:])
    w = leaf(rng.standard_normal(normalized), device=device) if with_weight else None
    run_both(torch, lambda x, w: F.rms_norm(x, normalized, w, eps),
             lambda x, w: torch.nn.functional.rms_norm(x, normalized, w, eps), [x, w], seed)


def test_rms_norm_dtypes_gradgradcheck_and_errors(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for dtype, torch_dtype in ((mg.float16, torch.float16), (mg.float32, torch.float32)):
        data = (rng.standard_normal((3, 5)) * 1e-3).astype(np.dtype(dtype))
        out = F.rms_norm(mg.tensor(data, device=device), (5,))
        expected = torch.nn.functional.rms_norm(torch.from_numpy(data), (5,))
        assert out.dtype == dtype and expected.dtype == torch_dtype
        np.testing.assert_allclose(out.cpu().numpy().astype(np.float64),
                                   expected.numpy().astype(np.float64), rtol=1e-3, atol=1e-3)
    x = leaf(rng.standard_normal((2, 3)), device=device)
    w = leaf(rng.standard_normal(3), device=device)
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (3,), w), (x, w))
    for lib, fn in ((torch, torch.nn.functional), (mg, F)):
        with pytest.raises(RuntimeError, match=r"expected input with shape \[\*2, 3\], but got "
                                               r"input of size\[2, 4\]"):
            fn.rms_norm(lib.zeros(2, 4), (2, 3))
        with pytest.raises(RuntimeError, match="Expected weight to be of same shape as "
                                               "normalized_shape"):
            fn.rms_norm(lib.zeros(2, 4), (4,), weight=lib.ones(3))
