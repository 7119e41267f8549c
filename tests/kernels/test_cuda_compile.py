"""Compile tests of the CUDA kernels for ``sm_90`` at their production tile sizes, without a GPU.

``kernels/cuda/_compile.py`` runs in a subprocess with the simulator switched off (this
process runs under it, see ``tests/conftest.py``): ``numba.cuda.compile_ptx`` type-checks
and compiles every kernel, and ``ptxas -v`` reports its resources.  Asserted: no spills,
no stack frame, no float64 instructions, the static shared memory the launch assumes,
registers × threads within one SM's 64 K registers, and registers within the budget the
occupancy plan assumes (``_compile.REGISTER_BUDGET``).  Slow-marked: it needs numba-cuda's
CUDA 13.0 toolkit wheels (``pip install "numba-cuda[cu13]" "cuda-toolkit[nvvm,nvrtc,cudart]==13.0.*"
"nvidia-nvjitlink==13.0.*"``, GPU.md) and takes ~1-3 min (the conv kernels dominate);
without them it skips, saying why.  The parser is tested on a fixed ptxas transcript in the
default run.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PTXAS_SAMPLE = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_ZN5sgemm' for 'sm_90'
ptxas info    : Function properties for _ZN5sgemm
    24 bytes stack frame, 24 bytes spill stores, 16 bytes spill loads
ptxas info    : Used 128 registers, used 1 barriers, 8192 bytes smem, 424 bytes cmem[0]
"""


def _compile_module():
    return pytest.importorskip("minigrad_kernels.cuda._compile",
                               reason="numba-cuda is not installed")


def test_ptxas_report_is_parsed():
    compile_module = _compile_module()
    assert compile_module.parse_ptxas(PTXAS_SAMPLE) == dict(
        registers=128, shared=8192, stack=24, spill_stores=24, spill_loads=16)
    with pytest.raises(ValueError, match="unrecognised"):
        compile_module.parse_ptxas("ptxas fatal   : Unresolved extern function")


def _without_simulator():
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    return env


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The rows of ``_compile`` for sm_90, or a skip naming what is missing."""
    env = _without_simulator()
    probe = subprocess.run(
        [sys.executable, "-c", "from numba import cuda; from numba import float32;"
         "cuda.compile_ptx(lambda x: None, (float32[::1],), cc=(9, 0), launch_bounds=(32,))"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no error output"])[-1]
        # numba's own (deprecated) CUDA target has compile_ptx without launch_bounds.
        pytest.skip("numba-cuda's compile_ptx is unavailable here (needs numba-cuda[cu13] with "
                    "the CUDA 13.0 toolkit wheels): " + last)
    out = tmp_path_factory.mktemp("ptx") / "resources.json"
    done = subprocess.run([sys.executable, "-m", "minigrad_kernels.cuda._compile",
                           "--json", str(out)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)
    return json.loads(out.read_text())


@pytest.mark.slow
def test_every_kernel_compiles_for_sm90_without_spills(compiled):
    rows = compiled["rows"]
    assert {row["kernel"] for row in rows} >= {"sgemm_nn", "sgemm_nt", "sgemm_tn", "sgemm_tt",
                                               "sgemm_ragged_nn", "sgemm_ragged_nt",
                                               "sgemm_ragged_tn", "sgemm_ragged_tt",
                                               "softmax", "log_softmax", "layer_norm_forward",
                                               "layer_norm_backward", "layer_norm_param_grads",
                                               "flash_forward_d64", "flash_backward_kv_d64",
                                               "flash_backward_q_d64", "flash_forward_d128",
                                               "flash_backward_kv_d128", "flash_backward_q_d128",
                                               "flash_forward_d64_g2",
                                               "cross_entropy_forward", "cross_entropy_backward",
                                               "cross_entropy_fused", "gelu", "gelu_backward",
                                               "gelu_tanh", "gelu_tanh_backward", "adam_update",

                                               "conv2d_forward", "conv2d_forward_narrow",
                                               "conv2d_backward_input",
                                               "conv2d_backward_input_narrow",
                                               "conv2d_backward_input_unit_stride",
                                               "conv2d_backward_input_unit_stride_narrow",
                                               "conv2d_backward_weight", "max_pool2d_forward",
                                               "max_pool2d_backward", "avg_pool2d_forward",
                                               "avg_pool2d_backward"}
    for row in rows:
        assert row["fp64_instructions"] == 0, row
    if compiled["ptxas"] is None:
        pytest.skip("PTX compiled, but no ptxas (PATH or the nvidia-cuda-nvcc wheel) to assemble it")
    for row in rows:
        name = row["kernel"]
        assert row["spill_stores"] == 0 and row["spill_loads"] == 0, f"{name} spills: {row}"
        assert row["stack"] == 0, f"{name} has a local-memory stack frame: {row}"
        assert row["shared"] == row["expected_shared"], f"{name} shared memory: {row}"
        assert row["registers"] * row["threads"] <= 65536, f"{name} cannot launch: {row}"
        assert row["registers"] <= row["register_budget"], f"{name} loses occupancy: {row}"


@pytest.mark.slow
def test_sgemm_main_loop_is_mostly_ffma_with_vector_shared_loads(compiled):
    """The aligned production SGEMM's k-tile in SASS (``benchmarks/sgemm_sass.py``):
    ≥ 78 % FFMA (84 % when written; the scalar design was 37 %), all shared reads
    ``LDS.128``, one barrier.  Skips without cuobjdump (pip nvidia-cuda-cuobjdump)."""
    done = subprocess.run(
        [sys.executable, "-c", "import json; from minigrad_benchmarks.sgemm_sass import "
         "aligned_mix; print(json.dumps(aligned_mix()))"],
        env=_without_simulator(), cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "not found" in done.stderr:
        pytest.skip(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr[-3000:]
    row = json.loads(done.stdout.strip().splitlines()[-1])
    assert row["ffma"] == 512, row                 # 8 k-steps × 8×8 FMAs, fully unrolled
    assert row["ffma"] / row["instructions"] >= 0.78, row
    assert row["lds128"] == 32 and "lds" not in row, row
    assert row["control"] <= 4, row
