"""``minigrad prune | quantize | distill | attack | advtrain``: compression and security
experiments on trained checkpoints (``experiments.py`` does the work).

    minigrad prune MODEL --checkpoint RUN [--sparsity 0,0.5,0.9] [--finetune-steps N]
    minigrad quantize MODEL --checkpoint RUN [--calibration N] [--batch-sizes 1,256]
    minigrad distill --teacher RUN [--student mlp] [--student-arg hidden=[32,32]]
                     [--temperature T] [--alpha A] [--steps N]
    minigrad attack MODEL --checkpoint RUN [--eps 0.05,0.1,0.2] [--methods fgsm,pgd]
    minigrad advtrain MODEL [--eps 0.1] [--steps N] [--subset N]

Each prints its rows and a Markdown table, and writes ``<command>.json`` (and a plot for
prune and attack) into ``--out`` (default: the checkpoint's run folder; advtrain:
``runs/advtrain-MODEL``). ``--samples N`` scores N evenly spaced test images (default:
all; attack and advtrain 1000). Errors end as in ``minigrad train``: one ``minigrad:
error:`` line and exit status 2.
"""
import os
import sys
from pathlib import Path

import minigrad as mg

from . import experiments as ex
from .checkpointing import _write_json, resolve_checkpoint, run_folder
from .cli_parser import UsageError, _Parser, _add_threads_flag, _model_arg, _positive

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = ("prune", "quantize", "distill", "attack", "advtrain")


def _floats(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise UsageError(f"expected at least one number, got {text!r}")
    return values


def _fractions(text):
    values = _floats(text)
    if any(not 0 <= v < 1 for v in values):
        raise UsageError(f"sparsities must be in [0, 1), got {text}")
    return values


def _ints(text):
    return [int(v) for v in _floats(text)]


def build_parser():
    parser = _Parser(prog="minigrad", description="Compression and security experiments.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sub, checkpoint=True, samples=None):
        if checkpoint:
            sub.add_argument("model")
            sub.add_argument("--checkpoint", required=True, help="run folder or .ckpt")
        sub.add_argument("--samples", type=_positive(int), default=samples,
                         help="score N evenly spaced test images (default: %(default)s)")
        sub.add_argument("--out", help="folder for the JSON (and plot)")
        _add_threads_flag(sub)

    p = commands.add_parser("prune", help="accuracy vs sparsity, global L1 pruning")
    common(p)
    p.add_argument("--sparsity", type=_fractions, default=[0.0, 0.5, 0.7, 0.8, 0.9, 0.95])
    p.add_argument("--finetune-steps", type=int, default=300)
    p.add_argument("--subset", type=_positive(int), help="fine-tune on N training images")

    q = commands.add_parser("quantize", help="float32 vs int8 dynamic vs int8 static")
    common(q)
    q.add_argument("--calibration", type=_positive(int), default=512)
    q.add_argument("--batch-sizes", type=_ints, default=[1, 256])
    q.add_argument("--repeats", type=_positive(int), default=20)

    d = commands.add_parser("distill", help="a student alone vs distilled from a teacher")
    common(d, checkpoint=False)
    d.add_argument("--teacher", required=True, help="teacher run folder or .ckpt")
    d.add_argument("--student", default="mlp")
    d.add_argument("--student-arg", type=_model_arg, action="append", default=[],
                   metavar="KEY=VALUE", help="student constructor argument, e.g. hidden=[32,32]")
    d.add_argument("--temperature", type=_positive(float), default=4.0)
    d.add_argument("--alpha", type=float, default=0.9)
    d.add_argument("--steps", type=_positive(int), default=1000)
    d.add_argument("--lr", type=_positive(float), default=1e-3)
    d.add_argument("--batch-size", type=_positive(int), default=64)
    d.add_argument("--subset", type=_positive(int))
    d.add_argument("--seed", type=int, default=0)

    a = commands.add_parser("attack", help="FGSM / PGD accuracy vs epsilon")
    common(a, samples=1000)
    a.add_argument("--eps", type=_floats, default=[0.05, 0.1, 0.2])
    a.add_argument("--methods", default="fgsm,pgd")
    a.add_argument("--pgd-steps", type=_positive(int), default=10)

    t = commands.add_parser("advtrain", help="standard vs FGSM adversarial training")
    common(t, checkpoint=False, samples=1000)
    t.add_argument("model")
    t.add_argument("--dataset")
    t.add_argument("--eps", type=_positive(float), default=0.1)
    t.add_argument("--steps", type=_positive(int), default=600)
    t.add_argument("--subset", type=_positive(int))
    t.add_argument("--pgd-steps", type=_positive(int), default=10)
    t.add_argument("--seed", type=int, default=0)
    return parser


def _out(args, checkpoint):
    folder = Path(args.out) if args.out else run_folder(resolve_checkpoint(checkpoint))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _finish(result, folder, command):
    print(ex.format_table(result["rows"]))
    _write_json(folder / f"{command}.json", result)
    print(f"results written to {folder / f'{command}.json'}")


def _run(args, argv):
    from . import experiment_plots as plots
    if args.command == "prune":
        ex.load_trained(args.checkpoint, args.model)
        result = ex.prune_sweep(args.checkpoint, args.sparsity, args.finetune_steps,
                                args.samples, args.subset)
        folder = _out(args, args.checkpoint)
        plots.plot_pruning(result, folder / "prune.png")
    elif args.command == "quantize":
        ex.load_trained(args.checkpoint, args.model)
        result = ex.quantize_compare(args.checkpoint, args.samples, args.calibration,
                                     tuple(args.batch_sizes), args.repeats)
        folder = _out(args, args.checkpoint)
    elif args.command == "distill":
        if not 0 <= args.alpha <= 1:
            raise UsageError(f"--alpha must be in [0, 1], got {args.alpha}")
        result = ex.distill_compare(args.teacher, args.student, dict(args.student_arg),
                                    args.temperature, args.alpha, args.steps, args.lr,
                                    args.batch_size, args.subset, args.samples, args.seed)
        folder = _out(args, args.teacher)
    elif args.command == "attack":
        methods = tuple(m.strip() for m in args.methods.split(","))
        if set(methods) - {"fgsm", "pgd"}:
            raise UsageError(f"--methods: choose from fgsm, pgd; got {args.methods!r}")
        _, config, model = ex.load_trained(args.checkpoint, args.model)
        result, examples = ex.attack_sweep(args.checkpoint, args.eps, methods, args.pgd_steps,
                                           args.samples, model=model, config=config)
        folder = _out(args, args.checkpoint)
        plots.plot_attack(result, examples, folder / "attack.png")
    else:
        result = ex.adversarial_training(args.model, args.dataset, args.eps, args.steps,
                                         args.subset, args.samples, (args.eps,),
                                         args.pgd_steps, args.seed)
        folder = Path(args.out or f"runs/advtrain-{args.model}")
        folder.mkdir(parents=True, exist_ok=True)
    result["command"] = "minigrad " + " ".join(argv)
    _finish(result, folder, args.command)
    return 0


def main(argv):
    """Run one experiment command line; returns the exit status."""
    try:
        argv = list(argv)
        args = build_parser().parse_args(argv)
        mg.set_num_threads(args.threads)
        return _run(args, argv)
    except UsageError as e:
        print(f"minigrad: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError, OSError) as e:
        if os.environ.get("MINIGRAD_DEBUG"):
            raise
        message = " ".join(line.strip() for line in str(e).splitlines()) or type(e).__name__
        print(f"minigrad: error: {message}", file=sys.stderr)
        return 2 if isinstance(e, (FileNotFoundError, ValueError)) else 1

