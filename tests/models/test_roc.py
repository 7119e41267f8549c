"""ROC curves and AUC (models.train.metrics) against cases worked by hand and the
Mann–Whitney identity (scikit-learn is not installed; these are its documented outputs)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad_models.train.metrics import auc, format_report, roc_auc_score, roc_curve
from minigrad_models.train.tasks import evaluate


def mann_whitney_auc(target, score):
    """P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) over every positive/negative pair, by brute force."""
    pos, neg = score[target == 1], score[target == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


def test_roc_curve_of_sklearns_documented_example():
    fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_tied_scores_enter_together_as_a_diagonal():
    # sorted: 0.9 (pos), 0.5 (neg), 0.5 (pos), 0.2 (neg): the two 0.5s are one threshold.
    fpr, tpr, thresholds = roc_curve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.9, 0.5, 0.2])
    # pairs: (0.9 > both) 2, (0.5 > 0.2) 1, (0.5 = 0.5) ½  → 3.5 / 4
    assert roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(0.875)


def test_drop_intermediate_removes_only_collinear_points():
    y, s = [1, 1, 1, 0, 0, 0], [6, 5, 4, 3, 2, 1]
    fpr, tpr, _ = roc_curve(y, s)
    # kept: (0, 0) prepended, the first threshold, the corner (0, 1), the end (1, 1)
    np.testing.assert_allclose(fpr, [0, 0, 0, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1, 1])
    fpr_all, tpr_all, th_all = roc_curve(y, s, drop_intermediate=False)
    assert len(fpr_all) == 7 and th_all[1] == 6
    assert auc(fpr, tpr) == auc(fpr_all, tpr_all) == 1.0


def test_pos_label_and_label_sets():
    fpr, tpr, _ = roc_curve([-1, -1, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert auc(fpr, tpr) == pytest.approx(0.75)
    fpr, tpr, _ = roc_curve(["b", "b", "a", "a"], [0.1, 0.4, 0.35, 0.8], pos_label="a")
    assert auc(fpr, tpr) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="pos_label"):
        roc_curve([2, 3, 3], [0.1, 0.2, 0.3])
    assert roc_auc_score([3, 3, 7, 7], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5)), min_size=2, max_size=40))
def test_auc_is_the_mann_whitney_statistic(pairs):
    target = np.array([p[0] for p in pairs])
    score = np.array([p[1] for p in pairs], dtype=np.float64)   # few values: many ties
    if target.min() == target.max():
        with pytest.raises(ValueError, match="Only one class"):
            roc_auc_score(target, score)
        return
    assert roc_auc_score(target, score) == pytest.approx(mann_whitney_auc(target, score))
    assert roc_auc_score(target, -score) == pytest.approx(1 - mann_whitney_auc(target, score))


def test_one_vs_rest_macro_and_weighted():
    y = np.array([0, 0, 1, 1, 1, 2, 2, 0, 2, 1])
    rng = np.random.default_rng(0)
    p = rng.random((10, 3))
    p /= p.sum(axis=1, keepdims=True)
    per_class = [mann_whitney_auc((y == k).astype(int), p[:, k]) for k in range(3)]
    np.testing.assert_allclose(roc_auc_score(y, p, multi_class="ovr", average=None), per_class)
    assert roc_auc_score(y, p, multi_class="ovr") == pytest.approx(np.mean(per_class))
    support = [3, 4, 3]
    assert roc_auc_score(y, p, multi_class="ovr", average="weighted") == pytest.approx(
        np.dot(per_class, support) / 10)
    with pytest.raises(ValueError, match="multi_class"):
        roc_auc_score(y, p)
    with pytest.raises(ValueError, match="sum up to 1"):
        roc_auc_score(y, p * 2, multi_class="ovr")
    with pytest.raises(ValueError, match="ovo"):
        roc_auc_score(y, p, multi_class="ovo")


def test_auc_trapezoid_both_directions():
    assert auc([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)
    assert auc([1, 0.5, 0], [1, 1, 0]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        auc([0, 1, 0.5], [0, 1, 1])


def test_evaluate_reports_auc_and_scores(tmp_path):
    mg.manual_seed(0)
    x = mg.randn(60, 1, 4, 4)
    y = mg.tensor(np.arange(60) % 3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    report = evaluate(model, "classify", loader, "cpu", 3, ["a", "b", "c"], scores=True)
    probabilities = report["scores"]
    assert probabilities.shape == (60, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert report["roc_auc"] == pytest.approx(
        roc_auc_score(y.numpy(), probabilities, multi_class="ovr"))
    assert any(line.startswith("ROC AUC (one-vs-rest) macro") for line in format_report(report))
    from minigrad_models.train.plots import plot_roc_curves
    plot_roc_curves(y.numpy(), probabilities, ["a", "b", "c"], tmp_path / "roc.png")
    assert (tmp_path / "roc.png").stat().st_size > 1000
