"""Evaluation metrics in plain numpy: accuracy, per-class and macro precision / recall /
F1, the confusion matrix, and loss / perplexity for language models.

Everything starts from the confusion matrix of ``C`` classes,

    M[i, j] = #{samples whose true class is i and predicted class is j}

(rows are the truth, columns the prediction, as in scikit-learn). With ``TP_k = M[k, k]``,

    precision_k = TP_k / Σ_i M[i, k]      (of everything predicted k, the share that is k)
    recall_k    = TP_k / Σ_j M[k, j]      (of everything that is k, the share found)
    F1_k        = 2 P_k R_k / (P_k + R_k) (harmonic mean; 0 when P_k + R_k = 0)
    accuracy    = Σ_k TP_k / Σ M

and the macro averages are the unweighted means over classes of P_k, R_k and F1_k (so
macro-F1 is the mean of the per-class F1 values, not the F1 of macro-P and macro-R). A
ratio whose denominator is zero (a class never predicted, or absent from the data) is
taken as 0, scikit-learn's ``zero_division=0``.

For a language model the per-token cross-entropy ``L`` (nats, averaged over every
predicted token) gives the perplexity ``exp(L)``: the size of a uniform vocabulary that
would be as surprising; a model that knows nothing about 75 characters scores 75.
"""
import math

import numpy as np

__all__ = ["confusion_matrix", "accuracy", "precision_recall_f1", "classification_report",
           "perplexity", "RunningAverage", "format_report"]


def confusion_matrix(y_true, y_pred, num_classes):
    """``M (C, C) int64`` with ``M[i, j]`` = count of true class i predicted as j.

    Labels must be integers in ``[0, num_classes)``; one ``bincount`` over ``i·C + j``."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.size} vs {y_pred.size}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside [0, {num_classes}): "
                             f"{labels.min()}..{labels.max()}")
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def accuracy(y_true, y_pred):
    """Share of positions where the prediction equals the truth (0.0 for no samples)."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.size} vs {y_pred.size}")
    return float((y_true == y_pred).mean()) if y_true.size else 0.0


def _safe_ratio(numerator, denominator):
    """numerator / denominator elementwise, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def precision_recall_f1(matrix):
    """Per-class ``(precision, recall, f1, support)`` arrays of length C from a confusion
    matrix (see the module docstring for the formulas and the zero-division rule)."""
    matrix = np.asarray(matrix, dtype=np.int64)
    true_positive = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = _safe_ratio(true_positive, predicted)
    recall = _safe_ratio(true_positive, support)
    f1 = _safe_ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1, support


def classification_report(y_true, y_pred, num_classes, class_names=None):
    """Everything ``eval`` prints, as a JSON-ready dict:

    ``accuracy``, ``macro_precision``, ``macro_recall``, ``macro_f1``, ``num_samples``,
    ``per_class`` (a list of ``{class, precision, recall, f1, support}``) and
    ``confusion_matrix`` (a list of rows)."""
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    precision, recall, f1, support = precision_recall_f1(matrix)
    names = list(class_names) if class_names is not None else [str(k) for k in range(num_classes)]
    total = int(matrix.sum())
    return {
        "accuracy": float(np.trace(matrix) / total) if total else 0.0,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "num_samples": total,
        "per_class": [{"class": names[k], "precision": float(precision[k]),
                       "recall": float(recall[k]), "f1": float(f1[k]),
                       "support": int(support[k])} for k in range(num_classes)],
        "confusion_matrix": matrix.tolist(),
    }


def perplexity(mean_loss):
    """``exp(mean per-token cross-entropy)``; inf when that overflows."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


class RunningAverage:
    """Loss and accuracy accumulated over batches, weighted by the batch's item count
    (samples for classifiers, tokens for language models), so the epoch average is exact
    whatever the last batch's size. ``state_dict``/``load_state_dict`` let a run
    interrupted mid-epoch resume with the same epoch totals."""

    def __init__(self):
        self.loss_sum, self.correct, self.count = 0.0, 0, 0

    def update(self, mean_loss, correct, count):
        self.loss_sum += float(mean_loss) * count
        self.correct += int(correct)
        self.count += int(count)

    @property
    def loss(self):
        return self.loss_sum / self.count if self.count else float("nan")

    @property
    def accuracy(self):
        return self.correct / self.count if self.count else float("nan")

    def state_dict(self):
        return {"loss_sum": self.loss_sum, "correct": self.correct, "count": self.count}

    def load_state_dict(self, state):
        self.loss_sum = float(state["loss_sum"])
        self.correct, self.count = int(state["correct"]), int(state["count"])


def format_report(report, digits=4):
    """Human-readable lines for a report from ``classification_report`` (plus ``loss``
    / ``perplexity`` when present): a summary, then one row per class."""
    lines = []
    if "loss" in report:
        line = f"loss {report['loss']:.{digits}f}"
        if "perplexity" in report:
            line += f"  perplexity {report['perplexity']:.{digits}f}"
        lines.append(line)
    line = f"accuracy {report['accuracy']:.{digits}f}"
    if "macro_f1" in report:
        line += (f"  macro precision {report['macro_precision']:.{digits}f}  macro recall "
                 f"{report['macro_recall']:.{digits}f}  macro F1 {report['macro_f1']:.{digits}f}")
    lines.append(line)
    per_class = report.get("per_class")
    if per_class:
        width = max(5, max(len(row["class"]) for row in per_class))
        lines.append(f"{'class':>{width}}  precision  recall      f1  support")
        for row in per_class:
            lines.append(f"{row['class']:>{width}}  {row['precision']:9.{digits}f}  "
                         f"{row['recall']:6.{digits}f}  {row['f1']:6.{digits}f}  "
                         f"{row['support']:7d}")
    return lines
