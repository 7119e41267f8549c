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

ROC (receiver operating characteristic) for a score ``s`` where higher means "positive":
for every threshold t, ``TPR(t) = #{positives with s ≥ t} / #positives`` against
``FPR(t) = #{negatives with s ≥ t} / #negatives``; ``roc_curve`` walks the distinct
scores from the highest down (tied scores enter together, so ties make a diagonal step),
as scikit-learn's does, and ``roc_auc_score`` integrates it with the trapezoid rule. That
area equals the Mann–Whitney probability ``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` for a random
positive/negative pair. With C > 2 classes one-vs-rest scores class k against the others
on column k of the probabilities and averages the C areas, unweighted ("macro") or by
class support ("weighted").

For a language model the per-token cross-entropy ``L`` (nats, averaged over every
predicted token) gives the perplexity ``exp(L)``: the size of a uniform vocabulary that
would be as surprising; a model that knows nothing about 75 characters scores 75.
"""
import math

import numpy as np

__all__ = ["confusion_matrix", "accuracy", "precision_recall_f1", "classification_report",
           "roc_curve", "auc", "roc_auc_score", "perplexity", "RunningAverage", "format_report"]


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


def _binary_target(y_true, pos_label):
    y_true = np.asarray(y_true).ravel()
    if pos_label is None:
        classes = np.unique(y_true)
        if not (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}):
            raise ValueError(f"y_true takes value in {classes.tolist()} and pos_label is not "
                             "specified: either make y_true take value in {0, 1} or {-1, 1} "
                             "or pass pos_label explicitly.")
        pos_label = 1
    return (y_true == pos_label).astype(np.float64)


def roc_curve(y_true, y_score, pos_label=None, drop_intermediate=True):
    """scikit-learn's ``roc_curve``: ``(fpr, tpr, thresholds)``, thresholds decreasing, the
    first one ``inf`` (the point (0, 0)); one point per distinct score, so tied scores move
    along a diagonal. ``drop_intermediate`` drops points on a straight line between their
    neighbours (they do not change the area). ``pos_label`` is the positive class (default
    1 for labels in {0, 1} or {−1, 1})."""
    target = _binary_target(y_true, pos_label)
    y_score = np.asarray(y_score, dtype=np.float64).ravel()
    if target.shape != y_score.shape:
        raise ValueError(f"y_true and y_score differ in length: {target.size} vs "
                         f"{y_score.size}")
    order = np.argsort(y_score, kind="mergesort")[::-1]
    y_score, target = y_score[order], target[order]
    distinct = np.where(np.diff(y_score))[0]
    ends = np.r_[distinct, target.size - 1]
    tps = np.cumsum(target)[ends]
    fps = 1 + ends - tps
    thresholds = y_score[ends]
    if drop_intermediate and len(fps) > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    thresholds = np.r_[np.inf, thresholds]
    with np.errstate(invalid="ignore", divide="ignore"):   # one class only: nan, as sklearn
        fpr = fps / fps[-1]
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc(x, y):
    """Area under the curve through the points ``(x, y)`` by the trapezoid rule; ``x`` must
    be monotonic (either direction)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2:
        raise ValueError(f"At least 2 points are needed to compute area under curve, but "
                         f"x.shape = {x.size}")
    direction = 1
    dx = np.diff(x)
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1
        else:
            raise ValueError(f"x is neither increasing nor decreasing : {x}.")
    return float(direction * np.trapezoid(y, x) if hasattr(np, "trapezoid")
                 else direction * np.trapz(y, x))


def _binary_auc(target, score):
    if target.min() == target.max():
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in "
                         "that case.")
    fpr, tpr, _ = roc_curve(target, score, pos_label=1, drop_intermediate=True)
    return auc(fpr, tpr)


def roc_auc_score(y_true, y_score, average="macro", multi_class="raise", labels=None):
    """scikit-learn's ``roc_auc_score`` for binary and one-vs-rest multiclass targets.

    Binary: ``y_true`` two labels, ``y_score`` (N,) scores of the greater label. Multiclass:
    ``y_score`` (N, C) probabilities (rows summing to 1) and ``multi_class="ovr"``; the
    classes are ``labels`` or the sorted labels of ``y_true`` (every one must occur);
    ``average`` "macro" (mean over classes), "weighted" (by support) or None (the
    per-class areas). One-vs-one (Hand & Till) is not implemented: ``"ovo"`` raises."""
    y_true = np.asarray(y_true).ravel()
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_score.ndim == 1 or (y_score.ndim == 2 and y_score.shape[1] == 1):
        classes = np.unique(y_true)
        if len(classes) > 2:
            raise ValueError(f"y_true holds {len(classes)} classes; multiclass needs (N, C) "
                             "scores and multi_class='ovr'")
        if len(classes) < 2:
            return _binary_auc(np.zeros(1), np.zeros(1))   # raises the one-class error
        return _binary_auc((y_true == classes[1]).astype(np.float64), y_score.ravel())
    if multi_class == "raise":
        raise ValueError("multi_class must be in ('ovo', 'ovr')")
    if multi_class != "ovr":
        raise ValueError(f"multi_class={multi_class!r} is not supported here; use 'ovr'")
    if average not in ("macro", "weighted", None):
        raise ValueError(f"average must be 'macro', 'weighted' or None, got {average!r}")
    if not np.allclose(y_score.sum(axis=1), 1.0):
        raise ValueError("Target scores need to be probabilities for multiclass roc_auc, "
                         "i.e. they should sum up to 1.0 over classes")
    classes = np.unique(y_true) if labels is None else np.asarray(labels)
    if len(classes) != y_score.shape[1]:
        raise ValueError(f"Number of classes in y_true not equal to the number of columns in "
                         f"'y_score': {len(classes)} vs {y_score.shape[1]}")
    scores = np.array([_binary_auc((y_true == c).astype(np.float64), y_score[:, k])
                       for k, c in enumerate(classes)])
    if average is None:
        return scores
    if average == "weighted":
        support = np.array([(y_true == c).sum() for c in classes], dtype=np.float64)
        return float(np.average(scores, weights=support))
    return float(scores.mean())


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
    if "accuracy" not in report:     # an autoencoder: its loss is the reconstruction MSE
        return lines
    line = f"accuracy {report['accuracy']:.{digits}f}"
    if "macro_f1" in report:
        line += (f"  macro precision {report['macro_precision']:.{digits}f}  macro recall "
                 f"{report['macro_recall']:.{digits}f}  macro F1 {report['macro_f1']:.{digits}f}")
    lines.append(line)
    if "roc_auc" in report:
        line = f"ROC AUC {report['roc_auc']:.{digits}f}"
        if "roc_auc_weighted" in report:
            line = (f"ROC AUC (one-vs-rest) macro {report['roc_auc']:.{digits}f}  weighted "
                    f"{report['roc_auc_weighted']:.{digits}f}")
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
