"""Under mpirun: ``python train_run.py OUT EPOCHS [RESUME]`` (``TRAIN_RUN_ACCUMULATE=N`` in
the environment: ``--accumulate N``) trains a tiny (float32)
classifier on 256 MNIST samples through ``run_training`` (the code ``minigrad train
--distributed`` runs); rank 0 writes OUT. tests/distributed/test_trainer.py compares it
with one process."""
import os
import sys
from dataclasses import dataclass
from typing import Callable

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad_models.train import plots
from minigrad_models.train.checkpointing import load_checkpoint
from minigrad_models.train.trainer import run_training


@dataclass(frozen=True)
class Spec:
    name: str
    build: Callable
    task: str
    datasets: tuple
    recipe: dict


def tiny_classifier():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh(), nn.Linear(16, 10))


SPEC = Spec("tiny", tiny_classifier, "classify", ("mnist",), {})


def config_for(out, epochs):
    return {"model": "tiny", "task": "classify", "dataset": "mnist", "optimizer": "sgd",
            "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "batch_size": 25,
            "eval_batch_size": 256, "epochs": epochs, "normalize": "mnist-0.5",
            "val_split": 0.0, "eval_samples": 64, "seed": 3, "subset": 128, "device": "cpu",
            "model_args": {}, "grad_clip": None, "out": out,
            "accumulate": int(os.environ.get("TRAIN_RUN_ACCUMULATE", "1"))}


def train(out, epochs, resume=None):
    plots.write_run_plots = lambda *a, **k: None
    checkpoint = load_checkpoint(resume) if resume else None
    config = dict(checkpoint["config"], epochs=epochs, out=out) if checkpoint \
        else config_for(out, epochs)
    trainer, _ = run_training(config, SPEC, checkpoint, log=lambda *a: None, progress=False)
    return trainer


if __name__ == "__main__":
    dist.init_process_group("mpi")
    trainer = train(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    print("DONE", dist.get_rank(), trainer.step, flush=True)
