"""Transfer learning: fine-tune a trained image classifier on new classes, with frozen layers.

    minigrad train cnn --classes 0-4 --out runs/cnn-0to4            # pretrain on digits 0–4
    minigrad finetune cnn --checkpoint runs/cnn-0to4 --classes 5-9  # new head on digits 5–9
                     [--freeze features|all-but-head|none] [--scratch] [--subset N]
                     [--epochs E] [--lr LR] [--batch-size B] [--seed S] [--output JSON]

The checkpoint's model gets a new head: its last ``nn.Linear`` is replaced by a freshly
initialised one with one output per new class (labels renumbered 0..k−1 in the order
given). Then, PyTorch's way, frozen parameters get ``requires_grad_(False)`` — ``features``
(default) freezes the module of that name (the CNN's convolution stack), ``all-but-head``
every parameter except the new head's, ``none`` nothing — and the optimizer (Adam) is
given only the parameters that still require grad. Frozen parameters then get no
gradient at all (backward does not reach them), so they cannot move, whatever the
optimizer. ``--scratch`` is the baseline with the same budget: the same architecture
from random initialisation, every parameter trained, the checkpoint's weights unused.

Data: the checkpoint's data set and normalisation, keeping only ``--classes``;
``--subset N`` labelled training samples (fine-tuning is the few-label regime), test on
every test image of those classes.
"""
import json
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

from .checkpointing import load_checkpoint, seed_everything
from .data import prepare_data
from .trainer import build_model

__all__ = ["replace_head", "freeze", "trainable_parameters", "finetune"]

FREEZE_CHOICES = ("features", "all-but-head", "none")


def replace_head(model, num_classes):
    """Swap the model's last ``nn.Linear`` for a new ``Linear(in_features, num_classes)``
    (same bias setting, on the same device); returns ``(name, new head)``."""
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear to replace as its head")
    name, old = linears[-1]
    head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    head = head.to(old.weight.device)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, head)
    return name, head


def freeze(model, mode, head):
    """``requires_grad_(False)`` per ``mode`` (see the module docstring); returns the names
    of the frozen parameters."""
    if mode not in FREEZE_CHOICES:
        raise ValueError(f"freeze must be one of {', '.join(FREEZE_CHOICES)}, got {mode!r}")
    if mode == "features":
        features = getattr(model, "features", None)
        if not isinstance(features, nn.Module):
            raise ValueError(f"{type(model).__name__} has no 'features' module; use --freeze "
                             "all-but-head")
        features.requires_grad_(False)
    elif mode == "all-but-head":
        model.requires_grad_(False)
        head.requires_grad_(True)
    return [name for name, p in model.named_parameters() if not p.requires_grad]


def trainable_parameters(model):
    """The parameters an optimizer should get: those that still require grad."""
    return [p for p in model.parameters() if p.requires_grad]


def _relabel(classes):
    table = np.full(10, -1, dtype=np.int64)
    table[np.asarray(classes)] = np.arange(len(classes))
    return table


def _accuracy(model, loader, table, device):
    model.eval()
    correct = total = 0
    with mg.no_grad():
        for x, y in loader:
            target = table[y.numpy()]
            prediction = model(x.to(device)).argmax(dim=1).cpu().numpy()
            correct += int((prediction == target).sum())
            total += len(target)
    return correct / max(total, 1)


def finetune(spec, checkpoint_path, classes, freeze_mode="features", scratch=False,
             subset=None, epochs=3, lr=1e-3, batch_size=64, seed=0, device="cpu", log=print):
    """Run one fine-tuning (or ``scratch``) experiment; returns a JSON-ready result."""
    checkpoint = load_checkpoint(checkpoint_path)
    config = dict(checkpoint["config"])
    if config["task"] != "classify":
        raise ValueError(f"finetune needs an image classifier checkpoint, got a "
                         f"{config['task']!r} model")
    if config["model"] != spec.name:
        raise ValueError(f"--checkpoint is a {config['model']!r} checkpoint, not {spec.name!r}")
    pretrained_on = config.get("classes")
    overlap = sorted(set(classes) & set(pretrained_on or range(10)))
    config.update(classes=list(classes), subset=subset, val_split=0.0, seed=seed,
                  batch_size=batch_size, eval_batch_size=max(256, batch_size), device=device,
                  augment=False, eval_samples=None)
    seed_everything(seed)
    model = build_model(spec, config)
    if not scratch:
        model.load_state_dict(checkpoint["model"])
    head_name, head = replace_head(model, len(classes))
    frozen = freeze(model, "none" if scratch else freeze_mode, head)
    params = trainable_parameters(model)
    optimizer = mg.optim.Adam(params, lr=lr)
    splits = prepare_data(config)
    table = _relabel(classes)
    mode = "scratch" if scratch else f"pretrained, frozen {freeze_mode}"
    log(f"{spec.name} {mode}: {splits.sizes['train']} training samples of classes {classes} "
        f"(pretrained on {pretrained_on or 'all'}; shared classes {overlap or 'none'}), "
        f"{sum(p.numel() for p in params):,} trainable / "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, new head {head_name}")
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        losses = []
        for x, y in splits.train:
            target = mg.tensor(table[y.numpy()]).to(device)
            loss = F.cross_entropy(model(x.to(device)), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.item()))
        log(f"epoch {epoch + 1}/{epochs}: train loss {np.mean(losses):.4f}")
    seconds = time.perf_counter() - start
    accuracy = _accuracy(model, splits.test, table, device)
    log(f"test accuracy on classes {classes}: {accuracy:.4f} ({splits.sizes['test']} images, "
        f"{seconds:.1f} s training)")
    return {"model": spec.name, "dataset": config["dataset"], "mode": mode,
            "classes": list(classes), "pretrained_classes": pretrained_on,
            "train_samples": splits.sizes["train"], "epochs": epochs, "lr": lr,
            "trainable_parameters": int(sum(p.numel() for p in params)),
            "frozen_parameters": frozen, "test_accuracy": accuracy,
            "test_samples": splits.sizes["test"], "seconds": seconds}


def write_result(result, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
