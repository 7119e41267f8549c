"""``minigrad <command>`` (or ``python -m minigrad <command>``): the command-line entry point.

Commands:
  train MODEL   train a model of models.registry; writes a run folder (config, metrics,
                checkpoints, loss curve, predictions grid, confusion matrix) and prints
                "test accuracy: 0.9812"
  eval MODEL    score a checkpoint on a test split (accuracy, precision, recall, F1)
  sample MODEL  generate text from a language-model or seq2seq checkpoint
  demo          train the seed-000 two-layer sigmoid network on MNIST with raw tensor ops
  textbook      work the seeds' formulas by hand and check them against autograd

Run "minigrad COMMAND --help" for a command's options.
"""
import importlib
import os
import sys

# Command -> module with ``main(argv)``. train/eval/sample live in the ``models`` package,
# which sits above minigrad in the layering (models -> minigrad -> kernels): minigrad must
# never import models when it is itself imported, so the module is looked up here, only
# when one of those commands runs.
COMMANDS = {"train": "models.train.cli", "eval": "models.train.cli",
            "sample": "models.train.cli", "demo": "minigrad.demo",
            "textbook": "minigrad.textbook.__main__"}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "--help"
    if command not in COMMANDS and command not in ("-h", "--help"):
        print(f"minigrad: error: unknown command {command!r} (choose from "
              f"{', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    try:
        if command in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        module = importlib.import_module(COMMANDS[command])
        if command in ("demo", "textbook"):
            module.main(argv[1:])
            return 0
        return module.main(argv)   # handles its own errors: one line, an exit status
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
