"""The argument parser of ``minigrad train | eval | export | finetune | sample`` and its
option types; ``cli.py`` beside it turns the parsed arguments into runs (configuration,
dispatch, error reporting), and ``experiments_cli.py`` builds its own commands from the
same pieces (``_Parser``, ``_positive``, ``_model_arg``, ``_add_threads_flag``).

Each option type rejects a bad value with ``argparse.ArgumentTypeError``, and ``_Parser``
turns every argparse error into a ``UsageError`` (one ``minigrad: error:`` line, exit
status 2, printed by ``cli.main``) instead of argparse's usage block and exit.

Every command takes ``--threads N`` (default 1): the CPU threads of BLAS, OpenMP and numba's
parallel kernels (``minigrad.set_num_threads``). One, not the core count, because on a
shared 2-core machine two BLAS threads that compete with other work measured 3–60× slower
per matmul than one thread (``minigrad/threads.py``), while an idle machine gains at most
the core count; raise it on a machine of your own.
"""
import argparse
import json
import math

from .data import DATASETS, NORMALIZATIONS

__all__ = ["build_parser", "UsageError", "class_list", "OPTIMIZERS"]

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


class UsageError(Exception):
    """A bad command line: reported as one ``minigrad: error:`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # argparse would print the usage block and exit
        raise UsageError(message)


def _number(kind, text):
    """``kind(text)``, finite: NaN or inf in an option would train a model of NaNs."""
    try:
        value = kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _positive(kind):
    def parse(text):
        value = _number(kind, text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _non_negative(kind):
    def parse(text):
        value = _number(kind, text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value
    parse.__name__ = f"non-negative {kind.__name__}"
    return parse


def _fraction(text):
    value = _number(float, text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def class_list(text):
    """``"0-4"`` → [0, 1, 2, 3, 4]; ``"1,3,5"`` → [1, 3, 5] (labels 0–9)."""
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            labels = list(range(low, high + 1))
        else:
            labels = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a range like 0-4 or a list like 1,3,5, got "
                                         f"{text!r}") from None
    if not labels or min(labels) < 0 or max(labels) > 9:
        raise argparse.ArgumentTypeError(f"classes must be labels in 0..9, got {text!r}")
    return labels


def _model_arg(text):
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _add_threads_flag(parser):
    parser.add_argument("--threads", type=_positive(int), default=1, help="CPU threads for "
                        "BLAS and numba kernels (default 1: safe on a shared machine)")


def build_parser():
    parser = _Parser(prog="minigrad", description="Train, evaluate and sample the models of "
                     "models.registry.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model; writes a run folder")
    train.add_argument("model")
    train.add_argument("--dataset", choices=DATASETS, help="default: the model's first")
    train.add_argument("--epochs", type=_positive(int))
    train.add_argument("--iters", type=_positive(int), help="steps per epoch (text recipes "
                       "count iterations of random windows)")
    train.add_argument("--batch-size", type=_positive(int))
    train.add_argument("--lr", type=_positive(float))
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--momentum", type=_non_negative(float))
    train.add_argument("--weight-decay", type=_non_negative(float))
    train.add_argument("--normalize", choices=tuple(NORMALIZATIONS))
    train.add_argument("--val-split", type=_fraction, help="share of the training split "
                       "held out for validation")
    train.add_argument("--subset", type=_positive(int), help="train on only N samples of "
                       "the training split (fast runs; lm: N windows per epoch)")
    train.add_argument("--eval-samples", type=_positive(int), help="score only N evenly "
                       "spaced validation/test samples (text default 1024)")
    train.add_argument("--block-size", type=_positive(int), help="lm window length (a GPT "
                       "longer than its context also needs --model-arg block_size=T)")
    train.add_argument("--max-len", type=_positive(int), help="seq2seq line length")
    train.add_argument("--grad-clip", type=_positive(float), help="clip the gradient norm")
    train.add_argument("--augment", action="store_true", default=None, help="draw the "
                       "training images through random transforms (data.augmentation: "
                       "Fashion-MNIST crop+flip, MNIST rotate+shift)")
    train.add_argument("--classes", type=class_list, help="train and test on these labels "
                       "only, e.g. 0-4 (pretraining for minigrad finetune)")
    train.add_argument("--amp", nargs="?", const="auto", choices=("auto", "bf16", "fp16"),
                       help="mixed precision (minigrad.autocast): bf16 or fp16; bare --amp "
                       "picks bf16 on cpu, fp16 on cuda; fp16 also uses a GradScaler")
    train.add_argument("--accumulate", type=_positive(int), help="gradient accumulation: "
                       "one optimizer step per N batches (an effective batch N times larger)")
    train.add_argument("--seed", type=_non_negative(int))
    train.add_argument("--device", default=None, help="cpu (default) or cuda")
    train.add_argument("--out", help="run folder (default runs/MODEL-DATASET-TIME)")
    train.add_argument("--resume", metavar="CKPT", help="checkpoint file or run folder")
    train.add_argument("--distributed", action="store_true", help="one replica per process "
                       "of mpirun -n N (DistributedDataParallel; docs/distributed.md)")
    train.add_argument("--model-arg", type=_model_arg, action="append", default=[],
                       metavar="KEY=VALUE", help="constructor override, e.g. dense=128")
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="tqdm bar (default: when stderr is a terminal)")
    _add_threads_flag(train)

    ev = commands.add_parser("eval", help="score a checkpoint on a test split")
    ev.add_argument("model")
    ev.add_argument("--checkpoint", required=True)
    ev.add_argument("--dataset", choices=DATASETS)
    ev.add_argument("--device")
    ev.add_argument("--output", help="metrics JSON (default: RUN/eval-DATASET.json)")
    _add_threads_flag(ev)

    export = commands.add_parser("export", help="write a checkpoint's model as an ONNX file "
                                 "and check it in onnxruntime")
    export.add_argument("model")
    export.add_argument("--checkpoint", required=True)
    export.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    export.add_argument("--opset", type=_positive(int), default=None, help="ONNX opset "
                        "(default 17)")
    export.add_argument("--check-samples", type=_non_negative(int), default=256,
                        help="test samples (text: windows) run through onnxruntime and "
                        "minigrad to compare the logits (0: no check)")
    export.add_argument("--device", help="where minigrad runs the model (the ONNX file is "
                        "the same)")
    _add_threads_flag(export)

    tune = commands.add_parser("finetune", help="fine-tune a classifier checkpoint on new "
                               "classes with frozen layers (transfer learning)")
    tune.add_argument("model")
    tune.add_argument("--checkpoint", required=True)
    tune.add_argument("--classes", type=class_list, required=True, help="the new classes, "
                      "e.g. 5-9")
    tune.add_argument("--freeze", choices=("features", "all-but-head", "none"),
                      default="features")
    tune.add_argument("--scratch", action="store_true", help="baseline: the same model from "
                      "random initialisation, every layer trained")
    tune.add_argument("--subset", type=_positive(int), help="labelled training samples")
    tune.add_argument("--epochs", type=_positive(int), default=3)
    tune.add_argument("--lr", type=_positive(float), default=1e-3)
    tune.add_argument("--batch-size", type=_positive(int), default=64)
    tune.add_argument("--seed", type=_non_negative(int), default=0)
    tune.add_argument("--device")
    tune.add_argument("--output", help="result JSON")
    _add_threads_flag(tune)

    sample = commands.add_parser("sample", help="generate text from an lm/seq2seq checkpoint")
    sample.add_argument("model")
    sample.add_argument("--checkpoint", required=True)
    sample.add_argument("--prompt", default="\n")
    sample.add_argument("--max-new-tokens", type=_positive(int), default=300)
    sample.add_argument("--temperature", type=_non_negative(float), default=0.8)
    sample.add_argument("--top-k", type=_positive(int))
    sample.add_argument("--seed", type=_non_negative(int), default=0)
    sample.add_argument("--device")
    _add_threads_flag(sample)
    return parser

