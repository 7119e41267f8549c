"""What a training run leaves on disk so that it can stop and go on: the run folder, the
checkpoint format and its reader, the random generators' state, and Ctrl-C safety.
``trainer.py`` beside it holds the loop (``Trainer`` writes these checkpoints through its
``state_dict``/``save_checkpoint``) and ``run_training``.

A run folder holds::

    config.json                 the resolved configuration (recipe + flags + data facts)
    metrics.json                per-epoch history, then the final test metrics
    checkpoints/epoch-001.ckpt  one per epoch, and last.ckpt (the newest, or the one an
                                interrupt wrote)
    loss_curve.png  predictions_grid.png  confusion_matrix.png   (see plots.py; the
                                last two for image tasks)
    samples.txt                 text tasks: what the model writes (see tasks.text_samples)

A checkpoint (``minigrad.save``, no pickle) is everything the run needs to go on::

    {"format", "model": state_dict, "optimizer": state_dict, "epoch": epochs completed,
     "step": optimizer steps, "rng": {"minigrad", "numpy", "sampler"}, "running": this
     epoch's loss/accuracy sums, "step_losses", "history", "config", "scaler": the
     GradScaler's state_dict (empty unless --amp fp16)}

Resuming is bit-exact: the model and optimizer tensors are restored byte for byte, the
random generators (minigrad's, numpy's, and the shuffling sampler's, with its position in
the epoch) are put back, and the data split is rebuilt from the same seed, so 2 epochs
straight and 1 epoch + resume 1 give identical parameters, even when the first run was
stopped mid-epoch. (A run with a cosine ``schedule`` anneals over the epochs it was
started with, so the CLI refuses to change its ``--epochs`` on resume.) A distributed
run's checkpoint holds the plain model (no ``module.`` prefix) and the global sampler
position, so it resumes on any world size, one process included.

Ctrl-C: the optimizer step and the bookkeeping that goes with it run with SIGINT
deferred (``interrupts_deferred``), so an interrupt always falls between two whole steps.
The loop then saves ``last.ckpt`` from the last step boundary (generator states included,
as they were before any half-done forward pass drew from them) and raises
``TrainingInterrupted``.
"""
import contextlib
import json
import os
import signal
import threading
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import creation

__all__ = ["CHECKPOINT_FORMAT", "TrainingInterrupted", "interrupts_deferred",
           "load_checkpoint", "resolve_checkpoint", "run_folder", "seed_everything"]

CHECKPOINT_FORMAT = "minigrad-train-1"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``Trainer.fit``, after the checkpoint ``checkpoint`` was written."""

    def __init__(self, checkpoint, epoch, step):
        super().__init__(f"interrupted at epoch {epoch + 1}, step {step}")
        self.checkpoint, self.epoch, self.step = checkpoint, epoch, step


@contextlib.contextmanager
def interrupts_deferred():
    """Hold SIGINT back for the duration of the block, then hand it to the handler that
    was installed (Python's raises KeyboardInterrupt), so the block (an optimizer step)
    is never left half done. Where SIGINT is ignored or not handled by Python, or outside
    the main thread (which cannot set handlers), the block runs unchanged."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        previous(*received[0])


def seed_everything(seed):
    """Seed minigrad's generator (initialisation, dropout) and numpy's legacy one."""
    mg.manual_seed(seed)
    np.random.seed(seed)


def _rng_state():
    return {"minigrad": creation.default_generator().bit_generator.state,
            "numpy": np.random.get_state()}


def _set_rng_state(state):
    creation.default_generator().bit_generator.state = state["minigrad"]
    np.random.set_state(tuple(state["numpy"]))


def resolve_checkpoint(path):
    """A checkpoint file, or a run folder's ``checkpoints/last.ckpt``; FileNotFoundError
    naming what was looked for."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoints" / "last.ckpt" if (path / "checkpoints").is_dir() \
            else path / "last.ckpt"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


def run_folder(checkpoint_path):
    """The run folder a checkpoint file belongs to (``RUN/checkpoints/x.ckpt`` → ``RUN``)."""
    path = Path(checkpoint_path)
    return path.parent.parent if path.parent.name == "checkpoints" else path.parent


def load_checkpoint(path):
    """Read a training checkpoint (tensors onto the CPU); ValueError if it is not one."""
    path = resolve_checkpoint(path)
    with open(path, "rb") as handle:
        if handle.read(1) == b"\x80":      # a pickle protocol 2+ header, not an npz archive
            raise ValueError(f"{path} is not a minigrad checkpoint (it is a Python pickle, "
                             "which minigrad will not unpickle)")
    checkpoint = mg.load(path, map_location="cpu")
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is a minigrad file but not a training checkpoint")
    return checkpoint


def _write_json(path, obj):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
