"""models.train.metrics against cases worked by hand (no scikit-learn)."""
import math

import numpy as np
import pytest

from minigrad_models.train.metrics import (RunningAverage, accuracy, classification_report,
                                  confusion_matrix, format_report, perplexity,
                                  precision_recall_f1)

# Three classes, eight samples. Worked by hand:
#   true:  0 0 0 1 1 2 2 2
#   pred:  0 1 0 1 2 2 2 0
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
Y_PRED = [0, 1, 0, 1, 2, 2, 2, 0]
#   M (rows true, cols predicted):
#     [[2, 1, 0],     class 0: TP 2, predicted 3 (col sum), support 3
#      [0, 1, 1],     class 1: TP 1, predicted 2,           support 2
#      [1, 0, 2]]     class 2: TP 2, predicted 3,           support 3
MATRIX = [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
PRECISION = [2 / 3, 1 / 2, 2 / 3]
RECALL = [2 / 3, 1 / 2, 2 / 3]
F1 = [2 / 3, 1 / 2, 2 / 3]     # P = R, so F1 = P


def test_confusion_matrix_by_hand():
    m = confusion_matrix(Y_TRUE, Y_PRED, 3)
    assert m.dtype == np.int64
    assert m.tolist() == MATRIX
    assert m.sum() == len(Y_TRUE)


def test_accuracy_by_hand():
    assert accuracy(Y_TRUE, Y_PRED) == 5 / 8
    assert accuracy([], []) == 0.0


def test_precision_recall_f1_by_hand():
    p, r, f, support = precision_recall_f1(MATRIX)
    np.testing.assert_allclose(p, PRECISION)
    np.testing.assert_allclose(r, RECALL)
    np.testing.assert_allclose(f, F1)
    assert support.tolist() == [3, 2, 3]


def test_asymmetric_case_f1_is_harmonic_mean():
    # Class 1 predicted 4 times, right twice (P = 1/2); it occurs 3 times (R = 2/3):
    # F1 = 2·(1/2)(2/3)/(1/2 + 2/3) = (2/3)/(7/6) = 4/7.
    y_true = [1, 1, 1, 0, 0, 0]
    y_pred = [1, 1, 0, 1, 1, 0]
    p, r, f, _ = precision_recall_f1(confusion_matrix(y_true, y_pred, 2))
    assert p[1] == pytest.approx(1 / 2) and r[1] == pytest.approx(2 / 3)
    assert f[1] == pytest.approx(4 / 7)
    # Class 0: predicted twice, right once (P = 1/2); occurs 3 times (R = 1/3); F1 = 2/5.
    assert f[0] == pytest.approx(2 / 5)


def test_zero_division_is_zero():
    # Class 2 is never predicted and never occurs; class 1 is predicted but never occurs.
    p, r, f, support = precision_recall_f1(confusion_matrix([0, 0], [0, 1], 3))
    assert p.tolist() == [1.0, 0.0, 0.0]
    assert r.tolist() == [0.5, 0.0, 0.0]
    assert f[0] == pytest.approx(2 / 3) and f[1] == 0.0 and f[2] == 0.0
    assert support.tolist() == [2, 0, 0]


def test_report_macro_averages_are_means_of_per_class_values():
    report = classification_report(Y_TRUE, Y_PRED, 3, class_names=["a", "b", "c"])
    assert report["accuracy"] == 5 / 8
    assert report["macro_precision"] == pytest.approx(np.mean(PRECISION))
    assert report["macro_recall"] == pytest.approx(np.mean(RECALL))
    assert report["macro_f1"] == pytest.approx(np.mean(F1))
    assert report["num_samples"] == 8
    assert [row["class"] for row in report["per_class"]] == ["a", "b", "c"]
    assert [row["support"] for row in report["per_class"]] == [3, 2, 3]
    assert report["confusion_matrix"] == MATRIX


def test_macro_f1_is_not_f1_of_macro_p_and_r():
    y_true = [1, 1, 1, 0, 0, 0]
    y_pred = [1, 1, 0, 1, 1, 0]
    report = classification_report(y_true, y_pred, 2)
    assert report["macro_f1"] == pytest.approx((4 / 7 + 2 / 5) / 2)
    p, r = report["macro_precision"], report["macro_recall"]
    assert report["macro_f1"] != pytest.approx(2 * p * r / (p + r))


def test_perfect_predictions():
    y = np.arange(10).repeat(3)
    report = classification_report(y, y, 10)
    assert report["accuracy"] == 1.0 and report["macro_f1"] == 1.0
    assert np.array_equal(np.array(report["confusion_matrix"]), np.diag(np.full(10, 3)))


def test_bad_labels_raise():
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix([0, 1], [0], 3)


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(75)) == pytest.approx(75)   # uniform over 75 characters
    assert perplexity(1e6) == math.inf


def test_running_average_weights_by_count_and_round_trips():
    running = RunningAverage()
    running.update(1.0, correct=3, count=4)
    running.update(4.0, correct=0, count=2)     # a short last batch
    assert running.loss == pytest.approx((1.0 * 4 + 4.0 * 2) / 6)
    assert running.accuracy == pytest.approx(3 / 6)
    copy = RunningAverage()
    copy.load_state_dict(running.state_dict())
    assert (copy.loss, copy.accuracy) == (running.loss, running.accuracy)
    assert math.isnan(RunningAverage().loss)


def test_format_report_lines():
    report = classification_report(Y_TRUE, Y_PRED, 3, class_names=["a", "b", "c"])
    report["loss"] = 0.5
    lines = format_report(report)
    assert lines[0].startswith("loss 0.5000")
    assert "accuracy 0.6250" in lines[1] and "macro F1 0.6111" in lines[1]
    assert len(lines) == 2 + 1 + 3
    text_lines = format_report({"loss": 1.0, "perplexity": math.e, "accuracy": 0.25})
    assert text_lines == ["loss 1.0000  perplexity 2.7183", "accuracy 0.2500"]
