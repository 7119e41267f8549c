"""The CPU-testable parts of the conv section of benchmarks/gpu_check.py
(benchmarks/gpu_check_conv.py): the correctness pass in the CUDA simulator, the
NaN-poisoning allocator, the torch baselines on CPU, the FLOP counts."""
import types

import numpy as np
import pytest

from minigrad_benchmarks import gpu_check, gpu_check_conv


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
