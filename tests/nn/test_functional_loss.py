"""Losses against PyTorch for every reduction: cross_entropy (class ids with weight,
ignore_index and label_smoothing, spatial and unbatched inputs, class probabilities),
nll_loss, mse_loss, l1_loss, binary_cross_entropy(_with_logits) including target and
pos_weight; first and second derivatives; the numerically hard cases (logits of 1e4,
probabilities of exactly 0 and 1); and PyTorch's errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both

REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def class_case(draw):
    classes = draw(st.integers(2, 5))
    layout = draw(st.sampled_from(["flat", "spatial", "unbatched"]))
    n = draw(st.integers(1, 4))
    if layout == "flat":
        x_shape, t_shape = (n, classes), (n,)
    elif layout == "spatial":
        extra = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
        x_shape, t_shape = (n, classes) + extra, (n,) + extra
    else:
        x_shape, t_shape = (classes,), ()
    ignore_index = draw(st.sampled_from([-100, 0, 1]))
    weighted = draw(st.booleans())
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.5]))
    return classes, x_shape, t_shape, ignore_index, weighted, smoothing


@given(class_case(), st.sampled_from(REDUCTIONS), st.integers(0, 2 ** 16))
def test_cross_entropy_class_targets_match_torch(device, case, reduction, seed):
    torch = pytest.importorskip("torch")
    classes, x_shape, t_shape, ignore_index, weighted, smoothing = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(x_shape) * 3, device=device)
    target = rng.integers(0, classes, t_shape)
    weight = rng.uniform(0.2, 2.0, classes) if weighted else None
    mg_w = mg.tensor(weight, device=device) if weighted else None
    t_w = torch.from_numpy(weight) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    run_both(torch, lambda x: F.cross_entropy(x, mg.tensor(target, device=device), mg_w, **kw),
             lambda x: torch.nn.functional.cross_entropy(x, torch.from_numpy(target), t_w, **kw),
             [x], seed, rtol=1e-9, atol=1e-12)


@given(class_case(), st.sampled_from(REDUCTIONS), st.integers(0, 2 ** 16))
def test_nll_loss_matches_torch(device, case, reduction, seed):
    torch = pytest.importorskip("torch")
    classes, x_shape, t_shape, ignore_index, weighted, _ = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(x_shape), device=device)
    target = rng.integers(0, classes, t_shape)
    weight = rng.uniform(0.2, 2.0, classes) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    run_both(torch, lambda x: F.nll_loss(x, mg.tensor(target, device=device), None if weight is None else
                                         mg.tensor(weight, device=device), **kw),
             lambda x: torch.nn.functional.nll_loss(x, torch.from_numpy(target), None if weight
                                                    is None else torch.from_numpy(weight), **kw),
             [x], seed)


@settings(max_examples=20)
@given(st.sampled_from([(3, 4), (2, 3, 2), (4,)]), st.sampled_from(REDUCTIONS), st.booleans(),
       st.sampled_from([0.0, 0.2]), st.integers(0, 2 ** 16))
def test_cross_entropy_probability_targets_match_torch(device, shape, reduction, weighted, smoothing, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    class_dim = 0 if len(shape) == 1 else 1
    x = leaf(rng.standard_normal(shape), device=device)
    p = rng.uniform(0.0, 1.0, shape)
    target = leaf(p / p.sum(axis=class_dim, keepdims=True), device=device)
    weight = rng.uniform(0.5, 2, shape[class_dim]) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    run_both(torch, lambda x, t: F.cross_entropy(x, t, None if weight is None else
                                                 mg.tensor(weight, device=device), **kw),
             lambda x, t: torch.nn.functional.cross_entropy(x, t, None if weight is None else
                                                            torch.from_numpy(weight), **kw),
             [x, target], seed)


def test_mean_with_weights_divides_by_the_target_weights(device):
    logits = mg.zeros(3, 2, dtype=mg.float64, device=device)                # every −log p = log 2
    target = mg.tensor([0, 1, 1], device=device)
    weight = mg.tensor([1.0, 3.0], dtype=mg.float64, device=device)
    loss = F.cross_entropy(logits, target, weight).item()
    assert loss == pytest.approx((1 + 3 + 3) * np.log(2) / 7)
    ignored = F.cross_entropy(logits, target, weight, ignore_index=1).item()
    assert ignored == pytest.approx(np.log(2))


def test_all_targets_ignored_gives_nan_mean_and_zero_sum(device):
    x = mg.randn(3, 4, device=device)
    t = mg.tensor([-100, -100, -100], device=device)
    assert np.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0


def test_golden_huge_logits_are_finite_and_equal_torch(device):
    torch = pytest.importorskip("torch")
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 1e4]])
    target = np.array([1, 2, 0])
    for dtype in (np.float32, np.float64):
        x = mg.tensor(logits.astype(dtype), requires_grad=True, device=device)
        loss = F.cross_entropy(x, mg.tensor(target, device=device))
        loss.backward()
        tx = torch.tensor(logits.astype(dtype), requires_grad=True)
        expected = torch.nn.functional.cross_entropy(tx, torch.from_numpy(target))
        expected.backward()
        assert np.isfinite(loss.item()) and np.isfinite(x.grad.cpu().numpy()).all()
        assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
        np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), atol=1e-7)
    assert loss.item() == pytest.approx((1e4 + np.log(2) + 2e4) / 3)


def test_cross_entropy_gradient_is_softmax_minus_onehot(device):
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)), device=device)
    t = np.array([0, 2, 1, 2])
    F.cross_entropy(x, mg.tensor(t, device=device), reduction="sum").backward()
    p = np.exp(x.detach().cpu().numpy())
    p /= p.sum(1, keepdims=True)
    p[np.arange(4), t] -= 1
    np.testing.assert_allclose(x.grad.cpu().numpy(), p, rtol=1e-12)


def test_softmax_losses_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((3, 4)), device=device)
    t = mg.tensor([1, 0, 3], device=device)
    w = mg.tensor(rng.uniform(0.5, 2, 4), device=device)
    ce = lambda x: F.cross_entropy(x, t, w, label_smoothing=0.1)  # noqa: E731
    assert gradcheck(ce, (x,)) and gradgradcheck(ce, (x,))
    probs = leaf(rng.dirichlet(np.ones(4), 3), device=device)
    assert gradgradcheck(lambda x, p: F.cross_entropy(x, p), (x, probs))
    nll = lambda x: F.nll_loss(F.log_softmax(x, 1), t, ignore_index=0)  # noqa: E731
    assert gradcheck(nll, (x,)) and gradgradcheck(nll, (x,))
    y = leaf(rng.uniform(0, 1, (3, 4)), device=device)
    pos_weight = mg.tensor(rng.uniform(0.5, 2, 4), device=device)
    bce = lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight)  # noqa: E731
    assert gradcheck(bce, (x, y)) and gradgradcheck(bce, (x, y))
    probs_in = leaf(rng.uniform(0.1, 0.9, (3, 4)), device=device)
    assert gradcheck(F.binary_cross_entropy, (probs_in, y))
    assert gradgradcheck(F.binary_cross_entropy, (probs_in, y))
    assert gradgradcheck(F.mse_loss, (x, y))
    assert gradcheck(F.l1_loss, (x, y))


@given(st.sampled_from(["mse_loss", "l1_loss"]), st.sampled_from(REDUCTIONS), st.booleans(),
       st.integers(0, 2 ** 16))
def test_regression_losses_match_torch(device, name, reduction, weighted, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x, y = (leaf(rng.standard_normal((3, 4)), device=device),
            leaf(rng.standard_normal((3, 4)), device=device))
    w = rng.uniform(0.1, 2, (3, 4)) if weighted else None
    run_both(torch, lambda x, y: getattr(F, name)(x, y, reduction=reduction,
                                                  weight=None if w is None else mg.tensor(w, device=device)),
             lambda x, y: getattr(torch.nn.functional, name)(
                 x, y, reduction=reduction, weight=None if w is None else torch.from_numpy(w)),
             [x, y], seed)


def test_regression_losses_warn_and_broadcast_like_torch(device):
    torch = pytest.importorskip("torch")
    x, y = leaf(np.arange(3.0), device=device), leaf(np.ones((2, 1)), device=device)
    with pytest.warns(UserWarning, match="Using a target size"):
        run_both(torch, F.mse_loss, lambda a, b: torch.nn.functional.mse_loss(a, b), [x, y])
    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F.l1_loss(mg.randn(3, device=device), mg.randn(4, device=device))


@given(st.sampled_from(REDUCTIONS), st.booleans(), st.booleans(), st.integers(0, 2 ** 16))
def test_binary_losses_match_torch(device, reduction, weighted, pos_weighted, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    logits, y = (leaf(rng.standard_normal((3, 4)) * 4, device=device),
                 leaf(rng.uniform(0, 1, (3, 4)), device=device))
    w = rng.uniform(0.1, 2, (4,)) if weighted else None
    pw = rng.uniform(0.5, 3, (4,)) if pos_weighted else None

    def wrap(module, a):
        return None if a is None else (mg.tensor(a,
                                                 device=device) if module is mg else torch.from_numpy(a))

    run_both(torch, lambda x, t: F.binary_cross_entropy_with_logits(
                 x, t, wrap(mg, w), reduction=reduction, pos_weight=wrap(mg, pw)),
             lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(
                 x, t, wrap(torch, w), reduction=reduction, pos_weight=wrap(torch, pw)),
             [logits, y], seed)
    probs, y2 = (leaf(rng.uniform(0.02, 0.98, (3, 4)), device=device),
                 leaf(rng.uniform(0, 1, (3, 4)), device=device))
    run_both(torch, lambda p, t: F.binary_cross_entropy(p, t, wrap(mg, w), reduction=reduction),
             lambda p, t: torch.nn.functional.binary_cross_entropy(p, t, wrap(torch, w),
                                                                   reduction=reduction),
             [probs, y2], seed)


def test_binary_cross_entropy_at_exact_zero_and_one_matches_torch(device):
    torch = pytest.importorskip("torch")
    for target in ([0.0, 1.0, 0.5], [1.0, 0.0, 0.5]):
        p = leaf([0.0, 1.0, 0.0], device=device)
        run_both(torch, lambda p: F.binary_cross_entropy(p, mg.tensor(target, dtype=mg.float64, device=device)),
                 lambda p: torch.nn.functional.binary_cross_entropy(
                     p, torch.tensor(target, dtype=torch.float64)), [p], rtol=1e-12)


def test_bce_with_logits_extremes_are_finite(device):
    x = leaf([-1e4, -30.0, 0.0, 30.0, 1e4], device=device)
    y = mg.tensor([1.0, 0.0, 0.5, 1.0, 0.0], dtype=mg.float64, device=device)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().cpu().numpy(), [1e4, 0.0, np.log(2), 0.0, 1e4],
                               atol=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), [-1.0, 0.0, 0.0, 0.0, 1.0], atol=1e-12)


def test_legacy_size_average_and_reduce(device):
    x, t = mg.randn(4, 3, device=device), mg.tensor([0, 1, 2, 1], device=device)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        summed = F.cross_entropy(x, t, size_average=False)
    assert summed.item() == pytest.approx(F.cross_entropy(x, t, reduction="sum").item())
    with pytest.warns(UserWarning):
        assert tuple(F.nll_loss(x, t, reduce=False).shape) == (4,)


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, 7, 2])), IndexError,
     "Target 7 is out of bounds."),
    (lambda: F.nll_loss(mg.randn(2, 3, 4), mg.tensor([[1, 7, 2, 0], [0, 0, 0, 0]])), IndexError,
     "Target 7 is out of bounds."),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, -1, 2])), IndexError,
     "Target -1 is out of bounds."),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, 2])), ValueError,
     "Expected input batch_size (3) to match target batch_size (2)."),
    (lambda: F.cross_entropy(mg.randn(2, 3, 4), mg.zeros(2, 5, dtype=mg.int64)), RuntimeError,
     "Expected target size [2, 4], got [2, 5]"),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, 2, 3], dtype=mg.int32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int"),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, 2, 3]), weight=mg.ones(4)), RuntimeError,
     "weight tensor should be defined either for all 5 classes or no classes but got weight "
     "tensor of shape: [4]"),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, 2, 3]), label_smoothing=1.5),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.rand(3, 5), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: F.cross_entropy(mg.randn(3, 5), mg.tensor([1, 2, 3]), reduction="foo"), ValueError,
     "foo is not a valid value for reduction"),
    (lambda: F.binary_cross_entropy(mg.rand(3), mg.rand(3, 1)), ValueError,
     "Using a target size (minigrad.Size([3, 1])) that is different to the input size "
     "(minigrad.Size([3])) is deprecated"),
    (lambda: F.binary_cross_entropy(mg.tensor([1.5]), mg.rand(1)), RuntimeError,
     "all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy_with_logits(mg.rand(3), mg.rand(3, 1)), ValueError,
     "Target size (minigrad.Size([3, 1])) must be the same as input size (minigrad.Size([3]))"),
    (lambda: F.mse_loss(mg.rand(3), mg.rand(3), weight=mg.ones(2)), ValueError,
     "Weights and input must have the same size."),
])
def test_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
