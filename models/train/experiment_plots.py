"""Plots of ``minigrad prune`` and ``minigrad attack`` (matplotlib, Agg backend)."""
from .plots import _pyplot

__all__ = ["plot_pruning", "plot_attack"]


def plot_pruning(result, path):
    """Test accuracy against sparsity, after pruning and after fine-tuning."""
    plt = _pyplot()
    rows = result["rows"]
    xs = [100 * r["sparsity"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, [r["accuracy"] for r in rows], "o-", label="pruned (no fine-tuning)")
    if "finetuned_accuracy" in rows[0]:
        ax.plot(xs, [r["finetuned_accuracy"] for r in rows], "s-",
                label=f"pruned + {result['finetune_steps']} fine-tuning steps")
    ax.set_xlabel("sparsity of Conv2d/Linear weights (%)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{result['model']} on {result['dataset']}: global L1 pruning")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_attack(result, examples, path, show=6):
    """Left: accuracy against ε per attack. Right: ``show`` test images, clean and
    attacked at each ε of the first method, titled with the prediction."""
    plt = _pyplot()
    methods = list(dict.fromkeys(r["method"] for r in result["rows"]))
    eps_values = list(dict.fromkeys(r["eps"] for r in result["rows"]))
    fig = plt.figure(figsize=(12, 1.6 * (len(eps_values) + 1) + 1))
    grid = fig.add_gridspec(len(eps_values) + 1, show + 4)
    ax = fig.add_subplot(grid[:, :3])
    for method in methods:
        rows = [r for r in result["rows"] if r["method"] == method]
        ax.plot([r["eps"] for r in rows], [r["accuracy"] for r in rows], "o-",
                label=method.upper())
    ax.set_xlabel("ε (pixel units, images in [0, 1])")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{result['model']} under attack")
    ax.grid(alpha=0.3)
    ax.legend()
    clean_x, clean_y = examples["clean"]
    method = methods[0]
    for row, eps in enumerate([None] + eps_values):
        if eps is None:
            images, labels = clean_x[:show], [f"label {y}" for y in clean_y[:show]]
        else:
            adv, pred = examples[(method, eps)]
            images, labels = adv[:show], [f"pred {p}" for p in pred[:show]]
        for col in range(show):
            a = fig.add_subplot(grid[row, 4 + col])
            a.imshow(images[col].reshape(28, 28), cmap="gray")
            wrong = eps is not None and labels[col] != f"pred {clean_y[col]}"
            a.set_title(labels[col], fontsize=8, color="red" if wrong else "black")
            a.set_xticks([])
            a.set_yticks([])
            if col == 0:
                a.set_ylabel("clean" if eps is None else f"{method} ε={eps:g}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
