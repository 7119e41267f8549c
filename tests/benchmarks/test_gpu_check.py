"""The CPU-testable parts of benchmarks/gpu_check.py: the per-section deadline runner, the
statistics, the closing table, and the clean exit on a machine without a GPU."""
import json
import time

import numpy as np
import pytest

from minigrad_benchmarks import gpu_check


def test_a_failing_section_is_recorded_and_the_run_goes_on():
    report = {}

    def broken():
        raise RuntimeError("kernel launch failed")

    entry = gpu_check.run_section(report, "broken", broken, 5)
    assert entry["status"] == "error" and "RuntimeError: kernel launch failed" in entry["error"]
    assert gpu_check.run_section(report, "fine", lambda x: x + 1, 5, 41)["result"] == 42
    assert list(report["sections"]) == ["broken", "fine"]


def test_a_section_past_its_deadline_is_stopped():
    report = {}
    start = time.perf_counter()
    entry = gpu_check.run_section(report, "hang", time.sleep, 0.2, 30)
    assert entry["status"] == "timeout" and "deadline" in entry["error"]
    assert time.perf_counter() - start < 5


def test_median_and_relative_error():
    assert gpu_check.median_ms([3.0, 1.0, 2.0, 100.0, 2.5]) == 2.5
    with pytest.raises(ValueError):
        gpu_check.median_ms([])
    want = np.array([[1.0, -4.0], [2.0, 0.0]])
    assert gpu_check.relative_error(want.astype(np.float32), want) == 0.0
    assert gpu_check.relative_error(want + [[0.0, 0.4], [0.0, 0.0]], want) == pytest.approx(0.1)
    assert gpu_check.relative_error(np.full((2, 2), np.nan), want) == float("inf")
    with pytest.raises(ValueError, match="shape"):
        gpu_check.relative_error(want[0], want)


def test_table_lists_sections_checks_and_timings():
    report = dict(device=dict(name="H100"), sections=dict(
        correctness=dict(status="ok", seconds=3.2, result=dict(ok=False, rows=[
            dict(kernel="sgemm_nn", shape="(1, 37, 129, 65)", relerr=2e-7, ok=True),
            dict(kernel="softmax", shape="(7, 3)", relerr=0.5, ok=False)])),
        timing=dict(status="ok", seconds=40.0, result=dict(rows=[
            dict(kernel="sgemm", shape="4096^3", own_ms=3.0, own_tflops=45.8,
                 baseline="cupy.matmul (cuBLAS fp32)", baseline_ms=2.7, ratio=0.9),
            dict(kernel="softmax", shape="4096x1024", own_ms=0.02, own_gbs=1600.0)])),
        tests=dict(status="timeout", seconds=100.0, error="deadline")))
    table = gpu_check.format_table(report)
    assert "H100" in table and "timeout" in table
    assert "ok  sgemm_nn" in table and "BAD softmax" in table
    assert "45.80 TFLOP/s" in table and "0.90x of cupy.matmul" in table
    assert "1600 GB/s" in table and "no baseline" in table


def test_without_a_gpu_it_exits_cleanly_with_the_versions(tmp_path, capsys):
    if gpu_check.probe_gpu()[0] is not None:
        pytest.skip("a GPU is present: the no-GPU exit cannot be observed")
    assert gpu_check.main(["--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["status"] == "no-gpu" and "sections" not in report
    assert report["versions"]["packages"]["numpy"] == np.__version__
    assert "no GPU here" in capsys.readouterr().out


def test_step_times_stops_at_the_step_count_or_the_budget():
    calls, synced = [], []
    timed = gpu_check.step_times(lambda: calls.append(1), lambda: synced.append(1), steps=5,
                                 budget_s=30.0, warmup=2)
    assert len(calls) == 2 + 5 and timed["steps_timed"] == 5
    assert len(synced) >= 5 and timed["first_step_ms"] >= 0
    slow = gpu_check.step_times(lambda: time.sleep(0.05), lambda: None, steps=1000,
                                budget_s=0.2, warmup=1)
    assert 2 <= slow["steps_timed"] <= 6
    assert slow["median_ms"] >= 45 and slow["total_s"] < 1.0


def test_epoch_estimate_extrapolates_only_a_cut_epoch():
    full = dict(first_step_ms=1.0, steps_timed=10, median_ms=2.0, mean_ms=3.0, total_s=0.03)
    assert gpu_check.epoch_estimate(full, 10)["epoch_seconds"] == 0.03
    assert not gpu_check.epoch_estimate(full, 10)["extrapolated"]
    cut = gpu_check.epoch_estimate(full, 938)
    assert cut["extrapolated"] and cut["epoch_seconds"] == pytest.approx(3.0 * 938 / 1e3, abs=0.01)


@pytest.mark.slow
def test_training_sections_run_on_cpu_at_tiny_sizes():
    """The GPT-step and CNN-epoch sections end to end on the CPU (tiny GPT, 192 images): the
    models build with equal parameter counts, both libraries train, the table shows them.
    Slow (~10–30 s): two libraries' first steps and kernel compiles."""
    pytest.importorskip("torch")
    gpt = gpu_check.gpt_step(device="cpu", size=dict(n_layer=1, n_embd=16, n_head=2,
                                                     block_size=8, batch=2), steps=2)
    assert gpt["params"] > 0 and gpt["minigrad"]["steps_timed"] == 2
    assert gpt["torch"]["steps_timed"] == 2 and gpt["ratio"] > 0
    cnn = gpu_check.cnn_epoch(device="cpu", images=192, budget_s=30.0)
    assert cnn["minigrad"]["steps_per_epoch"] == 3
    assert not cnn["minigrad"]["extrapolated"] and cnn["torch"]["steps_timed"] == 3
    table = gpu_check.format_table(dict(device="cpu", sections=dict(
        gpt_step=dict(status="ok", seconds=1.0, result=gpt),
        cnn_epoch=dict(status="ok", seconds=1.0, result=cnn))))
    assert "GPT 1x16 ctx 8 batch 2 step on cpu" in table
    assert "seed CNN" in table and "on cpu" in table and "extrapolated" not in table


def test_table_lists_the_fused_checks_and_timings():
    report = dict(device="H100", sections=dict(fused=dict(status="ok", seconds=2.0, result=dict(
        ok=True, checks=[dict(kernel="adam_update (bit for bit)", shape="61", relerr=0.0,
                              ok=True)],
        rows=[dict(kernel="adam_update", shape="124000000", own_ms=1.3, own_gbs=2700.0,
                   baseline="torch Adam(fused=True)", baseline_ms=1.5, ratio=1.15)]))))
    table = gpu_check.format_table(report)
    assert "ok  adam_update (bit for bit)" in table
    assert "2700 GB/s" in table and "1.15x of torch Adam(fused=True)" in table


def test_training_lines_say_when_an_epoch_was_extrapolated():
    timed = dict(first_step_ms=900.0, steps_timed=100, median_ms=9.0, mean_ms=10.0, total_s=1.0)
    cnn = dict(model="seed CNN", minigrad_device="cuda", torch_device="cpu", ratio=0.5,
               minigrad=gpu_check.epoch_estimate(timed, 938),
               torch=gpu_check.epoch_estimate(dict(timed, steps_timed=938, total_s=18.8), 938))
    line = gpu_check.format_training(cnn)
    assert "minigrad 9.4 s on cuda (extrapolated from 100 steps)" in line
    assert "torch 18.8 s on cpu;" in line and "ratio 0.50" in line
    gpt = dict(model="GPT 6x384", device="cuda", ratio=1.5, minigrad=timed,
               torch=dict(timed, median_ms=6.0))
    assert "minigrad 9.0 ms (first 900 ms), torch eager 6.0 ms; ratio 1.50" in \
        gpu_check.format_training(gpt)


def test_fused_checks_pass_in_the_cuda_simulator(monkeypatch):
    """The fused-kernel checks of the GPU run, at tiny shapes, on numpy arrays in the
    simulator (``cp`` is a numpy stand-in): every check runs and passes, so the section
    cannot fail on the lent machine for a reason a CPU could have shown."""
    import types
    launch = pytest.importorskip("minigrad_kernels.cuda._launch", reason="no numba.cuda")
    if not launch.SIMULATED:
        pytest.skip("needs the CUDA simulator (NUMBA_ENABLE_CUDASIM=1)")
    monkeypatch.setattr(gpu_check, "FUSED_SHAPES", dict(cross_entropy=[(3, 7)], gelu=[19],
                                                        adam=[21]))
    numpy_as_cupy = types.SimpleNamespace(asarray=np.asarray, asnumpy=np.asarray, ones=np.ones,
                                          float32=np.float32)
    result = gpu_check.fused_checks(numpy_as_cupy)
    assert len(result["checks"]) == 4 + 2 + 1
    assert result["ok"], [c for c in result["checks"] if not c["ok"]]
