"""The wider loss family (smooth_l1 huber kl_div poisson_nll gaussian_nll margin_ranking
hinge_embedding soft_margin multilabel_soft_margin cosine_embedding triplet_margin) and the
distance functions (normalize cosine_similarity pairwise_distance): values and gradients
against PyTorch in float64 on hypothesis-drawn data, every reduction, the kinks, gradcheck,
the layers and the errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both as _run_both

REDUCTIONS = ["none", "mean", "sum"]


def run_both(torch, fn, fn_torch, inputs, *args, **kwargs):
    """parity.run_both on leaves reused across calls: their .grad is cleared first."""
    for x in inputs:
        if isinstance(x, mg.Tensor):
            x.grad = None
    return _run_both(torch, fn, fn_torch, inputs, *args, **kwargs)


def _sign_target(rng, shape, device):
    return leaf(rng.choice([-1.0, 1.0], size=shape), requires_grad=False, device=device)


def _cases(rng, device, shape):
    """name → (minigrad fn, torch fn name, inputs, kwargs)."""
    x = leaf(rng.uniform(-3, 3, shape), device=device)
    y = leaf(rng.uniform(-3, 3, shape), device=device)
    logp = leaf(np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])), device=device)
    p = leaf(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]), device=device)
    counts = leaf(rng.integers(0, 5, shape).astype(float), requires_grad=False, device=device)
    positive = leaf(rng.uniform(0.1, 3, shape), device=device)
    sign = _sign_target(rng, shape, device)
    labels = leaf(rng.integers(0, 2, shape).astype(float), requires_grad=False, device=device)
    return {
        "smooth_l1_loss": ([x, y], {"beta": 0.7}),
        "smooth_l1_loss_beta0": ([x, y], {"beta": 0.0}),
        "huber_loss": ([x, y], {"delta": 1.3}),
        "kl_div": ([logp, p], {}),
        "kl_div_log_target": ([logp, leaf(np.log(p.detach().cpu().numpy()), device=device)],
                              {"log_target": True}),
        "poisson_nll_loss": ([x, counts], {}),
        "poisson_nll_loss_full": ([positive, counts], {"log_input": False, "full": True}),
        "gaussian_nll_loss": ([x, y, positive], {"full": True}),
        "margin_ranking_loss": ([x, y, sign], {"margin": 0.3}),
        "hinge_embedding_loss": ([x, sign], {"margin": 0.5}),
        "soft_margin_loss": ([x, sign], {}),
        "multilabel_soft_margin_loss": ([x, labels], {}),
    }


def _torch_name(name):
    return name.replace("_beta0", "").replace("_log_target", "").replace("_full", "")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(_cases(np.random.default_rng(0), "cpu", (2, 3)))),
       st.sampled_from(REDUCTIONS),
       st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       st.integers(0, 2 ** 16))
def test_matches_torch(device, name, reduction, shape, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    inputs, kwargs = _cases(rng, device, shape)[name]
    fn_name = _torch_name(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(torch, lambda *t: getattr(F, fn_name)(*t, reduction=reduction, **kwargs),
                 lambda *t: getattr(torch.nn.functional, fn_name)(*t, reduction=reduction,
                                                                  **kwargs),
                 inputs, seed, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", [("smooth_l1_loss", {"beta": 1.0}),
                                         ("smooth_l1_loss", {"beta": 0.5}),
                                         ("huber_loss", {"delta": 1.0}),
                                         ("huber_loss", {"delta": 0.5})])
def test_gradients_at_the_kinks(name, kwargs, device):
    torch = pytest.importorskip("torch")
    x = leaf([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], device=device)
    y = leaf(np.zeros(7), device=device)
    run_both(torch, lambda a, b: getattr(F, name)(a, b, reduction="sum", **kwargs),
             lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction="sum", **kwargs),
             [x, y])


def test_kl_div_batchmean_zero_targets_and_warning(device):
    torch = pytest.importorskip("torch")
    logp = leaf(np.log([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]), device=device)
    p = leaf([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], requires_grad=False, device=device)
    run_both(torch, lambda a: F.kl_div(a, p, reduction="batchmean"),
             lambda a: torch.nn.functional.kl_div(a, torch.from_numpy(p.cpu().numpy()),
                                                  reduction="batchmean"), [logp])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(logp, p)


def test_gaussian_nll_var_shapes_and_clamp(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    mu = leaf(rng.standard_normal((4, 3)), device=device)
    y = leaf(rng.standard_normal((4, 3)), device=device)
    for var in (leaf(rng.uniform(0.5, 2, (4,)), device=device),
                leaf(rng.uniform(0.5, 2, (4, 1)), device=device),
                leaf([[1e-9, 0.5, 2.0]] * 4, device=device)):
        run_both(torch, lambda a, b, v: F.gaussian_nll_loss(a, b, v),
                 lambda a, b, v: torch.nn.functional.gaussian_nll_loss(a, b, v), [mu, y, var])
    run_both(torch, lambda a, b: F.gaussian_nll_loss(a, b, 0.5),
             lambda a, b: torch.nn.functional.gaussian_nll_loss(a, b, 0.5), [mu, y])
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(mu, y, mg.ones(2, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(mu, y, -mg.ones(4, 3))


@pytest.mark.parametrize("target_shape,input_shape", [((5,), (5, 4)), ((), (4,))])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(target_shape, input_shape, reduction, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = leaf(rng.standard_normal(input_shape), device=device)
    b = leaf(rng.standard_normal(input_shape), device=device)
    t = _sign_target(rng, target_shape, device)
    run_both(torch, lambda u, v: F.cosine_embedding_loss(u, v, t, 0.1, reduction=reduction),
             lambda u, v: torch.nn.functional.cosine_embedding_loss(
                 u, v, torch.from_numpy(t.cpu().numpy()), 0.1, reduction=reduction), [a, b])


@pytest.mark.parametrize("p,swap", [(2.0, False), (1.0, True), (3.0, False),
                                    (float("inf"), True)])
def test_triplet_margin_loss(p, swap, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a, pos, neg = (leaf(rng.standard_normal((5, 4)), device=device) for _ in range(3))
    run_both(torch, lambda *t: F.triplet_margin_loss(*t, margin=0.7, p=p, swap=swap),
             lambda *t: torch.nn.functional.triplet_margin_loss(*t, margin=0.7, p=p, swap=swap),
             [a, pos, neg])
    run_both(torch, lambda *t: F.triplet_margin_with_distance_loss(*t, swap=swap),
             lambda *t: torch.nn.functional.triplet_margin_with_distance_loss(*t, swap=swap),
             [a, pos, neg])


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([1.0, 2.0, 3.0, float("inf")]), st.integers(0, 2),
       st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.integers(0, 2 ** 16))
def test_distances_match_torch(device, p, dim, shape, seed):
    torch = pytest.importorskip("torch")
    dim = dim % len(shape)
    rng = np.random.default_rng(seed)
    x1 = leaf(rng.standard_normal(shape), device=device)
    x2 = leaf(rng.standard_normal(shape), device=device)
    tF = torch.nn.functional
    run_both(torch, lambda a: F.normalize(a, p, dim), lambda a: tF.normalize(a, p, dim), [x1])
    run_both(torch, lambda a, b: F.cosine_similarity(a, b, dim),
             lambda a, b: tF.cosine_similarity(a, b, dim), [x1, x2])
    run_both(torch, lambda a, b: F.pairwise_distance(a, b, p, keepdim=True),
             lambda a, b: tF.pairwise_distance(a, b, p, keepdim=True), [x1, x2])


def test_distances_at_the_origin_match_torch(device):
    """Zero vectors: normalize's clamp is differentiated, cosine_similarity's is not, the
    norm's gradient is 0 at the origin."""
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x1 = leaf([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], device=device)
    x2 = leaf([[1.0, 2.0, 0.0], [1.0, 0.0, 3.0]], device=device)
    run_both(torch, F.normalize, tF.normalize, [x1])
    run_both(torch, F.cosine_similarity, tF.cosine_similarity, [x1, x2])
    run_both(torch, lambda a: F.pairwise_distance(a, a.detach(), eps=0.0),
             lambda a: tF.pairwise_distance(a, a.detach(), eps=0.0), [x1])
    run_both(torch, lambda a, b: F.pairwise_distance(a, b), tF.pairwise_distance,
             [leaf(1.0, device=device), leaf(3.0, device=device)])
    run_both(torch, lambda a, b: F.cosine_similarity(a, b), tF.cosine_similarity,
             [leaf(np.ones((2, 3)), device=device), leaf(np.ones((3,)), device=device)])


def test_gradcheck(device):
    rng = np.random.default_rng(7)
    x = leaf(rng.uniform(-2, 2, (3, 4)), device=device)
    y = leaf(rng.uniform(-2, 2, (3, 4)), device=device)
    v = leaf(rng.uniform(0.5, 2, (3, 4)), device=device)
    sign = _sign_target(rng, (3,), device)
    assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), (x, y))
    assert gradcheck(lambda a, b: F.huber_loss(a, b, delta=0.5), (x, y))
    assert gradgradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c), (x, y, v))
    assert gradgradcheck(lambda a: F.kl_div(F.log_softmax(a, 1), F.softmax(y, 1),
                                            reduction="batchmean"), (x,))
    assert gradgradcheck(lambda a, b: F.cosine_similarity(a, b), (x, y))
    assert gradgradcheck(lambda a: F.normalize(a, dim=0), (x,))
    assert gradgradcheck(lambda a, b: F.pairwise_distance(a, b, 3.0), (x, y))
    assert gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, sign), (x, y))


def test_errors_match_torch():
    x, y = mg.randn(3), mg.randn(3)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, y, delta=0.0)
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.kl_div(x, y, reduction="bad")
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, y, x, margin=0)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(mg.randn(2, 3), x, mg.randn(2, 3))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.cosine_embedding_loss(mg.randn(3, 2), mg.randn(3, 2), mg.ones(3, 1))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(x, y, mg.ones(3))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(x, mg.randn(1, 3), y)
    with pytest.warns(UserWarning, match="target size"):
        F.smooth_l1_loss(mg.randn(3, 1), y)


LAYERS = [("SmoothL1Loss", {"beta": 0.5}, 2), ("HuberLoss", {"delta": 0.7}, 2),
          ("KLDivLoss", {"reduction": "batchmean"}, 2), ("PoissonNLLLoss", {}, 2),
          ("GaussianNLLLoss", {"full": True}, 3), ("MarginRankingLoss", {"margin": 0.2}, 3),
          ("HingeEmbeddingLoss", {}, 2), ("SoftMarginLoss", {"reduction": "sum"}, 2),
          ("MultiLabelSoftMarginLoss", {}, 2), ("CosineEmbeddingLoss", {"margin": 0.1}, 3),
          ("TripletMarginLoss", {"swap": True}, 3), ("TripletMarginWithDistanceLoss", {}, 3),
          ("CosineSimilarity", {"dim": 0}, 2), ("PairwiseDistance", {"p": 1.0}, 2)]


@pytest.mark.parametrize("name,kwargs,arity", LAYERS)
def test_layers_match_torch(name, kwargs, arity, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert not list(ours.state_dict())
    rng = np.random.default_rng(8)
    first = leaf(rng.uniform(-1, 1, (4, 5)), device=device)
    if name in ("MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
                "CosineEmbeddingLoss"):
        target_shape = (4,) if name == "CosineEmbeddingLoss" else (4, 5)
        rest = ([leaf(rng.uniform(-1, 1, (4, 5)), device=device)] if arity == 3 else [])
        rest.append(_sign_target(rng, target_shape, device))
    elif name == "GaussianNLLLoss":
        rest = [leaf(rng.uniform(-1, 1, (4, 5)), device=device),
                leaf(rng.uniform(0.5, 1, (4, 5)), device=device)]
    elif name in ("KLDivLoss", "PoissonNLLLoss", "MultiLabelSoftMarginLoss"):
        rest = [leaf(rng.uniform(0, 1, (4, 5)), requires_grad=False, device=device)]
    else:
        rest = [leaf(rng.uniform(-1, 1, (4, 5)), device=device) for _ in range(arity - 1)]
    run_both(torch, ours, theirs, [first] + rest)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(2, 5), st.sampled_from([1, 2]), st.booleans(),
       st.sampled_from(REDUCTIONS), st.booleans(), st.integers(0, 2 ** 16))
def test_multi_class_margin_losses_match_torch(device, n, c, p, weighted, reduction, vector,
                                               seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    shape = (c,) if vector else (n, c)
    x = leaf(rng.standard_normal(shape), device=device)
    y = rng.integers(0, c, () if vector else (n,))
    weight = rng.uniform(0.5, 2, c) if weighted else None
    kw = dict(p=p, margin=0.8, reduction=reduction)
    run_both(torch, lambda t: F.multi_margin_loss(
                 t, mg.tensor(y, device=device), weight=None if weight is None else
                 mg.tensor(weight, device=device), **kw),
             lambda t: torch.nn.functional.multi_margin_loss(
                 t, torch.tensor(y), weight=None if weight is None else torch.tensor(weight),
                 **kw), [x], seed)
    x.grad = None
    labels = rng.integers(-1, c, shape)
    run_both(torch, lambda t: F.multilabel_margin_loss(t, mg.tensor(labels, device=device),
                                                       reduction=reduction),
             lambda t: torch.nn.functional.multilabel_margin_loss(t, torch.tensor(labels),
                                                                  reduction=reduction), [x], seed)


def test_multi_margin_gradient_at_the_hinge_matches_torch(device):
    """At margin − x_y + x_i = 0 exactly the hinge passes no gradient (PyTorch's z > 0)."""
    torch = pytest.importorskip("torch")
    x = leaf([[1.0, 0.0, 2.0], [0.5, 0.5, -0.5]], device=device)
    run_both(torch, lambda t: F.multi_margin_loss(t, mg.tensor([0, 1], device=device)),
             lambda t: torch.nn.functional.multi_margin_loss(t, torch.tensor([0, 1])), [x])
    x.grad = None
    run_both(torch, lambda t: F.multilabel_margin_loss(t, mg.tensor([[0, -1, 1], [2, 1, -1]],
                                                                    device=device)),
             lambda t: torch.nn.functional.multilabel_margin_loss(
                 t, torch.tensor([[0, -1, 1], [2, 1, -1]])), [x])
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, mg.tensor([0, 1]), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, mg.tensor([0, 5]))
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, mg.tensor([0, 1]))


@pytest.mark.parametrize("name,kwargs", [("MultiMarginLoss", {"p": 2, "margin": 0.5}),
                                         ("MultiLabelMarginLoss", {})])
def test_multi_class_margin_layers(name, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(9).standard_normal((3, 4)), device=device)
    target = [0, 3, 1] if name == "MultiMarginLoss" else [[0, 1, -1, 2], [3, -1, 0, 0],
                                                          [1, 2, 3, 0]]
    run_both(torch, lambda t: ours(t, mg.tensor(target, device=device)),
             lambda t: theirs(t, torch.tensor(target)), [x])
