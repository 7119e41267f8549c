"""The run folder's pictures, drawn with matplotlib's Agg backend (files only, no window,
so it works on a headless machine and never steals focus):

* ``loss_curve.png`` — training loss of every step (thin) and its per-epoch mean, with
  the validation loss per epoch;
* ``predictions_grid.png`` — a 5×5 grid (docs/seeds.md#seed-001) of the first 25 test images, each
  titled with the predicted label; a wrong one also shows the true label, in red;
* ``reconstructions.png`` — an autoencoder's first 16 test images (top rows) above its
  reconstructions (bottom rows);
* ``latent_space.png`` — an autoencoder's 2-D codes of the test set, coloured by class
  (the first two code dimensions if the code is wider);
* ``confusion_matrix.png`` — counts, rows = true class, columns = predicted, each cell
  shaded by its share of its row (so the diagonal reads as per-class recall).

matplotlib is imported inside the functions: a run pays for it once, at the end, and the
rest of the package imports without it.
"""
from pathlib import Path

import numpy as np

__all__ = ["plot_loss_curve", "plot_predictions_grid", "plot_confusion_matrix", "plot_roc_curves",
           "plot_reconstructions", "plot_latent_space",
           "write_run_plots", "short_label"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def short_label(name):
    """``"7 - seven"`` → ``"7"``; other class names as they are."""
    head, sep, _ = name.partition(" - ")
    return head if sep else name


def plot_loss_curve(history, step_losses, path, title="loss"):
    """Per-step training loss against fractional epoch, per-epoch train and validation
    losses at the epochs' ends. ``history``: the trainer's epoch records."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    epochs = [r["epoch"] for r in history]
    if step_losses and history:
        steps = np.arange(1, len(step_losses) + 1)
        per_epoch = history[-1]["step"] / max(history[-1]["epoch"], 1)
        ax.plot(steps / per_epoch, step_losses, lw=0.6, alpha=0.35, color="tab:blue",
                label="train (per step)")
    if history:
        ax.plot(epochs, [r["train_loss"] for r in history], "o-", color="tab:blue",
                label="train (epoch mean)")
        val = [(r["epoch"], r["val_loss"]) for r in history if r.get("val_loss") is not None]
        if val:
            ax.plot(*zip(*val), "s-", color="tab:orange", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_predictions_grid(images, y_true, y_pred, class_names, path, rows=5, cols=5):
    """``images`` (K, 28, 28) floats in [0, 1]; title = predicted label, plus the true
    label in red when the prediction is wrong."""
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.8), dpi=110)
    for k, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if k >= len(images):
            continue
        ax.imshow(images[k], cmap="gray", vmin=0.0, vmax=1.0)
        predicted = short_label(class_names[int(y_pred[k])])
        truth = short_label(class_names[int(y_true[k])])
        if int(y_pred[k]) == int(y_true[k]):
            ax.set_title(f"pred {predicted}", fontsize=9, color="black")
        else:
            ax.set_title(f"pred {predicted}", fontsize=9, color="black", loc="left")
            ax.set_title(f"true {truth}", fontsize=9, color="red", loc="right")
    fig.suptitle("first 25 test images: predicted label (true label in red when wrong)",
                 fontsize=9)
    # Fixed margins: tight_layout over 25 axes costs about a second.
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.90, wspace=0.1, hspace=0.35)
    fig.savefig(path)
    plt.close(fig)


def plot_confusion_matrix(matrix, class_names, path, title="confusion matrix (test)"):
    """Annotated heat map of ``matrix`` (C, C), rows true, columns predicted."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    size = len(matrix)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * size, 0.8 + 0.58 * size), dpi=110)
    ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    labels = [short_label(n) for n in class_names]
    ax.set_xticks(range(size), labels, rotation=45 if max(map(len, labels)) > 2 else 0,
                  ha="right" if max(map(len, labels)) > 2 else "center", fontsize=8)
    ax.set_yticks(range(size), labels, fontsize=8)
    for i in range(size):
        for j in range(size):
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_roc_curves(y_true, scores, class_names, path, title="ROC (test)"):
    """One ROC curve per class (one-vs-rest on column k of ``scores`` (N, C)), or the single
    curve of a binary score (N,), each labelled with its area; the chance diagonal dashed."""
    from .metrics import auc, roc_curve
    plt = _pyplot()
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    fig, ax = plt.subplots(figsize=(5.6, 5.0), dpi=110)
    curves = [(class_names[-1] if class_names else "positive", y_true, scores)] \
        if scores.ndim == 1 else \
        [(short_label(class_names[k]) if class_names else str(k), y_true == k, scores[:, k])
         for k in range(scores.shape[1])]
    for name, target, score in curves:
        fpr, tpr, _ = roc_curve(np.asarray(target, dtype=np.int64), score)
        ax.plot(fpr, tpr, lw=1.2, label=f"{name} (AUC {auc(fpr, tpr):.4f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, alpha=0.5)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reconstructions(originals, reconstructions, path, title="reconstructions (test)"):
    """``originals``/``reconstructions`` (K, 1, 28, 28) in [0, 1]: two rows of K/2 inputs
    over the two rows of their reconstructions."""
    plt = _pyplot()
    k = len(originals)
    cols = (k + 1) // 2
    fig, axes = plt.subplots(4, cols, figsize=(cols * 1.0, 4.5), dpi=110)
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        row, col = divmod(i, cols)
        index = (row % 2) * cols + col
        if index >= k:
            continue
        image = (originals if row < 2 else reconstructions)[index, 0]
        ax.imshow(np.clip(image, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0)
    fig.suptitle(title + ": inputs (top two rows), reconstructions (bottom two)", fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.90, wspace=0.05, hspace=0.1)
    fig.savefig(path)
    plt.close(fig)


def plot_latent_space(codes, labels, class_names, path, title="2-D codes (test)"):
    """A scatter of ``codes`` (N, ≥2; the first two dimensions) coloured by label."""
    plt = _pyplot()
    codes, labels = np.asarray(codes), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=110)
    cmap = plt.get_cmap("tab10")
    for k, name in enumerate(class_names):
        chosen = labels == k
        ax.scatter(codes[chosen, 0], codes[chosen, 1], s=2, alpha=0.5, color=cmap(k % 10),
                   label=short_label(name))
    ax.set_xlabel("z₁")
    ax.set_ylabel("z₂")
    ax.set_title(title, fontsize=10)
    ax.legend(markerscale=5, fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_run_plots(out, history, step_losses, splits, report, config):
    """Every picture the run folder gets: the loss curve always; for image tasks also
    the predictions grid and the confusion matrix of ``report`` (from ``evaluate``)."""
    out = Path(out)
    plot_loss_curve(history, step_losses, out / "loss_curve.png",
                    title=f"{config['model']} on {config['dataset']}: loss")
    if config["task"] == "reconstruct":
        name = f"{config['model']} on {config['dataset']}"
        plot_reconstructions(report["originals"], report["reconstructions"],
                             out / "reconstructions.png", title=f"{name}: MSE "
                             f"{report['mse']:.4f}")
        if report["codes"].shape[1] >= 2:
            plot_latent_space(report["codes"], report["labels"], config["class_names"],
                              out / "latent_space.png", title=f"{name}: codes of the test set")
        return
    if config["task"] not in ("classify", "binary"):
        return
    images = splits.test.dataset.tensors[0][:25].numpy()[:, 0]
    labels = splits.test.dataset.tensors[1][:25].numpy().astype(np.int64).ravel()
    mean, std = splits.normalize_stats
    images = np.clip(images * std + mean, 0.0, 1.0)     # undo the normalisation for display
    plot_predictions_grid(images, labels, report["predictions"], config["class_names"],
                          out / "predictions_grid.png")
    plot_confusion_matrix(report["confusion_matrix"], config["class_names"],
                          out / "confusion_matrix.png")
