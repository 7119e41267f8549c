"""The device parametrisation itself: ids, the gpu marker's selection in both directions, the
skip without CUDA, and the host-side helpers of ``tests/devices.py``."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from tests.devices import CUDA_SKIP_REASON, DEVICES, assert_close, on_device, to_numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = "tests/ops/test_arithmetic.py::test_pow_integer_tensor"


def test_devices_are_cpu_and_a_gpu_marked_cuda():
    cpu, cuda = DEVICES
    assert cpu.values == ("cpu",) and cpu.id == "cpu" and not cpu.marks
    assert cuda.values == ("cuda",) and cuda.id == "cuda"
    names = [m.name for m in cuda.marks]
    assert "gpu" in names and "skipif" in names
    skip = next(m for m in cuda.marks if m.name == "skipif")
    assert skip.args == (not mg.cuda_is_available(),) and skip.kwargs["reason"] == CUDA_SKIP_REASON


def test_a_device_test_gets_a_string_device(device):
    assert device in ("cpu", "cuda")
    assert mg.zeros(1, device=device).device == device


def _collect(*args):
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                             "-p", "no:cacheprovider", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_default_run_has_the_cpu_variant_and_gpu_run_exactly_the_cuda_one():
    assert _collect(SAMPLE) == [SAMPLE + "[cpu]"]
    assert _collect(SAMPLE, "-m", "gpu") == [SAMPLE + "[cuda]"]
    every_gpu_item = _collect("tests/ops", "tests/nn", "-m", "gpu")
    assert every_gpu_item and all(item.endswith("cuda]") for item in every_gpu_item)


@pytest.mark.skipif(mg.cuda_is_available(), reason="checks the skip on a machine without CUDA")
def test_gpu_run_without_cuda_skips_with_the_reason():
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                             "-m", "gpu", SAMPLE], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 skipped" in result.stdout and CUDA_SKIP_REASON in result.stdout


def test_to_numpy_reads_tensors_requiring_grad_and_arrays():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(to_numpy(t * 2), [2.0, 4.0])
    np.testing.assert_array_equal(to_numpy([3, 4]), [3, 4])


def test_assert_close_compares_values_and_exact_shapes():
    assert_close(mg.tensor([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), rtol=1e-6)
    with pytest.raises(AssertionError):
        assert_close(mg.tensor([1.0, 2.0]), np.array([1.0, 2.1]))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(mg.tensor([[1.0, 1.0]]), np.array([1.0, 1.0]))


def test_on_device_keeps_a_tensor_already_there_and_its_leaf_status(device):
    t = mg.from_numpy(np.arange(6.0).reshape(2, 3).T).requires_grad_()
    moved = on_device(t, device)
    assert moved.device == device and moved.is_leaf and moved.requires_grad
    assert (moved is t) == (device == "cpu")
    np.testing.assert_array_equal(to_numpy(moved), np.arange(6.0).reshape(2, 3).T)


# ---------------------------------------------------------------------- device strings
def test_a_cpu_index_is_the_cpu_like_torch():
    t = mg.tensor([1.0], device="cpu:1")
    assert t.device == "cpu" and mg.ones(2).to("cpu:1").device == "cpu"
    assert str(mg.device("cpu:1")) == "cpu:1"


@pytest.mark.parametrize("spec", ["cuda:x", "cpu:-1", "cuda:", "cuda:1:2", " cpu"])
def test_malformed_device_strings_raise_torchs_error(spec):
    with pytest.raises(RuntimeError, match=f"Invalid device string: '{spec}'"):
        mg.device(spec)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        torch.device(spec)
