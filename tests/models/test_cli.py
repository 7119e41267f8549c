"""``minigrad train | eval | sample``: exit codes and one-line errors, the run folder,
``eval`` reproducing the training run's test accuracy, Ctrl-C, and the layering rule
(importing minigrad never imports models).

Most cases call ``models.train.cli.main`` in-process (fast); a few go through a real
``python -m minigrad`` subprocess to prove the entry point itself."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad_models.registry import MODELS
from minigrad_models.train import cli

ROOT = Path(__file__).resolve().parents[2]
ACCURACY_LINE = re.compile(r"^test accuracy: (\d\.\d{4})$", re.MULTILINE)
RECONSTRUCTION_LINE = re.compile(r"^test reconstruction MSE: (\d\.\d{5})$", re.MULTILINE)


def first_model(task, prefer=()):
    """A registry model of ``task``, preferring the names in ``prefer``."""
    for name in prefer:
        if name in MODELS and MODELS[name].task == task:
            return name
    names = [name for name, spec in MODELS.items() if spec.task == task]
    return names[0] if names else None


CLASSIFIER = first_model("classify", prefer=("mlp",))


def run_cli(*argv, timeout=300):
    """``python -m minigrad ARGV`` from the repository root."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return subprocess.run([sys.executable, "-m", "minigrad", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("minigrad: error: "), stderr
    assert "Traceback" not in stderr


# ---------------------------------------------------------------------------- errors

BAD_ARGUMENTS = [
    (["train", "no-such-model"], "no-such-model"),
    (["train", CLASSIFIER, "--dataset", "cifar10"], "--dataset"),
    (["train", CLASSIFIER, "--dataset", "shakespeare"], "not available"),
    (["train", CLASSIFIER, "--lr", "-0.1"], "--lr"),
    (["train", CLASSIFIER, "--lr", "0"], "--lr"),
    (["train", CLASSIFIER, "--epochs", "0"], "--epochs"),
    (["train", CLASSIFIER, "--epochs", "-2"], "--epochs"),
    (["train", CLASSIFIER, "--batch-size", "0"], "--batch-size"),
    (["train", CLASSIFIER, "--batch-size", "many"], "--batch-size"),
    (["train", CLASSIFIER, "--optimizer", "lbfgs"], "--optimizer"),
    (["train", CLASSIFIER, "--val-split", "1"], "--val-split"),
    (["train", CLASSIFIER, "--resume", "/no/such/run"], "not found"),
    (["eval", CLASSIFIER, "--checkpoint", "/no/such/file.ckpt"], "not found"),
    (["eval", CLASSIFIER], "--checkpoint"),
    (["sample", CLASSIFIER, "--checkpoint", "/no/such/file.ckpt"], "not found"),
    (["train", CLASSIFIER, "--threads", "0"], "--threads"),
    (["eval", CLASSIFIER, "--checkpoint", "x.ckpt", "--threads", "two"], "--threads"),
    (["train"], "model"),
    (["fly"], "fly"),
    # Non-finite or negative numbers would train a model of NaNs (issue 11).
    (["train", CLASSIFIER, "--momentum", "nan"], "--momentum"),
    (["train", CLASSIFIER, "--momentum", "-0.5"], "--momentum"),
    (["train", CLASSIFIER, "--weight-decay", "inf"], "--weight-decay"),
    (["train", CLASSIFIER, "--lr", "nan"], "--lr"),
    (["train", CLASSIFIER, "--lr", "inf"], "--lr"),
    (["train", CLASSIFIER, "--grad-clip", "nan"], "--grad-clip"),
    (["train", CLASSIFIER, "--seed", "-5"], "--seed"),
    (["train", CLASSIFIER, "--device", "cuda:x"], "Invalid device string: 'cuda:x'"),
    (["train", CLASSIFIER, "--device", "tpu"], "--device"),
    (["sample", CLASSIFIER, "--checkpoint", "x.ckpt", "--temperature", "nan"], "--temperature"),
]


@pytest.mark.parametrize("argv,mention", BAD_ARGUMENTS, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else None)
def test_bad_arguments_give_one_line_and_nonzero_exit(argv, mention, capsys):
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert_one_line_error(err)
    assert mention in err


@pytest.mark.parametrize("argv", [["train", CLASSIFIER, "--resume", "/no/such/run"],
                                  ["eval", CLASSIFIER, "--checkpoint", "/no/such/file.ckpt"],
                                  ["sample", CLASSIFIER, "--checkpoint", "/no/such/file.ckpt"]],
                         ids=lambda argv: argv[0])
def test_threads_flag_reaches_set_num_threads(argv, monkeypatch, capsys):
    """Every command takes --threads (default 1) and applies it before doing any work."""
    calls = []
    monkeypatch.setattr(mg, "set_num_threads", calls.append)
    cli.main(argv)
    cli.main(argv + ["--threads", "3"])
    assert calls == [1, 3]
    assert "--threads" not in capsys.readouterr().err


@pytest.mark.skipif(mg.cuda_is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_one_line_error(capsys):
    assert cli.main(["train", CLASSIFIER, "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "cuda" in err


def test_entry_point_errors_through_a_real_process():
    for argv in (["train", "no-such-model"], ["train", CLASSIFIER, "--lr", "-1"],
                 ["no-such-command"]):
        result = run_cli(*argv, timeout=60)
        assert result.returncode == 2, (argv, result.stderr)
        assert_one_line_error(result.stderr)


def test_help_and_layering():
    result = run_cli("--help", timeout=60)
    assert result.returncode == 0 and "train MODEL" in result.stdout
    # models sits above minigrad: importing minigrad (and its __main__) must not load it.
    probe = ("import sys, minigrad, minigrad.__main__; print(sorted(m for m in sys.modules "
             "if m.split('.')[0] in ('models', 'minigrad_models')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


# ---------------------------------------------------------------------------- a real run

@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One small training run through the real entry point: (run folder, stdout)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    result = run_cli("train", CLASSIFIER, "--subset", "256", "--epochs", "1",
                     "--batch-size", "64", "--seed", "3", "--out", str(out), "--threads", "1")
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_train_writes_every_artifact_and_one_accuracy_line(trained_run):
    out, stdout = trained_run
    for name in ("config.json", "metrics.json", "loss_curve.png", "predictions_grid.png",
                 "confusion_matrix.png", "checkpoints/epoch-001.ckpt", "checkpoints/last.ckpt"):
        assert (out / name).is_file(), name
    matches = ACCURACY_LINE.findall(stdout)
    assert len(matches) == 1, stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"{metrics['test']['accuracy']:.4f}" == matches[0]
    assert len(metrics["history"]) == 1
    for key in ("macro_precision", "macro_recall", "macro_f1", "confusion_matrix"):
        assert key in metrics["test"]
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == CLASSIFIER and config["subset"] == 256 and config["seed"] == 3
    # Unset flags come from the model's recipe.
    assert config["optimizer"] == MODELS[CLASSIFIER].recipe.get("optimizer", config["optimizer"])


def test_eval_reproduces_the_training_accuracy(trained_run, tmp_path):
    out, stdout = trained_run
    report = tmp_path / "eval.json"
    result = run_cli("eval", CLASSIFIER, "--checkpoint", str(out / "checkpoints" / "last.ckpt"),
                     "--output", str(report))
    assert result.returncode == 0, result.stderr
    assert ACCURACY_LINE.findall(result.stdout) == ACCURACY_LINE.findall(stdout)
    for word in ("precision", "recall", "F1"):
        assert word in result.stdout
    saved = json.loads(report.read_text())["test"]
    trained = json.loads((out / "metrics.json").read_text())["test"]
    assert saved["accuracy"] == trained["accuracy"]
    assert saved["confusion_matrix"] == trained["confusion_matrix"]


def test_new_run_refuses_an_existing_run_folder(trained_run, capsys):
    out, _ = trained_run
    assert cli.main(["train", CLASSIFIER, "--out", str(out)]) == 2
    assert_one_line_error(capsys.readouterr().err)


def test_resume_refuses_a_changed_setting(trained_run, capsys):
    out, _ = trained_run
    assert cli.main(["train", CLASSIFIER, "--resume", str(out), "--lr", "0.5"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "--lr" in err


def test_resume_refuses_a_new_epoch_count_under_a_schedule(trained_run, tmp_path, capsys):
    out, _ = trained_run
    checkpoint = mg.load(out / "checkpoints" / "last.ckpt")
    checkpoint["config"]["schedule"] = "cosine"
    mg.save(checkpoint, tmp_path / "cosine.ckpt")
    assert cli.main(["train", CLASSIFIER, "--resume", str(tmp_path / "cosine.ckpt"),
                     "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "schedule" in err


def test_sample_needs_a_text_model(trained_run, capsys):
    out, _ = trained_run
    assert cli.main(["sample", CLASSIFIER, "--checkpoint", str(out)]) == 2
    assert_one_line_error(capsys.readouterr().err)


# ---------------------------------------------------------------------------- Ctrl-C

def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, capsys, monkeypatch):
    from minigrad_models.train import plots
    monkeypatch.setattr(plots, "write_run_plots", lambda *a, **k: None)
    out = tmp_path / "run"

    def press_ctrl_c(event, trainer):
        if event == "step" and trainer.step == 2:
            raise KeyboardInterrupt

    argv = ["train", CLASSIFIER, "--subset", "256", "--epochs", "1", "--out", str(out),
            "--no-progress"]
    assert cli.main(argv, callbacks=[press_ctrl_c]) == 130
    err = capsys.readouterr().err
    assert "interrupted at epoch 1, step 2" in err and f"--resume {out}" in err
    assert "Traceback" not in err
    assert (out / "checkpoints" / "last.ckpt").is_file()
    assert not (out / "checkpoints" / "epoch-001.ckpt").exists()

    assert cli.main(["train", CLASSIFIER, "--resume", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr().out
    assert re.search(r"resuming at step 2: epoch 1, 128 of its \d+ samples done", captured)
    assert len(ACCURACY_LINE.findall(captured)) == 1
    assert (out / "checkpoints" / "epoch-001.ckpt").is_file()


# ---------------------------------------------------------------------------- text

TEXT_RUNS = [
    # (model, constructor overrides): a small LSTM keeps the fast suite fast; the GPT at
    # its registry size (generation re-reads the whole context per token) is slow-marked.
    pytest.param("lstm", ["--model-arg", "hidden_size=32", "--model-arg", "embed_dim=16"],
                 id="lstm"),
    pytest.param("gpt", [], id="gpt", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("model,model_args", TEXT_RUNS)
def test_language_model_train_and_sample(tmp_path, model, model_args):
    if model not in MODELS:
        pytest.skip(f"no {model} in the registry")
    out = tmp_path / "lm"
    result = run_cli("train", model, "--subset", "64", "--epochs", "1", "--batch-size", "16",
                     "--eval-samples", "128", "--out", str(out), *model_args)
    assert result.returncode == 0, result.stderr
    assert len(ACCURACY_LINE.findall(result.stdout)) == 1
    assert (out / "samples.txt").is_file() and (out / "loss_curve.png").is_file()
    metrics = json.loads((out / "metrics.json").read_text())["test"]
    assert metrics["perplexity"] > 1 and metrics["num_tokens"] == 128 * 64

    def sample():
        return run_cli("sample", model, "--checkpoint", str(out), "--prompt", "ROMEO:",
                       "--max-new-tokens", "40", "--seed", "1")
    first, second = sample(), sample()
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("ROMEO:") and len(first.stdout.rstrip("\n")) >= 40
    assert second.stdout == first.stdout          # seeded
    bad = run_cli("sample", model, "--checkpoint", str(out), "--prompt", "\u00e9t\u00e9")
    assert bad.returncode == 2
    assert_one_line_error(bad.stderr)


@pytest.mark.slow
def test_a_real_sigint_checkpoints_and_exits_130(tmp_path):
    """SIGINT to a real process mid-training (timing-dependent, hence slow-marked)."""
    import signal
    import time
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "minigrad", "train", CLASSIFIER, "--subset", "30000", "--epochs",
         "50", "--out", str(out), "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    process.stdout.readline()              # the header: data loaded, training starts
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "checkpoint saved to" in stderr and "Traceback" not in stderr
    assert (out / "checkpoints" / "last.ckpt").is_file()
    assert json.loads((out / "metrics.json").read_text())["steps"] > 0


@pytest.mark.gpu
def test_train_on_cuda_and_eval_on_cpu(tmp_path, capsys):
    """A run on the GPU checkpoints host arrays that a CPU eval reads back."""
    if not mg.cuda_is_available():
        pytest.skip("no CUDA device")
    out = tmp_path / "run"
    assert cli.main(["train", CLASSIFIER, "--subset", "512", "--epochs", "1", "--device", "cuda",
                     "--out", str(out), "--no-progress"]) == 0
    trained = float(ACCURACY_LINE.findall(capsys.readouterr().out)[0])
    assert cli.main(["eval", CLASSIFIER, "--checkpoint", str(out), "--device", "cpu"]) == 0
    evaluated = float(ACCURACY_LINE.findall(capsys.readouterr().out)[0])
    assert abs(trained - evaluated) <= 0.002    # float32 GPU vs CPU kernels may differ


# ---------------------------------------------------------------------------- failures mid-run

@pytest.mark.parametrize("model_arg", ["bogus=3", "hidden=-5"])
def test_a_bad_model_arg_names_the_option(model_arg, tmp_path, capsys):
    status = cli.main(["train", CLASSIFIER, "--model-arg", model_arg, "--subset", "64",
                       "--epochs", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 2
    assert_one_line_error(err)
    assert f"--model-arg {model_arg}" in err


def test_non_finite_weights_after_the_last_step_stop_the_run(tmp_path, capsys):
    # One step whose loss is finite but whose update overflows float32: no NaN model is saved.
    out = tmp_path / "run"
    status = cli.main(["train", CLASSIFIER, "--optimizer", "sgd", "--lr", "1e39", "--subset",
                       "64", "--batch-size", "64", "--epochs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert_one_line_error(err)
    assert "non-finite at step 1" in err
    assert not (out / "checkpoints" / "last.ckpt").exists()


def test_cpu_with_an_index_is_the_cpu(tmp_path, capsys):
    status = cli.main(["train", CLASSIFIER, "--device", "cpu:1", "--subset", "64", "--epochs",
                       "1", "--out", str(tmp_path / "run")])
    assert status == 0, capsys.readouterr().err


def test_a_pickle_checkpoint_is_refused_without_unpickling(tmp_path, capsys):
    import pickle
    path = tmp_path / "model.ckpt"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    assert cli.main(["eval", CLASSIFIER, "--checkpoint", str(path)]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "not a minigrad checkpoint" in err and "will not unpickle" in err
    assert "allow_pickle" not in err


def test_eval_refuses_to_overwrite_an_existing_output(trained_run, tmp_path, capsys):
    out, _ = trained_run
    report = tmp_path / "eval.json"
    report.write_text("keep me")
    assert cli.main(["eval", CLASSIFIER, "--checkpoint", str(out), "--output", str(report)]) == 2
    assert_one_line_error(capsys.readouterr().err)
    assert report.read_text() == "keep me"


def test_load_state_dict_errors_keep_the_missing_and_unexpected_keys(trained_run, tmp_path,
                                                                    capsys):
    out, _ = trained_run
    checkpoint = mg.load(out / "checkpoints" / "last.ckpt")
    checkpoint["model"] = {"renamed." + k: v for k, v in checkpoint["model"].items()}
    path = tmp_path / "other.ckpt"
    mg.save(checkpoint, path)
    assert cli.main(["eval", CLASSIFIER, "--checkpoint", str(path)]) == 1
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "Missing key(s)" in err and "Unexpected key(s)" in err


# Every registry model, tiny, trained for one short epoch on CUDA (on a GPU, or on the CPU
# under the fake CuPy: MINIGRAD_FAKE_CUDA=1). The ImageNet ResNets keep their widths
# (no constructor argument shrinks them) and see 8 images.
TINY_CUDA_RUNS = {
    "mlp": ["--model-arg", "hidden=[16,16]"],
    "autoencoder": ["--model-arg", "width=4"],
    "binary-mlp": ["--model-arg", "hidden=[16,16]"],
    "cnn": ["--model-arg", "dense=16"],
    "resnet-small": ["--model-arg", "widths=[4,8,8]"],
    # The ImageNet ResNets take 10-30 s on a CPU under the fake: slow-marked below.
    "resnet18": [], "resnet34": [], "resnet50": [],
    "lstm": ["--model-arg", "hidden_size=16", "--model-arg", "embed_dim=8",
             "--model-arg", "num_layers=1", "--block-size", "16"],
    "gru": ["--model-arg", "hidden_size=16", "--model-arg", "embed_dim=8",
            "--model-arg", "num_layers=1", "--block-size", "16"],
    "transformer": ["--model-arg", "d_model=16", "--model-arg", "nhead=2", "--model-arg",
                    "num_layers=1", "--model-arg", "dim_feedforward=32", "--max-len", "16"],
    "gpt": ["--model-arg", "n_layer=1", "--model-arg", "n_head=2", "--model-arg", "n_embd=16",
            "--model-arg", "block_size=16", "--block-size", "16"],
}


def test_every_registry_model_has_a_tiny_cuda_run():
    assert sorted(TINY_CUDA_RUNS) == sorted(MODELS)


@pytest.mark.gpu
@pytest.mark.parametrize("model", [
    pytest.param(name, marks=[pytest.mark.slow] if name.startswith("resnet") and name[6:].isdigit()
                 else [])
    for name in sorted(TINY_CUDA_RUNS)])
def test_every_model_trains_with_device_cuda(model, tmp_path, capsys):
    if not mg.cuda_is_available():
        pytest.skip("no CUDA device")
    out = tmp_path / "run"
    status = cli.main(["train", model, "--subset", "8", "--batch-size", "8", "--epochs", "1",
                       "--eval-samples", "8", "--device", "cuda", "--out", str(out),
                       "--no-progress", *TINY_CUDA_RUNS[model]])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    headline = RECONSTRUCTION_LINE if model == "autoencoder" else ACCURACY_LINE
    assert len(headline.findall(captured.out)) == 1, captured.out
    assert json.loads((out / "config.json").read_text())["device"] == "cuda"
    assert list((out / "checkpoints").glob("*.ckpt"))


@pytest.mark.gpu
def test_training_step_host_syncs_do_not_grow_with_the_model(tmp_path, capsys):
    """On a GPU every read to the host (``.item()``, ``bool(t)``) waits for the device: a
    training step reads a fixed handful (loss, accuracy, one all-finite check), not one per
    parameter. Counted by the fake CuPy (``MINIGRAD_FAKE_CUDA=1``), which records reads."""
    if not mg.cuda_is_available():
        pytest.skip("no CUDA device")
    cupy = pytest.importorskip("cupy")
    if not hasattr(cupy, "host_syncs"):
        pytest.skip("counting host reads needs the fake CuPy (MINIGRAD_FAKE_CUDA=1)")

    def syncs(model, subset, run):
        before = cupy.host_syncs
        assert cli.main(["train", model, "--subset", str(subset), "--batch-size", "8",
                         "--epochs", "1", "--eval-samples", "8", "--device", "cuda", "--out",
                         str(tmp_path / run), "--no-progress", *TINY_CUDA_RUNS[model]]) == 0
        return cupy.host_syncs - before

    per_step = {}
    for model in ("mlp", "resnet-small"):      # 6 and 30+ parameter tensors
        few, more = syncs(model, 16, f"{model}-2"), syncs(model, 48, f"{model}-6")
        per_step[model] = (more - few) / 4      # four more steps
    capsys.readouterr()
    assert per_step["mlp"] == per_step["resnet-small"] <= 4, per_step


@pytest.mark.gpu
def test_sampling_on_cuda_gives_the_cpu_text(tmp_path, capsys):
    """Random draws come from minigrad's host generator, so a seeded sample from a model
    trained on the GPU reads the same on either device."""
    if not mg.cuda_is_available():
        pytest.skip("no CUDA device")
    out = tmp_path / "lm"
    assert cli.main(["train", "lstm", "--subset", "8", "--batch-size", "8", "--epochs", "1",
                     "--eval-samples", "8", "--device", "cuda", "--out", str(out),
                     "--no-progress", *TINY_CUDA_RUNS["lstm"]]) == 0
    texts = {}
    for device in ("cuda", "cpu"):
        capsys.readouterr()
        assert cli.main(["sample", "lstm", "--checkpoint", str(out), "--prompt", "ROMEO:",
                         "--max-new-tokens", "20", "--seed", "1", "--device", device]) == 0
        texts[device] = capsys.readouterr().out
    assert texts["cuda"].startswith("ROMEO:") and len(texts["cuda"]) > 20
    assert texts["cuda"] == texts["cpu"]
