"""Compile every CUDA kernel at its production tile sizes to PTX for ``sm_90`` and read its
resources with ``ptxas -v``; no GPU needed.

    python -m minigrad_kernels.cuda._compile [--arch sm_90] [--json PATH]

prints one row per kernel: registers per thread, static shared memory, stack frame and
spill bytes, plus the shared memory and thread count its launch configuration assumes.
It must run WITHOUT the simulator (``NUMBA_ENABLE_CUDASIM`` unset; the simulator has no
``compile_ptx``), with numba-cuda's CUDA 13.0 toolkit wheels (``GPU.md``: an unpinned
toolkit emits PTX newer than ptxas 13.0 reads).  ``ptxas`` is the one on ``PATH`` or the
pip ``nvidia-cuda-nvcc`` wheel's.  ``tests/kernels/test_cuda_compile.py`` runs it in a
subprocess and asserts no spills, no stack, and registers × threads within one SM.
"""
import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from numba import boolean, cuda, float32, int32, int64

from . import attention, conv, loss, matmul, normalization, optimizer, pointwise, pooling, softmax

ROWS = float32[:, ::1]
VECTOR = float32[::1]
BATCHED = float32[:, :, ::1]
LABELS = int64[::1]
REGISTERS_PER_SM = 65536


# Registers per thread each family's launch plan assumes: the SGEMM's aligned (float4, no
# bounds checks) variants and the implicit-GEMM convs want 2 blocks of 256 threads per SM
# (≤ 128, forced by their launch bound); the SGEMM's ragged variants, whose per-element
# guards need 128–145 registers and spilled under that cap, run 1 block per SM (≤ 160:
# 8 warps, latency hidden by the register prefetch); the memory-bound row kernels full
# occupancy, 2048 threads (≤ 32); the pooling kernels (int32 window arithmetic per thread)
# at least half of it (≤ 64).  Flash attention keeps a 64-float operand row and a 64-float
# accumulator per thread (D/G + DV/G, G threads per row): ≤ 224 registers gives 8 warps per
# SM (2 forward blocks of 128 threads; 4 backward blocks of 64), the shared memory of each
# allowing as many.
REGISTER_BUDGET = dict(sgemm=128, sgemm_ragged=160, conv2d=128, pool2d=64, row=32, attention=224)
# Head dims compiled at production tiles: the benchmark's 64 and the widest accepted, 128.
ATTENTION_HEAD_DIMS = (64, 128)


def register_budget(name):
    """The budget of ``name``'s family (``REGISTER_BUDGET``; ``row`` by default)."""
    if name.startswith("sgemm"):
        return REGISTER_BUDGET["sgemm_ragged" if "ragged" in name else "sgemm"]
    if name.startswith("conv2d"):
        return REGISTER_BUDGET["conv2d"]
    if name.startswith("flash"):
        return REGISTER_BUDGET["attention"]
    return REGISTER_BUDGET["pool2d" if "pool2d" in name else "row"]


def production_kernels():
    """``[(name, kernel, signature, threads, shared_bytes)]``: each kernel at the sizes the
    wrappers launch on a GPU, with the resources its launch configuration assumes."""
    kernels = []
    tiles = matmul.GPU_TILES
    for aligned in (True, False):
        for trans_a in (False, True):
            for trans_b in (False, True):
                kernel = matmul.make_sgemm(**tiles, trans_a=trans_a, trans_b=trans_b,
                                           aligned=aligned)
                name = ("sgemm_" if aligned else "sgemm_ragged_") + (
                    "t" if trans_a else "n") + ("t" if trans_b else "n")
                kernels.append((name, kernel, (BATCHED, BATCHED, BATCHED), kernel.threads,
                                kernel.shared_bytes))
    for label, candidate in matmul.GPU_CANDIDATE_TILES.items():     # gpu_check times these
        kernel = matmul.make_sgemm(**candidate, aligned=True)
        kernels.append((f"sgemm_{label}_nn", kernel, (BATCHED, BATCHED, BATCHED),
                        kernel.threads, kernel.shared_bytes))
    threads = softmax.GPU_THREADS
    for log in (False, True):
        kernels.append(("log_softmax" if log else "softmax", softmax.make_softmax(threads, log),
                        (ROWS, ROWS), threads, 4 * threads))
    threads = normalization.GPU_THREADS
    kernels.append(("layer_norm_forward", normalization.make_layer_norm_forward(threads),
                    (ROWS, VECTOR, VECTOR, int64, int64, float32, ROWS, VECTOR, VECTOR),
                    threads, 4 * threads))
    kernels.append(("layer_norm_backward", normalization.make_layer_norm_backward(threads),
                    (ROWS, ROWS, VECTOR, int64, VECTOR, VECTOR, ROWS), threads, 4 * threads))
    kernels.append(("layer_norm_param_grads", normalization.make_layer_norm_param_grads(
        normalization.GPU_COLUMN_THREADS),
                    (ROWS, ROWS, VECTOR, VECTOR, ROWS, ROWS),
                    normalization.GPU_COLUMN_THREADS, 0))
    threads = loss.GPU_THREADS
    for mode in loss.MODES:
        kernels.append((f"cross_entropy_{mode}", loss.make_cross_entropy(threads, mode),
                        (ROWS, LABELS, VECTOR, int64, int64, float32, VECTOR, VECTOR, VECTOR,
                         VECTOR, ROWS), threads, 4 * threads))
    threads = pointwise.GPU_THREADS
    for approximate in ("none", "tanh"):
        for backward in (False, True):
            name = ("gelu" if approximate == "none" else "gelu_tanh") + (
                "_backward" if backward else "")
            kernels.append((name, pointwise.make_gelu(threads, approximate, backward),
                            (VECTOR, VECTOR, VECTOR), threads, 0))
    threads = optimizer.GPU_THREADS
    kernels.append(("adam_update", optimizer.make_adam(threads),
                    (VECTOR,) * 5 + (int64, int64) + (float32,) * 8, threads, 0))
    kernels += conv.compile_plan() + pooling.compile_plan()
    kernels.extend(attention_kernels())
    return kernels


def attention_kernels():
    """The three flash-attention kernels at ``attention.gpu_tiles`` for each head dim in
    ``ATTENTION_HEAD_DIMS`` (D = DV), named ``flash_<part>_d<D>``, and at d = 64 with two
    threads per row (``_g2``, the candidate ``gpu_check`` times against them)."""
    mask = (BATCHED, int32[::1], int32, int32, boolean, boolean, float32)
    saved = (BATCHED, BATCHED, BATCHED, BATCHED, ROWS, ROWS)        # q, k, v, dO, lse, D
    configs = [(d, "", attention.gpu_tiles(d, d)) for d in ATTENTION_HEAD_DIMS]
    configs.append((64, "_g2", {part: dict(tiles, G=2)
                                for part, tiles in attention.gpu_tiles(64, 64).items()}))
    rows = []
    for d, suffix, tiles in configs:
        forward, backward_kv, backward_q = attention.default_kernels(d, d, tiles)
        for name, kernel, signature in (
                ("forward", forward, (BATCHED,) * 3 + mask + (BATCHED, ROWS)),
                ("backward_kv", backward_kv, saved + mask + (BATCHED, BATCHED)),
                ("backward_q", backward_q, saved + mask + (BATCHED,))):
            rows.append((f"flash_{name}_d{d}{suffix}", kernel, signature, kernel.threads,
                         kernel.shared_bytes))
    return rows


def find_ptxas():
    """Path of ``ptxas``: on PATH, else in the pip ``nvidia-cuda-nvcc`` wheel; None if absent."""
    found = shutil.which("ptxas")
    if found:
        return found
    # CUDA 12's wheel is the package nvidia.cuda_nvcc; CUDA 13's (nvidia-cuda-nvcc 13.x,
    # pulled by cuda-toolkit[nvcc]) puts its tools under nvidia/cu13/bin.
    for package in ("nvidia.cuda_nvcc", "nvidia.cu13", "nvidia"):
        try:
            wheel = importlib.import_module(package)
        except ImportError:
            continue
        for root in getattr(wheel, "__path__", []):
            for folder in ("bin", os.path.join("cu13", "bin")):
                candidate = os.path.join(root, folder, "ptxas")
                if os.path.exists(candidate):
                    return candidate
    return None


_USED = re.compile(r"Used (\d+) registers.*?(?:(\d+) bytes smem)?,?")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")


def parse_ptxas(text):
    """``{registers, shared, stack, spill_stores, spill_loads}`` from ``ptxas -v`` output
    of one entry function."""
    used = re.search(r"Used (\d+) registers", text)
    smem = re.search(r"(\d+) bytes smem", text)
    frame = _FRAME.search(text)
    if not used or not frame:
        raise ValueError(f"unrecognised ptxas -v output:\n{text}")
    return dict(registers=int(used.group(1)), shared=int(smem.group(1)) if smem else 0,
                stack=int(frame.group(1)), spill_stores=int(frame.group(2)),
                spill_loads=int(frame.group(3)))


def resources(kernel, signature, arch="sm_90", ptxas=None):
    """Compile ``kernel`` for ``signature`` and return ``parse_ptxas``'s dict plus the
    compile time; ``ptxas`` None skips the assembler (PTX only)."""
    cc = (int(arch[3:-1]), int(arch[-1]))
    start = time.perf_counter()
    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=cc,
                              launch_bounds=getattr(kernel, "launch_bounds", None))
    row = dict(compile_s=round(time.perf_counter() - start, 2), ptx_lines=ptx.count("\n"),
               fp64_instructions=len(re.findall(r"\.f64\b", ptx)))
    if ptxas is None:
        return row
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "kernel.ptx")
        with open(path, "w") as handle:
            handle.write(ptx)
        done = subprocess.run([ptxas, f"-arch={arch}", "-v", path, "-o",
                               os.path.join(folder, "kernel.cubin")],
                              capture_output=True, text=True, check=True)
    row.update(parse_ptxas(done.stdout + done.stderr))
    return row


def _version(ptxas):
    done = subprocess.run([ptxas, "--version"], capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    return next((line for line in lines if "release" in line), lines[-1] if lines else "?")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--json", help="write the rows here as JSON")
    parser.add_argument("--no-ptxas", action="store_true", help="PTX only")
    args = parser.parse_args(argv)
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        sys.exit("unset NUMBA_ENABLE_CUDASIM: the simulator cannot compile to PTX")
    ptxas = None if args.no_ptxas else find_ptxas()
    rows = []
    for name, kernel, signature, threads, shared in production_kernels():
        row = dict(kernel=name, threads=threads, expected_shared=shared,
                   register_budget=register_budget(name))
        row.update(resources(kernel, signature, args.arch, ptxas))
        rows.append(row)
    header = ("kernel", "threads", "registers", "register_budget", "shared", "expected_shared", "stack",
              "spill_stores", "spill_loads", "fp64_instructions", "compile_s")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row.get(column, "-")) for column in header))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(dict(arch=args.arch, ptxas=ptxas and _version(ptxas),
                           numba_cuda=cuda.implementation, rows=rows), handle, indent=1)
    return rows


if __name__ == "__main__":
    main()
