"""The CPU-testable parts of benchmarks/gpu_check.py: the per-section deadline runner, the
statistics, the closing table, and the clean exit on a machine without a GPU; of its conv
section (benchmarks/gpu_check_conv.py): the correctness pass in the CUDA simulator, the
NaN-poisoning allocator, the torch baselines on CPU, the FLOP counts."""
import json
import time
import types

import numpy as np
import pytest

from minigrad_benchmarks import gpu_check, gpu_check_conv


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


# ------------------------------------------------------------------------- the conv section
def test_conv_correctness_pass_runs_in_the_simulator_and_flags_a_wrong_kernel(monkeypatch):
    pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
    from minigrad_kernels.cuda import conv
    if not conv.SIMULATED:
        pytest.skip("the CPU check runs the kernels in the CUDA simulator")
    rows = gpu_check_conv.conv_correctness(np, lambda a: a, gpu_check_conv.TINY_CASES[:1],
                                           gpu_check.relative_error, pool_shape=(1, 2, 5, 6))
    kernels = [row["kernel"] for row in rows]
    assert kernels[:3] == ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight"]
    assert {"max_pool2d_forward indices", "max_pool2d_backward", "avg_pool2d_backward"} <= set(kernels)
    assert all(row["ok"] for row in rows), rows

    def skips_last_channel(x, w, *geometry):
        y = conv.get_array_module(x).empty((x.shape[0], w.shape[0]) + x.shape[2:], np.float32)
        y[:, :-1] = 0.0                                    # the last channel stays poisoned
        return y

    monkeypatch.setattr(conv, "conv2d_forward", skips_last_channel)
    rows = gpu_check_conv.conv_correctness(np, lambda a: a, gpu_check_conv.TINY_CASES[:1],
                                           gpu_check.relative_error, pool_shape=(1, 1, 4, 5))
    assert rows[0]["kernel"] == "conv2d_forward" and rows[0]["relerr"] == float("inf")
    assert not rows[0]["ok"]


def test_poisoned_outputs_swaps_and_restores_the_allocator():
    module = types.SimpleNamespace(get_array_module=lambda *arrays: np)
    with gpu_check_conv.poisoned_outputs([module], np):
        assert np.isnan(module.get_array_module().empty((3,), np.float32)).all()
        assert (module.get_array_module().empty((2,), np.int64) == -7).all()
    assert module.get_array_module() is np


def test_torch_baselines_are_the_three_convolutions():
    torch = pytest.importorskip("torch")
    from minigrad_kernels.reference import conv as reference
    case = gpu_check_conv.TINY_CASES[1]                    # stride, dilation, groups
    x, w, dy, geometry = gpu_check_conv._operands(case, np.random.default_rng(0))
    calls = gpu_check_conv.torch_baselines(torch, *(torch.tensor(a) for a in (x, w, dy)),
                                           *geometry)
    want = dict(forward=reference.conv2d_forward(x, w, *geometry),
                backward_input=reference.conv2d_backward_input(dy, w, x.shape, *geometry),
                backward_weight=reference.conv2d_backward_weight(dy, x, w.shape, *geometry))
    for mode, call in calls.items():
        np.testing.assert_allclose(call().numpy(), want[mode], rtol=1e-5, atol=1e-5)


def test_conv_flop_counts_and_resnet_layers():
    cases = gpu_check_conv.resnet_cases(64)
    assert [case[1] for case in cases] == [64, 128, 256, 512]
    assert gpu_check_conv.conv_flop(cases[0]) == 2.0 * 64 * 64 * 56 * 56 * 64 * 9
    depthwise = (1, 4, 5, 5, 4, (3, 3), (2, 2), (1, 1), (1, 1), 4)     # 3×3 outputs, C/g = 1
    assert gpu_check_conv.conv_flop(depthwise) == 2.0 * 4 * 9 * 9
    assert gpu_check_conv.conv_shapes(depthwise) == ((1, 4, 5, 5), (4, 1, 3, 3), (1, 4, 3, 3))


def test_table_lists_the_conv_section():
    report = dict(device="H100", sections=dict(conv=dict(status="ok", seconds=50.0, result=dict(
        ok=True, rows=[dict(kernel="conv2d_backward_weight", shape="(3, 37)", relerr=3e-7,
                            ok=True)],
        timings=[dict(kernel="conv2d_forward", shape="64->64 56^2 N=64", own_ms=1.5,
                      own_tflops=9.87, baseline="cuDNN fp32", baseline_ms=1.0, ratio=0.667)]))))
    table = gpu_check.format_table(report)
    assert "ok  conv2d_backward_weight" in table
    assert "9.87 TFLOP/s" in table and "0.67x of cuDNN fp32" in table
