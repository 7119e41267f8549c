"""``minigrad train | eval | sample | export | finetune``: the command line over the model
registry.

    minigrad train MODEL [--dataset D] [--epochs E] [--batch-size B] [--lr LR]
                   [--optimizer sgd|adam|adamw|rmsprop] [--device cpu|cuda] [--seed S]
                   [--out DIR] [--subset N] [--resume CKPT|DIR] [--val-split F] [--augment]
                   [--amp [bf16|fp16]] [--accumulate N]
    mpirun -n N minigrad train MODEL --distributed ...   (docs/distributed.md)
    minigrad eval MODEL --checkpoint CKPT|DIR [--dataset D] [--output JSON]
    minigrad sample MODEL --checkpoint CKPT|DIR [--prompt TEXT] [--max-new-tokens N]
                   [--temperature T] [--top-k K] [--seed S]
    minigrad export MODEL --checkpoint CKPT|DIR --onnx FILE [--opset V] [--check-samples N]
    minigrad finetune MODEL --checkpoint CKPT|DIR --classes 5-9 [--freeze features|
                   all-but-head|none] [--scratch] [--subset N] [--epochs E] [--output JSON]

This module turns parsed arguments into runs: the training configuration (``DEFAULTS``,
``resolve_train_config``, resume checks) and one function per command, dispatched by
``main``. The parser itself, its option types and ``UsageError`` live in ``cli_parser.py``;
the loop and checkpoints in ``trainer.py`` and ``checkpointing.py``. Every command takes
``--threads N`` (default 1; why one, see ``cli_parser.py``).

Every training setting not given on the command line comes from the model's recipe in
``models.registry`` (the seeds' hyper-parameters), then from ``DEFAULTS``. A resumed run
keeps the configuration stored in its checkpoint: only ``--epochs`` (to train further),
``--out`` and ``--device`` may change, and a flag that contradicts the checkpoint is an
error rather than being silently ignored.

Errors a user can make (an unknown model or data set, a data set the model cannot use, a
non-positive learning rate, epoch count or batch size, a missing checkpoint, ``--device
cuda`` without a GPU) end with one line ``minigrad: error: ...`` on stderr and exit
status 2 (1 for failures at run time, such as data that cannot be fetched); Ctrl-C during
training saves a checkpoint, says how to resume, and exits with 130. ``MINIGRAD_DEBUG=1``
shows the traceback of a run-time failure instead.
"""
import datetime
import os
import sys
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import distributed as dist

from .cli_parser import OPTIMIZERS, UsageError, build_parser
from .metrics import format_report
from .tasks import TEXT_TASKS, evaluate, generate
from .checkpointing import _write_json, load_checkpoint, resolve_checkpoint, run_folder
from .trainer import TrainingInterrupted, build_model, run_training

__all__ = ["main", "resolve_train_config", "DEFAULTS"]

#: Settings used when neither a flag nor the model's recipe gives one. ``epochs`` is 1 for
#: a recipe that counts ``iters`` instead; ``val_split`` 0 for images (the seeds train on
#: all 60,000) and 0.1 for text; ``eval_samples`` None (all) for images, 1024 for text;
#: ``weight_decay`` None is the optimizer's own default (AdamW 0.01, the others 0).
DEFAULTS = {"optimizer": "adam", "lr": 1e-3, "momentum": 0.0, "nesterov": False,
            "betas": None, "weight_decay": None, "batch_size": 64, "epochs": 10, "iters": None,
            "schedule": None, "normalize": "unit", "val_split": None, "eval_samples": None,
            "block_size": 64, "max_len": 64, "grad_clip": None, "augment": False,
            "classes": None, "amp": None, "accumulate": 1}
TEXT_DEFAULTS = {"val_split": 0.1, "eval_samples": 1024}
#: Flags a resumed run may change; every other one must match the checkpoint.
RESUME_MAY_CHANGE = ("epochs", "out", "device")
_TRAIN_KEYS = ("dataset", "optimizer", "lr", "momentum", "weight_decay", "batch_size", "epochs",
               "iters", "normalize", "val_split", "eval_samples", "seed", "subset",
               "block_size", "max_len", "grad_clip", "augment", "classes", "amp", "accumulate")


def _spec(name):
    from ..registry import get_spec   # the registry sits beside this package
    try:
        return get_spec(name)
    except (ValueError, KeyError) as e:
        raise UsageError(str(e).strip("'\"")) from None


def _check_device(device):
    try:
        parsed = mg.device(device)
    except (RuntimeError, TypeError) as e:
        raise UsageError(f"--device: {e}") from None
    if parsed.type == "cuda" and not mg.cuda_is_available():
        raise UsageError(f"--device {device}: no CUDA device is available (minigrad needs CuPy "
                         "and a GPU; use --device cpu)")
    return str(parsed)


def _check_dataset(spec, dataset):
    if dataset not in spec.datasets:
        raise UsageError(f"dataset {dataset!r} is not available for model {spec.name!r} "
                         f"(choose from {', '.join(spec.datasets)})")


def resolve_train_config(spec, args):
    """The run's configuration: flags over the recipe over ``DEFAULTS``. ``args`` is the
    parsed ``train`` namespace (or any object with the same attributes, None = unset)."""
    dataset = args.dataset or spec.datasets[0]
    _check_dataset(spec, dataset)
    config = {"model": spec.name, "task": spec.task, "dataset": dataset}
    defaults = dict(DEFAULTS, **(TEXT_DEFAULTS if spec.task in TEXT_TASKS else {}))
    if spec.recipe.get("iters") and "epochs" not in spec.recipe:
        defaults["epochs"] = 1
    for key, default in defaults.items():
        flag = getattr(args, key, None)
        recipe = spec.recipe.get(key)
        config[key] = flag if flag is not None else recipe if recipe is not None else default
    config["val_split"] = config["val_split"] or 0.0
    if config["optimizer"] not in OPTIMIZERS:
        raise UsageError(f"recipe optimizer {config['optimizer']!r} is not one of "
                         f"{', '.join(OPTIMIZERS)}")
    if config["augment"] and spec.task in TEXT_TASKS:
        raise UsageError(f"--augment transforms images; model {spec.name!r} reads text")
    config["seed"] = args.seed if args.seed is not None else spec.recipe.get("seed", 0)
    config["subset"] = args.subset
    config["eval_batch_size"] = max(256, config["batch_size"])
    config["device"] = _check_device(args.device or "cpu")
    if config["amp"] == "auto":
        config["amp"] = "fp16" if config["device"].startswith("cuda") else "bf16"
    config["model_args"] = dict(args.model_arg or [])
    config["recipe"] = dict(spec.recipe)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    config["out"] = args.out or str(Path("runs") / f"{spec.name}-{dataset}-{stamp}")
    return config


def _resume_config(spec, args):
    checkpoint = load_checkpoint(args.resume)
    config = dict(checkpoint["config"])
    if config["model"] != spec.name:
        raise UsageError(f"--resume: the checkpoint is a {config['model']!r} run, not "
                         f"{spec.name!r}")
    for key in _TRAIN_KEYS:
        flag = getattr(args, key, None)
        if flag is not None and key not in RESUME_MAY_CHANGE and flag != config.get(key):
            raise UsageError(f"--{key.replace('_', '-')} {flag} differs from the checkpoint's "
                             f"{config.get(key)}; a resumed run keeps its configuration")
    if args.epochs is not None and args.epochs != config["epochs"]:
        if config.get("schedule"):
            raise UsageError(f"--epochs: this run's {config['schedule']} schedule anneals over "
                             f"its {config['epochs']} epochs; it cannot be resumed with another "
                             "count")
        config["epochs"] = args.epochs
    if args.device is not None:
        config["device"] = _check_device(args.device)
    config["out"] = args.out or str(run_folder(resolve_checkpoint(args.resume)))
    return config, checkpoint


def _start_distributed(args):
    """``--distributed``: join the mpirun job (mpi backend on the CPU, nccl on CUDA, one GPU
    per local rank)."""
    device = mg.device(args.device or "cpu")
    try:
        dist.init_process_group("nccl" if device.type == "cuda" else "mpi")
    except (RuntimeError, ValueError) as e:
        raise UsageError(f"--distributed: {e}") from None
    if device.type == "cuda":
        args.device = f"cuda:{dist.process_group.launcher_local_rank()}"


def _train(args, callbacks=()):
    spec = _spec(args.model)
    if args.distributed:
        _start_distributed(args)
    if args.resume:
        config, checkpoint = _resume_config(spec, args)
    else:
        config, checkpoint = resolve_train_config(spec, args), None
        if args.distributed:      # one run folder: rank 0's (its timestamp)
            shared = [config["out"]]
            dist.broadcast_object_list(shared, src=0)
            config["out"] = shared[0]
        if (Path(config["out"]) / "checkpoints" / "last.ckpt").exists():
            raise UsageError(f"{config['out']} already holds a run; continue it with --resume "
                             f"{config['out']} or choose another --out")
    run_training(config, spec, checkpoint, callbacks=callbacks, progress=args.progress)
    return 0


def _restore(args):
    """(spec, config, model) of a checkpoint, the model in eval mode on the device."""
    spec = _spec(args.model)
    checkpoint = load_checkpoint(args.checkpoint)
    config = dict(checkpoint["config"])
    if config["model"] != spec.name:
        raise UsageError(f"--checkpoint is a {config['model']!r} checkpoint, not {spec.name!r}")
    config["device"] = _check_device(args.device or "cpu")
    model = build_model(spec, config)
    model.load_state_dict(checkpoint["model"])
    model.eval()
    return spec, config, model


def _eval(args):
    spec, config, model = _restore(args)
    if args.dataset:
        _check_dataset(spec, args.dataset)
        config["dataset"] = args.dataset
    from .data import prepare_data
    splits = prepare_data(config, need_train=False)
    pad = (config.get("special_tokens") or {}).get("pad")
    report = evaluate(model, config["task"], splits.test, config["device"], splits.num_classes,
                      splits.class_names, pad, scores=True)
    scores = report.pop("scores", None)
    checkpoint = resolve_checkpoint(args.checkpoint)
    print(f"{config['model']} on {config['dataset']} test split ({splits.sizes['test']} samples), "
          f"checkpoint {checkpoint}")
    for line in format_report(report):
        print(line)
    if config["task"] == "reconstruct":
        print(f"test reconstruction MSE: {report['mse']:.5f}")
    else:
        print(f"test accuracy: {report['accuracy']:.4f}")
    if args.output and Path(args.output).exists():
        raise UsageError(f"--output {args.output} already exists; choose another file or "
                         "remove it (the run folder's own eval file is rewritten freely)")
    output = Path(args.output or run_folder(checkpoint) / f"eval-{config['dataset']}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    _write_json(output, {"model": config["model"], "dataset": config["dataset"],
                         "checkpoint": str(checkpoint), "test": report})
    print(f"metrics written to {output}")
    if scores is not None and "roc_auc" in report:
        from .plots import plot_roc_curves
        roc_path = output.with_name(f"roc-{config['dataset']}.png")
        plot_roc_curves(splits.test.dataset.tensors[1].numpy().ravel().astype(np.int64), scores,
                        splits.class_names, roc_path,
                        title=f"{config['model']} on {config['dataset']}: ROC (test)")
        print(f"ROC curves written to {roc_path}")
    return 0


def _export(args):
    """Trace the checkpoint's model on a test batch (batch axis dynamic), write the ONNX
    file and, where onnxruntime is installed, compare its logits with minigrad's."""
    spec, config, model = _restore(args)
    if config["task"] not in ("classify", "binary", "reconstruct", "lm"):
        raise UsageError(f"export handles image models and language models; "
                         f"{spec.name!r} is a {config['task']} model")
    output = Path(args.onnx)
    output.parent.mkdir(parents=True, exist_ok=True)
    from .data import prepare_data
    config["eval_samples"] = max(args.check_samples, 2)
    config["eval_batch_size"] = max(args.check_samples, 2)
    batch = next(iter(prepare_data(config, need_train=False).test))[0]
    output_name = "reconstruction" if config["task"] == "reconstruct" else "logits"
    mg.onnx.export(model, (batch[:2],), output, input_names=["input"],
                   output_names=[output_name], opset_version=args.opset,
                   dynamic_axes={"input": {0: "batch"}, output_name: {0: "batch"}})
    print(f"{spec.name}: exported to {output} ({output.stat().st_size:,} bytes, opset "
          f"{args.opset or mg.onnx.DEFAULT_OPSET})")
    if not args.check_samples:
        return 0
    try:
        import onnxruntime
    except ImportError:
        print("onnxruntime is not installed (pip install 'minigrad[onnx]'): not checked")
        return 0
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    x = batch[:args.check_samples]
    with mg.no_grad():
        expected = model(x.to(config["device"]))
    expected = (expected[0] if isinstance(expected, tuple) else expected).cpu().numpy()
    got = session.run([output_name], {"input": x.numpy()})[0]
    difference = float(np.abs(got.astype(np.float64) - expected).max())
    what = "windows" if config["task"] == "lm" else "images"
    if config["task"] == "reconstruct":
        print(f"onnxruntime {onnxruntime.__version__} vs minigrad on {len(x)} test {what}: "
              f"max |pixel difference| {difference:.3g}")
        return 0
    agree = float((got.argmax(-1) == expected.argmax(-1)).mean()) if got.shape[-1] > 1 \
        else float(((got > 0) == (expected > 0)).mean())
    print(f"onnxruntime {onnxruntime.__version__} vs minigrad on {len(x)} test {what}: max "
          f"|logit difference| {difference:.3g}, same prediction {agree:.2%}")
    return 0


def _finetune(args):
    from .finetune import finetune, write_result
    spec = _spec(args.model)
    result = finetune(spec, args.checkpoint, args.classes, args.freeze, args.scratch,
                      args.subset, args.epochs, args.lr, args.batch_size, args.seed,
                      _check_device(args.device or "cpu"))
    if args.output:
        write_result(result, args.output)
        print(f"result written to {args.output}")
    return 0


def _sample(args):
    spec, config, model = _restore(args)
    if config["task"] not in TEXT_TASKS:
        raise UsageError(f"model {spec.name!r} ({config['task']}) does not generate text; "
                         "sample works with language and seq2seq models")
    vocab = config["vocab"]
    stoi = {c: i for i, c in enumerate(vocab)}
    unknown = sorted(set(args.prompt) - set(stoi))
    if unknown:
        raise UsageError(f"--prompt holds characters outside the vocabulary: {unknown!r}")
    if not args.prompt and config["task"] == "lm":
        raise UsageError("--prompt must hold at least one character")
    if args.temperature < 0:
        raise UsageError(f"--temperature must be >= 0 (0 is greedy), got {args.temperature}")
    ids = generate(model, config["task"], [stoi[c] for c in args.prompt], args.max_new_tokens,
                   config["device"], temperature=args.temperature, top_k=args.top_k,
                   seed=args.seed, special_tokens=config.get("special_tokens"),
                   max_len=config.get("max_len"))
    text = "".join(vocab[i] for i in ids if i < len(vocab))
    print(args.prompt + text if config["task"] == "lm" else text)
    return 0


def main(argv=None, callbacks=()):
    """Run one command; returns the exit status (0, 1, 2, or 130 after Ctrl-C).
    ``callbacks`` reach the Trainer (tests use them to simulate an interrupt)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        # A run-time setting, not part of a run's configuration: a resumed run may change it.
        mg.set_num_threads(args.threads)
        if args.command == "train":
            return _train(args, callbacks)
        if args.command == "export":
            return _export(args)
        if args.command == "finetune":
            return _finetune(args)
        return _eval(args) if args.command == "eval" else _sample(args)
    except TrainingInterrupted as e:
        run = Path(e.checkpoint).parent.parent
        print(f"minigrad: {e}; checkpoint saved to {e.checkpoint}; continue with: minigrad "
              f"train {args.model} --resume {run}", file=sys.stderr)
        return 130
    except UsageError as e:
        print(f"minigrad: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError, FloatingPointError, OSError) as e:
        if os.environ.get("MINIGRAD_DEBUG"):   # the full traceback, for a developer
            raise
        # Every line: load_state_dict's missing and unexpected keys are the useful part.
        message = " ".join(line.strip() for line in str(e).splitlines()) or type(e).__name__
        print(f"minigrad: error: {message}", file=sys.stderr)
        return 2 if isinstance(e, (FileNotFoundError, ValueError)) else 1
