"""The CPU-testable parts of benchmarks/gpu_check.py: the per-section deadline runner, the
statistics, the closing table, the clean exit on a machine without a GPU, and of its
attention sections (gpu_check_attention.py): the correctness section in the CUDA
simulator, the cases, FLOP count, peak-memory bookkeeping and their table lines (the conv section's are in
test_gpu_check_conv.py)."""
import json
import time
import types

import numpy as np
import pytest

from minigrad_benchmarks import gpu_check, gpu_check_attention, gpu_check_fused


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


# ------------------------------------------------------------------------- attention sections
NUMPY_AS_CUPY = types.SimpleNamespace(asarray=np.asarray, asnumpy=np.asarray)
TINY_ATTENTION_CASES = [("ragged bool", (1,), 7, 9, 8, 8, "bool"),
                        ("causal", (2,), 5, 6, 4, 4, "causal"),
                        ("padding", (2, 1), 3, 5, 4, 2, "padding")]


def _simulated_attention():
    pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
    from minigrad_kernels.cuda import _launch, attention
    if not _launch.SIMULATED:
        pytest.skip("runs the kernels on numpy arrays in the CUDA simulator")
    return attention


def test_attention_correctness_section_runs_in_the_simulator_and_catches_a_bad_kernel(
        monkeypatch):
    attention = _simulated_attention()
    result = gpu_check_attention.attention_correctness(NUMPY_AS_CUPY,
                                                      cases=TINY_ATTENTION_CASES)
    assert result["ok"], [row for row in result["rows"] if not row["ok"]]
    assert len(result["rows"]) == 5 * len(TINY_ATTENTION_CASES)
    assert {row["kernel"].split()[1] for row in result["rows"]} == {"out", "lse", "dq", "dk", "dv"}
    correct = attention.flash_attention_backward

    def off_by_a_little(*args, **kwargs):
        dq, dk, dv = correct(*args, **kwargs)
        return dq, dk * 1.001, dv

    monkeypatch.setattr(attention, "flash_attention_backward", off_by_a_little)
    result = gpu_check_attention.attention_correctness(NUMPY_AS_CUPY,
                                                      cases=TINY_ATTENTION_CASES[1:2])
    assert not result["ok"]
    assert [row["kernel"] for row in result["rows"] if not row["ok"]] == ["flash dk causal"]


def test_attention_cases_cover_every_masking_and_the_flop_count():
    cases = gpu_check_attention.attention_cases()
    assert {case[-1] for case in cases} == {"none", "causal", "bool", "float", "padding"}
    assert {case[4] for case in cases} >= {40, 64, 128}
    assert len(gpu_check_attention.attention_cases(quick=True)) == len(cases) - 1
    forward, backward = gpu_check_attention.attention_flops(8, 12, 4096, 64)
    assert forward == pytest.approx(2.06e11, rel=1e-3) and backward == 2.5 * forward
    assert gpu_check_attention.attention_flops(1, 1, 4, 2, causal=False)[0] == 4 * 16 * 2


def test_tile_sweep_starts_with_the_production_tiles():
    pytest.importorskip("minigrad_kernels.cuda", reason="numba-cuda is not installed")
    from minigrad_kernels.cuda import attention
    candidates = gpu_check_attention.tile_candidates(64)
    assert candidates[0] == ("production", attention.gpu_tiles(64, 64))
    assert [label for label, _ in candidates] == ["production", "G=2"]
    assert all(tiles["G"] == 2 for tiles in candidates[1][1].values())
    assert len(gpu_check_attention.tile_candidates(128)) == 1


def test_peak_counter_and_memory_growth():
    counter = gpu_check_attention.PeakCounter()
    for size in (100, 50):
        counter.malloc(size)
    counter.free(100)
    counter.malloc(80)
    assert (counter.current, counter.peak) == (130, 150)
    rows = [dict(length=1024, peak_bytes=1000), dict(length=4096, peak_bytes=4100)]
    assert gpu_check_attention.memory_growth(rows) == dict(length_ratio=4.0, peak_ratio=4.1,
                                                           linear=True)
    rows[1]["peak_bytes"] = 16000                      # quadratic
    assert not gpu_check_attention.memory_growth(rows)["linear"]
    assert gpu_check_attention.memory_growth(rows[:1]) is None


def test_table_lists_attention_checks_timings_and_memory():
    report = dict(device=dict(name="H100"), sections=dict(
        attention_correctness=dict(status="ok", seconds=9.0, result=dict(ok=True, rows=[
            dict(kernel="flash dq causal", shape="(2, 3)x129x129x64", relerr=3e-7, ok=True)])),
        attention_timing=dict(status="ok", seconds=50.0, result=dict(rows=[
            dict(kernel="flash fwd+bwd", shape="8x12x4096x64 causal", own_ms=40.0,
                 own_tflops=18.0, baseline="torch sdpa fp32 (default)", baseline_ms=20.0,
                 ratio=0.5)], torch=dict(default=dict(forward_ms=6.0, fwd_bwd_ms=20.0),
                                         FLASH_ATTENTION=dict(error="RuntimeError: no")))),
        attention_memory=dict(status="ok", seconds=5.0, result=dict(rows=[
            dict(length=4096, peak_bytes=64 * 2**20, scores_bytes=768 * 2**20)]))))
    table = gpu_check.format_table(report)
    assert "ok  flash dq causal" in table
    assert "18.00 TFLOP/s" in table and "0.50x of torch sdpa fp32 (default)" in table
    assert "torch sdpa default" in table and "fwd+bwd 20.000 ms" in table
    assert "FLASH_ATTENTION" not in table
    assert "T=4096" in table and "64.0 MiB" in table and "768 MiB" in table


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
    monkeypatch.setattr(gpu_check_fused, "FUSED_SHAPES", dict(cross_entropy=[(3, 7)], gelu=[19],
                                                        adam=[21]))
    numpy_as_cupy = types.SimpleNamespace(asarray=np.asarray, asnumpy=np.asarray, ones=np.ones,
                                          float32=np.float32)
    result = gpu_check_fused.fused_checks(numpy_as_cupy)
    assert len(result["checks"]) == 4 + 2 + 1
    assert result["ok"], [c for c in result["checks"] if not c["ok"]]
