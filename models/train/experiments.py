"""Model compression and security experiments on trained checkpoints: what
``minigrad prune | quantize | distill | attack | advtrain`` run (``experiments_cli``).

Each function takes a checkpoint (a run folder or ``.ckpt``) of a classifier, scores on
its data set's test split (``samples`` evenly spaced test images, default all), and
returns JSON-ready rows; the CLI prints them as a table and writes JSON and a plot.

* ``prune_sweep`` — global L1 unstructured pruning (``nn.utils.prune``) of every Conv2d
  and Linear weight at each sparsity, accuracy before and after ``finetune_steps`` steps
  of the run's own optimizer recipe (the masks keep pruned weights at zero);
* ``quantize_compare`` — float32 vs ``quantize_dynamic`` (Linear layers) vs static
  ``prepare``/calibrate/``convert`` (Conv2d and Linear): accuracy, checkpoint size and
  latency per batch;
* ``distill_compare`` — a student trained alone vs the same student, same seed and steps,
  trained on ``distillation_loss`` against the teacher checkpoint;
* ``attack_sweep`` — FGSM and PGD accuracy at each ε (``models.adversarial``);
* ``adversarial_training`` — the model trained normally vs with FGSM adversarial training
  (same seed, data and steps), clean/FGSM/PGD accuracy of each.
"""
import math
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ao.quantization import (convert, model_size_bytes, prepare, qint8,
                                      quantize_dynamic)
from minigrad.nn.utils import prune

from ..adversarial import adversarial_loss, fgsm, pgd
from ..distill import distillation_loss
from ..registry import get_spec
from .checkpointing import load_checkpoint, seed_everything
from .data import evenly_spaced, prepare_data
from .tasks import to_numpy
from .trainer import build_model, make_optimizer

__all__ = ["load_trained", "image_arrays", "accuracy", "fit_steps", "prune_sweep",
           "global_sparsity", "quantize_compare", "distill_compare", "attack_sweep",
           "adversarial_training", "input_range"]


def load_trained(checkpoint_path, expect_model=None):
    """``(spec, config, model)`` of a classifier checkpoint, the model in eval mode on CPU."""
    checkpoint = load_checkpoint(checkpoint_path)
    config = dict(checkpoint["config"], device="cpu")
    if expect_model is not None and config["model"] != expect_model:
        raise ValueError(f"the checkpoint is a {config['model']!r} run, not {expect_model!r}")
    if config["task"] != "classify":
        raise ValueError(f"{config['model']} is a {config['task']!r} model; these experiments "
                         "need an image classifier")
    spec = get_spec(config["model"])
    model = build_model(spec, config)
    model.load_state_dict(checkpoint["model"])
    model.eval()
    return spec, config, model


def image_arrays(config, samples=None, train=False, subset=None):
    """``(test_x, test_y)`` numpy arrays, normalised as the run was (``samples`` evenly
    spaced test images, None: all), and with ``train=True`` also ``(train_x, train_y)``
    (``subset`` random training images, seeded by the run's seed)."""
    cfg = dict(config, subset=subset, eval_samples=None, val_split=0.0,
               eval_batch_size=config.get("eval_batch_size", 256))
    splits = prepare_data(cfg, need_train=train)
    test_x, test_y = (t.numpy() for t in splits.test.dataset.tensors)
    keep = evenly_spaced(len(test_y), samples)
    test = (test_x[keep], test_y[keep])
    if not train:
        return test, None
    train_x, train_y = (t.numpy() for t in splits.train.dataset.tensors)
    return test, (train_x, train_y)


def input_range(config):
    """``(lo, hi, per_pixel)``: the range of a normalised input and one pixel unit in it."""
    mean, std = config.get("normalize_stats") or (0.0, 1.0)
    return (0.0 - mean) / std, (1.0 - mean) / std, 1.0 / std


def _batches(arrays, batch_size):
    n = len(arrays[0])
    for start in range(0, n, batch_size):
        yield [mg.from_numpy(np.ascontiguousarray(a[start:start + batch_size])) for a in arrays]


def accuracy(model, x, y, batch_size=500):
    """Share of ``x`` whose arg-max logit is ``y`` (eval mode, no gradients)."""
    was_training = model.training
    model.eval()
    correct = 0
    with mg.no_grad():
        for xb, yb in _batches((x, y), batch_size):
            correct += int((to_numpy(model(xb)).argmax(axis=1) == to_numpy(yb)).sum())
    model.train(was_training)
    return correct / len(y)


def fit_steps(model, optimizer, arrays, steps, batch_size, loss_fn, seed):
    """``steps`` optimizer steps over seeded shuffled batches of ``arrays`` (epochs wrap);
    ``loss_fn(model, *batch)`` returns the loss tensor. Returns the mean loss."""
    rng = np.random.default_rng([seed, 3])
    n, order, position, total = len(arrays[0]), None, 0, 0.0
    model.train()
    for _ in range(steps):
        if order is None or position + batch_size > n:
            order, position = rng.permutation(n), 0
        idx = order[position:position + batch_size]
        position += batch_size
        batch = [mg.from_numpy(np.ascontiguousarray(a[idx])) for a in arrays]
        loss = loss_fn(model, *batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.item())
    model.eval()
    return total / max(steps, 1)


def _cross_entropy(model, x, y):
    return F.cross_entropy(model(x), y)


def _prunable(model):
    return [(m, "weight") for m in model.modules() if isinstance(m, (mg.nn.Linear, mg.nn.Conv2d))]


def global_sparsity(model):
    """Share of exactly-zero entries over all Conv2d/Linear weights."""
    zeros = total = 0
    for module, name in _prunable(model):
        w = to_numpy(getattr(module, name))
        zeros, total = zeros + int((w == 0).sum()), total + w.size
    return zeros / total


def prune_sweep(checkpoint, sparsities, finetune_steps=300, samples=None, subset=None,
                log=print):
    """Rows ``{sparsity, measured_sparsity, accuracy, finetuned_accuracy}`` for global L1
    pruning at each sparsity (fresh copy of the checkpoint each time)."""
    spec, config, _ = load_trained(checkpoint)
    (test_x, test_y), train = image_arrays(config, samples, train=finetune_steps > 0,
                                           subset=subset)
    rows = []
    for sparsity in sparsities:
        _, _, model = load_trained(checkpoint)
        start = time.perf_counter()
        if sparsity > 0:
            prune.global_unstructured(_prunable(model), prune.L1Unstructured, amount=sparsity)
        row = {"sparsity": sparsity, "accuracy": accuracy(model, test_x, test_y)}
        if finetune_steps:
            seed_everything(config["seed"])
            optimizer = make_optimizer(config, model)
            fit_steps(model, optimizer, train, finetune_steps, config["batch_size"],
                      _cross_entropy, config["seed"])
            row["finetuned_accuracy"] = accuracy(model, test_x, test_y)
        if prune.is_pruned(model):
            for module, name in _prunable(model):
                prune.remove(module, name)
        row["measured_sparsity"] = global_sparsity(model)
        row["seconds"] = time.perf_counter() - start
        log(_row_line(row))
        rows.append(row)
    return {"model": config["model"], "dataset": config["dataset"], "method":
            "global L1 unstructured over every Conv2d/Linear weight", "finetune_steps":
            finetune_steps, "optimizer": f"{config['optimizer']} lr {config['lr']}",
            "test_samples": len(test_y), "rows": rows}


def _row_line(row):
    return "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in row.items())


def _median_latency_ms(model, x, repeats):
    times = []
    with mg.no_grad():
        model(x)                                     # warm-up (numba compiles once)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def quantize_compare(checkpoint, samples=None, calibration=512, batch_sizes=(1, 256),
                     repeats=20, log=print):
    """Rows ``{variant, accuracy, size_bytes, latency_ms@B…}`` for float32, dynamic int8
    and static int8 (calibrated on ``calibration`` training images)."""
    _, config, model = load_trained(checkpoint)
    (test_x, test_y), (train_x, _) = image_arrays(config, samples, train=True)
    calib = train_x[evenly_spaced(len(train_x), calibration)]
    prepared = prepare(model)
    with mg.no_grad():
        for (xb,) in _batches((calib,), 256):
            prepared(xb)
    variants = {"float32": model,
                "int8 dynamic (Linear)": quantize_dynamic(model, {mg.nn.Linear}, dtype=qint8),
                "int8 static (Conv2d+Linear)": convert(prepared)}
    rows = []
    for name, net in variants.items():
        row = {"variant": name, "accuracy": accuracy(net, test_x, test_y),
               "size_bytes": model_size_bytes(net)}
        for b in batch_sizes:
            row[f"latency_ms_batch{b}"] = _median_latency_ms(
                net, mg.from_numpy(np.ascontiguousarray(test_x[:b])), repeats)
        log(_row_line(row))
        rows.append(row)
    return {"model": config["model"], "dataset": config["dataset"], "test_samples": len(test_y),
            "calibration_images": len(calib), "threads": mg.get_num_threads(), "rows": rows}


def distill_compare(teacher_checkpoint, student="mlp", student_args=None, temperature=4.0,
                    alpha=0.9, steps=1000, lr=1e-3, batch_size=64, subset=None, samples=None,
                    seed=0, log=print):
    """The student trained alone (cross-entropy) and distilled from the teacher, same seed,
    data, Adam lr and steps. Rows ``{student, loss, accuracy}`` plus the teacher's."""
    _, config, teacher = load_trained(teacher_checkpoint)
    (test_x, test_y), (train_x, train_y) = image_arrays(config, samples, train=True,
                                                        subset=subset)
    logits = []
    with mg.no_grad():
        for (xb,) in _batches((train_x,), 500):
            logits.append(to_numpy(teacher(xb)))
    teacher_logits = np.concatenate(logits)
    spec = get_spec(student)
    rows = [{"student": f"teacher ({config['model']})",
             "parameters": sum(p.numel() for p in teacher.parameters()),
             "accuracy": accuracy(teacher, test_x, test_y)}]

    def distilled(model, x, y, t):
        return distillation_loss(model(x), t, y, temperature, alpha)

    for label, loss_fn, arrays in (
            ("alone (cross-entropy)", lambda m, x, y: F.cross_entropy(m(x), y),
             (train_x, train_y)),
            (f"distilled (T={temperature:g}, alpha={alpha:g})", distilled,
             (train_x, train_y, teacher_logits))):
        seed_everything(seed)
        model = spec.build(**(student_args or {}))
        optimizer = mg.optim.Adam(model.parameters(), lr=lr)
        start = time.perf_counter()
        fit_steps(model, optimizer, arrays, steps, batch_size, loss_fn, seed)
        row = {"student": label,
               "parameters": sum(p.numel() for p in model.parameters()),
               "accuracy": accuracy(model, test_x, test_y),
               "seconds": time.perf_counter() - start}
        log(_row_line(row))
        rows.append(row)
    return {"teacher": config["model"], "student": student, "student_args": student_args or {},
            "dataset": config["dataset"], "temperature": temperature, "alpha": alpha,
            "steps": steps, "batch_size": batch_size, "lr": lr, "train_samples": len(train_y),
            "test_samples": len(test_y), "rows": rows}


def _attack_accuracy(model, x, y, method, eps, config, pgd_steps, batch_size=250):
    lo, hi, unit = input_range(config)
    correct, examples = 0, None
    mg.manual_seed(0)
    for xb, yb in _batches((x, y), batch_size):
        if eps == 0:
            adv = xb
        elif method == "fgsm":
            adv = fgsm(model, xb, yb, eps * unit, lo, hi)
        else:
            adv = pgd(model, xb, yb, eps * unit, steps=pgd_steps, clip_min=lo, clip_max=hi)
        with mg.no_grad():
            pred = to_numpy(model(adv)).argmax(axis=1)
        correct += int((pred == to_numpy(yb)).sum())
        if examples is None:
            examples = (to_numpy(adv), pred)
    return correct / len(y), examples


def attack_sweep(checkpoint, eps_values, methods=("fgsm", "pgd"), pgd_steps=10, samples=1000,
                 log=print, model=None, config=None):
    """Rows ``{method, eps, accuracy}`` (ε in pixel units of [0, 1] images) and, per
    method, the adversarial images of the first batch at each ε (for the plot)."""
    if model is None:
        _, config, model = load_trained(checkpoint)
    (test_x, test_y), _ = image_arrays(config, samples)
    rows, examples = [], {"clean": (test_x, test_y)}
    for method in methods:
        for eps in eps_values:
            acc, ex = _attack_accuracy(model, test_x, test_y, method, eps, config, pgd_steps)
            rows.append({"method": method, "eps": eps, "accuracy": acc})
            examples[(method, eps)] = ex
            log(_row_line(rows[-1]))
    return {"model": config["model"], "dataset": config["dataset"], "test_samples": len(test_y),
            "pgd_steps": pgd_steps, "rows": rows}, examples


def adversarial_training(model_name, dataset=None, eps=0.1, steps=600, subset=None,
                         samples=1000, eval_eps=(0.1,), pgd_steps=10, seed=0, log=print):
    """Train ``model_name`` twice from the same seed for ``steps`` steps of its recipe's
    optimizer: normally, and with FGSM adversarial training at ``eps`` (pixels). Rows
    ``{training, clean, fgsm@ε, pgd@ε}``."""
    spec = get_spec(model_name)
    config = {"model": model_name, "task": spec.task, "dataset": dataset or spec.datasets[0],
              "seed": seed, "device": "cpu", "model_args": {}, "val_split": 0.0,
              "eval_batch_size": 256}
    for key in ("optimizer", "lr", "momentum", "nesterov", "betas", "weight_decay",
                "batch_size", "normalize"):
        config[key] = spec.recipe.get(key)
    config["normalize"] = config["normalize"] or "unit"
    (test_x, test_y), train = image_arrays(config, samples, train=True, subset=subset)
    config["normalize_stats"] = prepare_data(dict(config, subset=1), need_train=False) \
        .normalize_stats
    lo, hi, unit = input_range(config)
    rows = []
    for label in ("standard", f"FGSM adversarial (eps={eps:g})"):
        seed_everything(seed)
        model = build_model(spec, config)
        optimizer = make_optimizer(config, model)
        if label == "standard":
            loss_fn = _cross_entropy
        else:
            def loss_fn(m, x, y):
                return adversarial_loss(m, x, y, eps * unit, lo, hi)
        start = time.perf_counter()
        fit_steps(model, optimizer, train, steps, config["batch_size"], loss_fn, seed)
        row = {"training": label, "clean": accuracy(model, test_x, test_y)}
        for e in eval_eps:
            for method in ("fgsm", "pgd"):
                row[f"{method}@{e:g}"] = _attack_accuracy(model, test_x, test_y, method, e,
                                                          config, pgd_steps)[0]
        row["seconds"] = time.perf_counter() - start
        log(_row_line(row))
        rows.append(row)
    return {"model": model_name, "dataset": config["dataset"], "steps": steps,
            "batch_size": config["batch_size"], "optimizer": f"{config['optimizer']} lr "
            f"{config['lr']}", "train_samples": len(train[1]), "test_samples": len(test_y),
            "pgd_steps": pgd_steps, "rows": rows}


def format_table(rows):
    """A Markdown table of ``rows`` (floats to 4 places; ``*_bytes`` in kB)."""
    keys = list(dict.fromkeys(k for row in rows for k in row))

    def cell(key, value):
        if value is None:
            return ""
        if key.endswith("_bytes"):
            return f"{value / 1000:.1f} kB"
        if isinstance(value, float):
            return f"{value:.4f}" if math.isfinite(value) else str(value)
        return str(value)

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(k, row.get(k)) for k in keys) + " |" for row in rows]
    return "\n".join(lines)

