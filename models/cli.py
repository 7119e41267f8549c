"""``minigrad COMMAND`` (the console script; also ``python -m minigrad``).

Commands:
  train MODEL   train a model of minigrad_models.registry; writes a run folder (config,
                metrics, checkpoints, loss curve, predictions grid, confusion matrix) and
                prints "test accuracy: 0.9812"
  eval MODEL    score a checkpoint on a test split (accuracy, precision, recall, F1)
  sample MODEL  generate text from a language-model or seq2seq checkpoint
  finetune MODEL  fine-tune a classifier checkpoint on new classes with frozen layers
  export MODEL  write a checkpoint's model as an ONNX file (minigrad.onnx.export) and
                compare onnxruntime's logits with minigrad's
  prune MODEL   accuracy vs sparsity under global L1 pruning, with and without fine-tuning
  quantize MODEL  float32 vs int8 (dynamic, static) accuracy, size and latency
  distill       train a small student from a teacher checkpoint, against the student alone
  attack MODEL  FGSM / PGD adversarial accuracy vs epsilon, with example images
  advtrain MODEL  standard vs FGSM adversarial training (clean and adversarial accuracy)
  demo          train the two-layer sigmoid network on MNIST with raw tensor ops
  textbook      work the textbook formulas by hand and check them against autograd

Run "minigrad COMMAND --help" for a command's options.

This module sits in the application layer (``minigrad_models``, installed from the
repository's ``models/`` folder), above the library: it imports minigrad, never the other
way round. ``import minigrad`` loads none of this.
"""
import os
import sys

from minigrad import demo
from minigrad.textbook.__main__ import main as textbook_main

from .train import cli as train_cli
from .train import experiments_cli

COMMANDS = ("train", "eval", "sample", "export", "finetune", "demo",
            "textbook") + experiments_cli.COMMANDS


def run_command(argv):
    """Run one command line (without the program name); returns the exit status."""
    command = argv[0] if argv else "--help"
    if command in ("-h", "--help"):
        print(__doc__.split("\n\nThis module")[0].strip())
        return 0
    if command == "demo":
        return demo.main(argv[1:]) or 0
    if command == "textbook":
        return textbook_main(argv[1:]) or 0
    if command not in COMMANDS:
        print(f"minigrad: error: unknown command {command!r} (choose from "
              f"{', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    if command in experiments_cli.COMMANDS:
        return experiments_cli.main(argv)
    return train_cli.main(argv)   # handles its own errors: one line, an exit status


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run_command(argv)
    except KeyboardInterrupt:
        print("minigrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # output piped into a reader that quit (``| head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (RuntimeError, ImportError) as e:  # data missing, bad device: one line
        if os.environ.get("MINIGRAD_DEBUG"):
            raise
        print(f"minigrad: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
