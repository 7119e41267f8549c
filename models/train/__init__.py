"""Training, evaluation and sampling for the models of ``models.registry`` — the engine
behind ``minigrad train | eval | sample``.

Reading order: ``data.py`` (a data-set name → DataLoaders), ``tasks.py`` (loss and scoring
per task), ``checkpointing.py`` (the run folder, checkpoints, bit-exact resume, Ctrl-C
safety), ``trainer.py`` (the loop and ``run_training``), ``metrics.py`` (accuracy,
precision/recall/F1, confusion matrix, perplexity), ``plots.py`` (the run folder's PNGs),
``cli_parser.py`` (the command line's parser) and ``cli.py`` (the commands it runs).

In a program::

    from minigrad_models.registry import get_spec
    from minigrad_models.train.cli import main
    main(["train", "cnn", "--subset", "2048", "--epochs", "1", "--out", "runs/cnn"])
"""
from .checkpointing import TrainingInterrupted, load_checkpoint
from .metrics import accuracy, classification_report, confusion_matrix, precision_recall_f1
from .trainer import Trainer, run_training

__all__ = ["Trainer", "TrainingInterrupted", "run_training", "load_checkpoint", "accuracy",
           "classification_report", "confusion_matrix", "precision_recall_f1"]
