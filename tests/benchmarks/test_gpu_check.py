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
