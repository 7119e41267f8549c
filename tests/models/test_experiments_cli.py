"""``minigrad prune | quantize | distill | attack | advtrain`` at tiny sizes on real MNIST
checkpoints trained here (256 images, one epoch): exit codes, JSON rows, plots, and the
facts each experiment must show (measured sparsity, ε = 0 is the clean accuracy, int8
accuracy near float32)."""
import json

import pytest

from minigrad_models import cli as top_cli
from minigrad_models.train import cli, experiments_cli, plots


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One-epoch mlp and cnn runs on 512 images (no run plots: matplotlib is slow)."""
    root = tmp_path_factory.mktemp("runs")
    saved = plots.write_run_plots
    plots.write_run_plots = lambda *a, **k: None
    try:
        for model, extra in (("mlp", []), ("cnn", ["--model-arg", "dense=16"])):
            status = cli.main(["train", model, "--subset", "512", "--epochs", "1", "--out",
                               str(root / model), "--no-progress", *extra])
            assert status == 0
    finally:
        plots.write_run_plots = saved
    return root


def run(*argv):
    assert top_cli.run_command(list(argv)) == 0


def result(folder, command):
    return json.loads((folder / f"{command}.json").read_text())


def test_prune_reaches_the_requested_sparsity(runs, tmp_path):
    run("prune", "mlp", "--checkpoint", str(runs / "mlp"), "--sparsity", "0,0.8",
        "--finetune-steps", "3", "--samples", "200", "--subset", "256", "--out", str(tmp_path))
    rows = result(tmp_path, "prune")["rows"]
    assert [round(r["measured_sparsity"], 3) for r in rows] == [0.0, 0.8]
    assert all(0 <= r["finetuned_accuracy"] <= 1 for r in rows)
    assert (tmp_path / "prune.png").stat().st_size > 0


def test_quantize_keeps_accuracy_and_shrinks_the_checkpoint(runs, tmp_path):
    run("quantize", "cnn", "--checkpoint", str(runs / "cnn"), "--samples", "200",
        "--calibration", "64", "--repeats", "1", "--batch-sizes", "1,8", "--out", str(tmp_path))
    rows = {r["variant"].split(" (")[0]: r for r in result(tmp_path, "quantize")["rows"]}
    assert set(rows) == {"float32", "int8 dynamic", "int8 static"}
    for name in ("int8 dynamic", "int8 static"):
        assert abs(rows[name]["accuracy"] - rows["float32"]["accuracy"]) <= 0.03
        assert rows[name]["size_bytes"] < rows["float32"]["size_bytes"]
        assert rows[name]["latency_ms_batch8"] > 0


def test_distill_trains_both_students(runs, tmp_path):
    run("distill", "--teacher", str(runs / "cnn"), "--student-arg", "hidden=[16,16]",
        "--steps", "5", "--subset", "256", "--samples", "100", "--out", str(tmp_path))
    rows = result(tmp_path, "distill")["rows"]
    assert [r["student"].split(" ")[0] for r in rows] == ["teacher", "alone", "distilled"]
    assert rows[1]["parameters"] == rows[2]["parameters"] == 784 * 16 + 16 + 16 * 16 + 16 + 170


def test_attack_at_zero_eps_is_the_clean_accuracy(runs, tmp_path):
    run("attack", "mlp", "--checkpoint", str(runs / "mlp"), "--eps", "0,0.3", "--samples",
        "100", "--pgd-steps", "2", "--out", str(tmp_path))
    rows = {(r["method"], r["eps"]): r["accuracy"] for r in result(tmp_path, "attack")["rows"]}
    assert rows[("fgsm", 0.0)] == rows[("pgd", 0.0)]
    assert rows[("fgsm", 0.3)] < rows[("fgsm", 0.0)] and rows[("pgd", 0.3)] < rows[("pgd", 0.0)]
    assert (tmp_path / "attack.png").stat().st_size > 0


def test_advtrain_reports_clean_and_adversarial_accuracy(tmp_path):
    run("advtrain", "mlp", "--steps", "3", "--subset", "128", "--samples", "50",
        "--pgd-steps", "1", "--out", str(tmp_path))
    rows = result(tmp_path, "advtrain")["rows"]
    assert [r["training"].split(" ")[0] for r in rows] == ["standard", "FGSM"]
    assert all({"clean", "fgsm@0.1", "pgd@0.1"} <= set(r) for r in rows)


@pytest.mark.parametrize("argv,fragment", [
    (["prune", "mlp", "--checkpoint", "nowhere"], "checkpoint not found"),
    (["prune", "mlp", "--checkpoint", "x", "--sparsity", "1.5"], "[0, 1)"),
    (["attack", "mlp", "--checkpoint", "x", "--methods", "cw"], "--methods"),
    (["distill", "--teacher", "x", "--alpha", "2"], "--alpha"),
])
def test_errors_are_one_line(argv, fragment, capsys):
    assert experiments_cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigrad: error:") and fragment in err[0]
