"""The training loop: one run from a configuration to a run folder.

``run_training`` builds the data, model, optimizer and schedule from a resolved
configuration (``make_optimizer``, ``make_scheduler``, ``build_model``) and hands them to a
``Trainer``, whose ``fit`` runs the epochs and whose ``finish`` scores the test split and
writes the plots. What the run leaves on disk (the run folder, the checkpoint format,
bit-exact resume, Ctrl-C safety) is described and implemented in ``checkpointing.py``
beside this module; ``cli.py`` resolves the configuration from the command line.

Mixed precision (``config["amp"]``: None, "bf16" or "fp16"): the training forward pass and
loss run under ``minigrad.autocast(device, dtype)``; fp16 adds a ``GradScaler`` (scaled
backward, unscale_ before clipping, inf/NaN steps skipped). Evaluation runs in float32.
Gradient accumulation (``config["accumulate"]`` = N): one optimizer step per N loader
batches, each micro-batch loss divided by the number of micro-batches in the step, so the
gradient is that of one batch N times larger (for models without batch statistics).

Distributed (``mpirun -n N minigrad train ... --distributed``, docs/distributed.md): every
rank draws the same global batches (same seed), takes its contiguous share of each and
trains a ``DistributedDataParallel`` replica; each rank's loss is weighted by its share of
the global batch, so the averaged gradient is the global batch's mean gradient even when
the batch does not split evenly. Only rank 0 prints, validates, tests and writes the run
folder; its checkpoints resume on any world size (``checkpointing.py``).

Ctrl-C: each optimizer step runs inside ``interrupts_deferred``; ``fit`` turns the
KeyboardInterrupt that follows into a ``last.ckpt`` and ``TrainingInterrupted``.
"""
import contextlib
import math
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad import distributed as dist
from minigrad.nn.parallel import DistributedDataParallel

from .checkpointing import (CHECKPOINT_FORMAT, TrainingInterrupted, _rng_state, _set_rng_state,
                            _write_json, interrupts_deferred, seed_everything)
from .data import prepare_data
from .metrics import RunningAverage, format_report
from .tasks import TEXT_TASKS, batch_loss, evaluate, text_samples

__all__ = ["Trainer", "make_optimizer", "make_scheduler", "build_model", "run_training"]

#: Report entries that are arrays for the pictures, not metrics (kept out of metrics.json).
_ARRAYS_NOT_IN_METRICS = ("predictions", "scores", "codes", "labels", "originals",
                          "reconstructions")


def make_optimizer(config, model):
    """The optimizer named by ``config["optimizer"]`` with the config's ``lr``,
    ``momentum`` and ``nesterov`` (SGD, RMSprop), ``betas`` (Adam, AdamW) and
    ``weight_decay``. AdamW uses the model's own ``configure_optimizers`` where it has
    one (GPT: decay on matrices only, nanoGPT's rule)."""
    name, lr = config["optimizer"], config["lr"]
    decay = config.get("weight_decay") or 0.0
    momentum = config.get("momentum") or 0.0
    betas = tuple(config["betas"]) if config.get("betas") else (0.9, 0.999)
    params = list(model.parameters())
    if name == "sgd":
        return mg.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=decay,
                            nesterov=bool(config.get("nesterov")))
    if name == "adam":
        return mg.optim.Adam(params, lr=lr, betas=betas, weight_decay=decay)
    if name == "adamw":
        decay = 0.01 if config.get("weight_decay") is None else config["weight_decay"]
        if hasattr(model, "configure_optimizers"):
            return model.configure_optimizers(weight_decay=decay, learning_rate=lr, betas=betas)
        return mg.optim.AdamW(params, lr=lr, betas=betas, weight_decay=decay)
    if name == "rmsprop":
        return mg.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=decay)
    raise ValueError(f"unknown optimizer {name!r} (choose from sgd, adam, adamw, rmsprop)")


def make_scheduler(config, optimizer, steps_per_epoch):
    """The recipe's ``schedule``: None, or "cosine" — cosine annealing from ``lr`` to 0
    over every step of the run (``epochs × steps_per_epoch``), stepped after each
    optimizer step."""
    schedule = config.get("schedule")
    if not schedule:
        return None
    if schedule == "cosine":
        total = max(config["epochs"] * steps_per_epoch, 1)
        return mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    raise ValueError(f"unknown schedule {schedule!r} (known: cosine)")


def build_model(spec, config):
    """``spec.build(**model_args)``; text models also get ``vocab_size``."""
    overrides = dict(config.get("model_args") or {})
    if config["task"] in TEXT_TASKS:
        overrides.setdefault("vocab_size", config["num_classes"])
    if config["task"] == "seq2seq":
        overrides.setdefault("pad_idx", config["special_tokens"]["pad"])
    try:
        model = spec.build(**overrides)
    except (TypeError, ValueError, RuntimeError) as e:
        given = config.get("model_args") or {}
        if not given:
            raise
        options = " ".join(f"--model-arg {k}={v}" for k, v in given.items())
        raise ValueError(f"{options}: {spec.name} cannot be built with these arguments "
                         f"({type(e).__name__}: {e})") from None
    return model.to(config["device"])


class Trainer:
    """Trains ``model`` on ``splits`` per ``config`` and keeps the run folder up to date.

    ``callbacks``: callables ``cb(event, trainer)`` with event ``"step"`` (after each
    whole optimizer step) or ``"epoch"`` (after each epoch's checkpoint). ``log``:
    where the per-epoch lines go. ``progress``: show the tqdm bar (None: when stderr
    is a terminal)."""

    def __init__(self, config, model, optimizer, splits, scheduler=None, callbacks=(),
                 log=print, progress=None):
        self.config, self.model, self.optimizer, self.splits = config, model, optimizer, splits
        self.scheduler = scheduler
        self.callbacks, self.log, self.progress = list(callbacks), log, progress
        self.out = Path(config["out"])
        self.epoch = 0              # epochs completed
        self.step = 0               # optimizer steps taken
        self.history = []           # one record per completed epoch
        self.step_losses = []       # training loss of every step (the loss curve)
        self.running = RunningAverage()
        self._boundary_rng = _rng_state()   # generator states after the last whole step
        self.pad_id = (config.get("special_tokens") or {}).get("pad")
        amp = config.get("amp")
        self.device_type = mg.device(config["device"]).type
        self.amp_dtype = {"bf16": mg.bfloat16, "fp16": mg.float16, None: None}[amp]
        self.scaler = mg.amp.GradScaler(self.device_type, enabled=amp == "fp16")
        self.rank, self.world = ((dist.get_rank(), dist.get_world_size())
                                 if dist.is_initialized() else (0, 1))
        self.writes = self.rank == 0         # rank 0 alone owns the run folder and the log
        self.replica = DistributedDataParallel(model) if dist.is_initialized() else model

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self):
        return {"format": CHECKPOINT_FORMAT, "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "epoch": self.epoch,
                "step": self.step,
                "rng": dict(self._boundary_rng, sampler=self.splits.sampler.state_dict()),
                "running": self.running.state_dict(),
                "step_losses": np.asarray(self.step_losses, dtype=np.float64),
                "history": self.history, "config": self.config,
                "scaler": self.scaler.state_dict()}

    def load_state_dict(self, checkpoint):
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint.get("scheduler") is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.epoch, self.step = checkpoint["epoch"], checkpoint["step"]
        self.history = list(checkpoint["history"])
        self.step_losses = [float(v) for v in checkpoint["step_losses"]]
        self.running.load_state_dict(checkpoint["running"])
        if checkpoint.get("scaler"):
            self.scaler.load_state_dict(checkpoint["scaler"])
        self.splits.sampler.load_state_dict(checkpoint["rng"]["sampler"])
        self._boundary_rng = {k: checkpoint["rng"][k] for k in ("minigrad", "numpy")}
        _set_rng_state(self._boundary_rng)

    def save_checkpoint(self, name):
        """Write ``checkpoints/<name>`` and point ``last.ckpt`` at it (a hard link where
        the file system allows, else a second write); returns the path."""
        folder = self.out / "checkpoints"
        path = folder / name
        if not self.writes:
            return path
        folder.mkdir(parents=True, exist_ok=True)
        mg.save(self.state_dict(), path)
        if name != "last.ckpt":
            last, tmp = folder / "last.ckpt", folder / ".last.ckpt.link"
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            try:
                os.link(path, tmp)
                os.replace(tmp, last)
            except OSError:
                mg.save(self.state_dict(), last)
        return path

    def write_metrics(self, test=None):
        if not self.writes:
            return
        record = {"model": self.config["model"], "dataset": self.config["dataset"],
                  "epochs_completed": self.epoch, "steps": self.step, "history": self.history}
        if test is not None:
            record["test"] = {k: v for k, v in test.items() if k not in _ARRAYS_NOT_IN_METRICS}
        _write_json(self.out / "metrics.json", record)

    # ------------------------------------------------------------------ the loop
    def _notify(self, event):
        for callback in self.callbacks:
            callback(event, self)

    def _train_step(self, batches):
        """Forward and backward of each micro-batch in ``batches`` (one, or ``accumulate``),
        then one whole update; returns the sample count. Under ``--distributed`` each rank
        takes its share of every micro-batch, and gradients are all-reduced on the last one
        only (``no_sync`` before). The update and its bookkeeping run with SIGINT deferred
        (see the module doc)."""
        self.optimizer.zero_grad()
        loss_value, correct_sum, counted_sum, samples = 0.0, 0, 0, 0
        for index, batch in enumerate(batches):
            size = len(batch[0])
            share = slice(self.rank * size // self.world, (self.rank + 1) * size // self.world)
            batch = [t[share].to(self.config["device"]) for t in batch]
            with mg.autocast(self.device_type, dtype=self.amp_dtype,
                             enabled=self.amp_dtype is not None):
                loss, correct, counted = batch_loss(self.replica, self.config["task"], batch,
                                                    self.pad_id)
            part = loss / len(batches) if len(batches) > 1 else loss
            last = index == len(batches) - 1
            if self.world > 1:
                # DDP averages over ranks: weight each rank's mean by its share of the batch
                weight = self.world * len(batch[0]) / size
                with contextlib.nullcontext() if last else self.replica.no_sync():
                    self.scaler.scale(part * weight).backward()
                value, correct, counted = self._global_metrics(part, correct, counted,
                                                               len(batch[0]) / size)
            else:
                self.scaler.scale(part).backward()
                value = float(part.item())
            loss_value += value
            correct_sum, counted_sum = correct_sum + correct, counted_sum + counted
            samples += size
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"the training loss became {loss_value} at step "
                                     f"{self.step + 1}; try a smaller --lr")
        with interrupts_deferred():
            if self.config.get("grad_clip"):
                self.scaler.unscale_(self.optimizer)
                mg.nn.utils.clip_grad_norm_(self.model.parameters(), self.config["grad_clip"])
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self._check_parameters_finite()
            if self.scheduler is not None:
                self.scheduler.step()
            self.step += 1
            self.splits.sampler.consumed += samples
            self.running.update(loss_value, correct_sum, counted_sum)
            self.step_losses.append(loss_value)
            self._boundary_rng = _rng_state()
        return samples

    def _global_metrics(self, loss, correct, counted, share):
        """The whole batch's loss, correct and counted (each rank has its share)."""
        totals = mg.tensor([float(loss.item()) * share, float(correct), float(counted)],
                           dtype=mg.float64)
        dist.all_reduce(totals)
        loss_value, correct, counted = totals.tolist()
        return loss_value, int(round(correct)), int(round(counted))

    def _check_parameters_finite(self):
        """A finite loss can still leave NaN weights (``--momentum`` huge, an overflowing
        update): stop at the step that made them, so no NaN model is ever saved. One
        reduction per parameter on its device and a single read back to the host per step
        (on a GPU every read is a synchronisation); parameters are named only on failure."""
        named = list(self.model.named_parameters())
        if not named:
            return
        xp = named[0][1].xp
        flags = [param.xp.isfinite(param.array).all() for _, param in named]
        if all(param.xp is xp for _, param in named) and bool(xp.stack(flags).all()):
            return
        for (name, param), flag in zip(named, flags):
            if not bool(flag):
                raise FloatingPointError(f"parameter {name} became non-finite at step "
                                         f"{self.step + 1}; try a smaller --lr")

    def _train_epoch(self):
        """One pass over the (rest of the) training split; returns (samples, seconds)."""
        sampler, batch_size = self.splits.sampler, self.config["batch_size"]
        total = math.ceil(sampler.size / batch_size)
        bar = tqdm(total=total, initial=min(sampler.consumed // batch_size, total),
                   desc=f"epoch {self.epoch + 1}/{self.config['epochs']}", unit="batch",
                   disable=(True if not self.writes else
                            None if self.progress is None else not self.progress),
                   dynamic_ncols=True, leave=False)
        self.model.train()
        start, seen = time.perf_counter(), 0
        accumulate, pending = self.config.get("accumulate") or 1, []

        def step(batches):
            nonlocal seen
            seen += self._train_step(batches)
            rate = seen / max(time.perf_counter() - start, 1e-9)
            bar.update(len(batches))
            bar.set_postfix(loss=f"{self.running.loss:.4f}", acc=f"{self.running.accuracy:.4f}",
                            samples_per_s=f"{rate:.0f}", refresh=False)
            self._notify("step")
        try:
            for batch in self.splits.train:
                pending.append(batch)
                if len(pending) == accumulate:
                    step(pending)
                    pending = []
            if pending:         # the epoch's last, shorter accumulation
                step(pending)
        finally:
            bar.close()   # also on Ctrl-C, so the message starts on a clean line
        return seen, time.perf_counter() - start

    def _validate(self):
        if self.splits.val is None or not self.writes:
            return None
        return evaluate(self.model, self.config["task"], self.splits.val, self.config["device"],
                        self.config["num_classes"], self.config.get("class_names"), self.pad_id)

    def fit(self):
        """Train until ``config["epochs"]`` epochs are complete; returns the history.
        KeyboardInterrupt → checkpoint, then ``TrainingInterrupted``."""
        try:
            while self.epoch < self.config["epochs"]:
                seen, seconds = self._train_epoch()
                val = self._validate()
                record = {"epoch": self.epoch + 1, "step": self.step,
                          "train_loss": self.running.loss, "train_accuracy": self.running.accuracy,
                          "val_loss": val["loss"] if val else None,
                          "val_accuracy": val.get("accuracy") if val else None,
                          "lr": self.optimizer.param_groups[0]["lr"],
                          "seconds": seconds, "samples_per_s": seen / max(seconds, 1e-9)}
                with interrupts_deferred():
                    self.history.append(record)
                    self.epoch += 1
                    self.splits.sampler.end_epoch()
                    self.running = RunningAverage()
                self.save_checkpoint(f"epoch-{self.epoch:03d}.ckpt")
                self.write_metrics()
                if self.writes:
                    self.log(self._epoch_line(record))
                self._notify("epoch")
        except KeyboardInterrupt:
            path = self.save_checkpoint("last.ckpt")
            self.write_metrics()
            raise TrainingInterrupted(path, self.epoch, self.step) from None
        return self.history

    def _epoch_line(self, r):
        scored = self.config["task"] != "reconstruct"   # an autoencoder has no accuracy
        line = f"epoch {r['epoch']}/{self.config['epochs']}: train loss {r['train_loss']:.4f}"
        line += f" acc {r['train_accuracy']:.4f}" if scored else ""
        if r["val_loss"] is not None:
            line += f" | val loss {r['val_loss']:.4f}"
            line += f" acc {r['val_accuracy']:.4f}" if scored else ""
        return line + f" | {r['samples_per_s']:.0f} samples/s, {r['seconds']:.1f} s"

    def finish(self):
        """Score the test split, write metrics.json and the plots; returns the report
        (None on ranks other than 0, which write nothing)."""
        if not self.writes:
            return None
        task = self.config["task"]
        keep = 25 if task in ("classify", "binary") else 16 if task == "reconstruct" else 0
        report = evaluate(self.model, task, self.splits.test, self.config["device"],
                          self.config["num_classes"], self.config.get("class_names"),
                          self.pad_id, keep=keep)
        self.write_metrics(report)
        from . import plots
        plots.write_run_plots(self.out, self.history, self.step_losses, self.splits, report,
                              self.config)
        if task in TEXT_TASKS:
            (self.out / "samples.txt").write_text(text_samples(self.model, self.config,
                                                               self.splits))
        return report


def _silent(*args, **kwargs):
    """The log of a rank other than 0."""


def run_training(config, spec, checkpoint=None, callbacks=(), log=print, progress=None):
    """Train per a resolved ``config`` (see ``cli.resolve_train_config``), continuing from
    ``checkpoint`` (a dict from ``load_checkpoint``) if given. Returns
    ``(trainer, test_report)``; prints per-epoch lines, the test metrics and
    ``test accuracy: 0.9812`` through ``log``."""
    if dist.is_initialized() and dist.get_rank() != 0:
        log = _silent                       # only rank 0 speaks (see the module docstring)
    seed_everything(config["seed"])
    splits = prepare_data(config)
    config.update(num_classes=splits.num_classes, class_names=splits.class_names,
                  vocab=splits.vocab, special_tokens=splits.special_tokens,
                  normalize_stats=splits.normalize_stats, sizes=splits.sizes)
    model = build_model(spec, config)
    optimizer = make_optimizer(config, model)
    scheduler = make_scheduler(config, optimizer,
                               math.ceil(len(splits.train) / (config.get("accumulate") or 1)))
    trainer = Trainer(config, model, optimizer, splits, scheduler, callbacks, log, progress)
    if checkpoint is not None:
        trainer.load_state_dict(checkpoint)
    if trainer.writes:
        trainer.out.mkdir(parents=True, exist_ok=True)
        _write_json(trainer.out / "config.json", config)
    sizes = splits.sizes
    log(f"{config['model']} on {config['dataset']}: {sizes['train']} train / {sizes['val']} val / "
        f"{sizes['test']} test, {sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{config['optimizer']} lr {config['lr']}, batch {config['batch_size']}, "
        f"device {config['device']}, run folder {trainer.out}")
    if checkpoint is not None and trainer.epoch >= config["epochs"]:
        log(f"the checkpoint has completed all {config['epochs']} epochs (step {trainer.step}); "
            "scoring it (pass a larger --epochs to train further)")
    elif checkpoint is not None:
        log(f"resuming at step {trainer.step}: epoch {trainer.epoch + 1}, "
            f"{splits.sampler.consumed} of its {splits.sampler.size} samples done")
    if trainer.world > 1:
        log(f"distributed: {trainer.world} ranks ({dist.get_backend()}), each "
            f"{config['batch_size'] // trainer.world}-{-(-config['batch_size'] // trainer.world)}"
            f" samples of every batch of {config['batch_size']}")
    trainer.fit()
    report = trainer.finish()
    if report is None:
        return trainer, None
    log("test metrics:")
    for line in format_report(report):
        log("  " + line)
    if config["task"] == "reconstruct":
        log(f"test reconstruction MSE: {report['mse']:.5f}")
    else:
        log(f"test accuracy: {report['accuracy']:.4f}")
    return trainer, report
