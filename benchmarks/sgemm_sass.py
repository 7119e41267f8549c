"""Instruction mix of the SGEMM's main loop in SASS (sm_90), on CPU: no GPU needed.

    python -m minigrad_benchmarks.sgemm_sass [--md PATH]

Compiles each variant with ``numba.cuda.compile_ptx`` → ``ptxas -arch=sm_90 -v`` →
``cuobjdump -sass`` (``cuobjdump``/``nvdisasm`` from the pip wheels
``nvidia-cuda-cuobjdump``/``nvidia-cuda-nvdisasm`` 13.2, on PATH or in the CUDA 13 wheel
folder; not a project dependency) and counts the instructions of one k-tile (BK k-steps)
of the main loop: the backward branch whose body holds the most FFMA; a loop nested in it
(the scalar design's k-step loop) counts BK times.  Prints, and writes as Markdown, one row
per variant with the roofline-style ceiling its mix allows (module ``ceiling``).
Needs numba-cuda with the CUDA 13.0 toolkit wheels and the simulator off, like
``kernels/cuda/_compile.py``.
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import tempfile

from numba import cuda, float32

from minigrad_kernels.cuda import matmul
from minigrad_kernels.cuda._compile import find_ptxas, parse_ptxas
from minigrad_kernels.cuda._sgemm_scalar import make_scalar_sgemm

BATCHED = float32[:, :, ::1]
# H100 SXM (GPU-kernels.md §1): 132 SMs × 4 schedulers × 1 warp-instruction per clock;
# FFMA peak 66.9 TFLOP/s at 1.98 GHz; cuBLAS fp32 measured 51.0 TFLOP/s at 4096³.
SMS, PEAK_TFLOPS, CUBLAS_TFLOPS = 132, 66.9, 51.0
INTEGER = ("IADD", "IMAD", "LEA", "SHF", "ISETP", "SEL", "LOP", "MOV", "IMNMX", "PRMT", "U",
           "S2R", "S2UR", "P2R", "R2P", "PLOP", "IABS", "I2F", "F2I", "LDC", "CS2R", "VIADD")


def _instructions(sass):
    rows = []
    for line in sass.splitlines():
        found = re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
        if found:
            rows.append((int(found.group(1), 16), found.group(2).strip()))
    return rows


def _opcode(text):
    return re.sub(r"^@!?U?P[0-9T]+\s+", "", text).split()[0]


def main_loop(sass, trips):
    """Opcode counts of one trip of the main loop (most FFMA), nested loops × ``trips``."""
    rows = _instructions(sass)
    loops = []
    for address, text in rows:
        target = re.search(r"BRA (0x[0-9a-f]+)", text)
        if target and int(target.group(1), 16) < address:
            loops.append((int(target.group(1), 16), address))

    def counts(start, end):
        return collections.Counter(_opcode(t) for a, t in rows if start <= a <= end)

    def ffma(counter):
        return sum(v for k, v in counter.items() if k.startswith("FFMA"))
    # Most FFMA; of loops tied on it, the outermost (it holds the others).
    start, end = max(loops, key=lambda span: (ffma(counts(*span)), span[1] - span[0]))
    total = counts(start, end)
    for inner in loops:
        if start <= inner[0] and inner[1] <= end and inner != (start, end):
            for opcode, n in counts(*inner).items():
                total[opcode] += (trips - 1) * n
    return total


def mix(counter):
    n = sum(counter.values())
    group = collections.Counter()
    for opcode, count in counter.items():
        if opcode.startswith("FFMA"):
            group["ffma"] += count
        elif opcode == "LDS.128":
            group["lds128"] += count
        elif opcode.startswith("LDS"):
            group["lds"] += count
        elif opcode.startswith(("LDG", "STS", "STG", "LDL", "STL")):
            group["global_or_store"] += count
        elif opcode.startswith(("BRA", "BAR", "EXIT", "BSYNC", "BSSY", "WARPSYNC")):
            group["control"] += count
        elif opcode.startswith(INTEGER):
            group["integer_address"] += count
        else:
            group["other"] += count
    return dict(instructions=n, **group)


def ceiling(ffma_share, blocks, sms=SMS):
    """% of FFMA peak the mix allows: issue-bound (each SM sub-partition issues one warp-
    instruction per clock and FFMA needs one issue slot per 32 FMAs, so the FFMA share of
    issued instructions bounds the share of peak), no stalls, main loop only, an SM at full
    issue rate with any number of resident blocks (optimistic for one block of 2–8 warps),
    times the balance blocks / (sms · ⌈blocks / sms⌉): the busiest SM sets the time."""
    per_sm = -(-blocks // sms)
    return 100 * ffma_share * blocks / (sms * per_sm)


def variants():
    tiles = matmul.GPU_TILES
    rows = [("scalar design (before), nn", make_scalar_sgemm(**tiles, trans_a=False,
                                                             trans_b=False), tiles)]
    for aligned in (True, False):
        for trans_a in (False, True):
            for trans_b in (False, True):
                name = ("aligned " if aligned else "ragged ") + "nt"[trans_a] + "nt"[trans_b]
                rows.append((name, matmul.make_sgemm(**tiles, trans_a=trans_a, trans_b=trans_b,
                                                     aligned=aligned), tiles))
    for name, tiles in matmul.GPU_CANDIDATE_TILES.items():
        rows.append((f"aligned nn, {name} candidate", matmul.make_sgemm(**tiles, aligned=True),
                     tiles))
    return rows


def measure(kernel, tiles, ptxas, cuobjdump):
    ptx, _ = cuda.compile_ptx(kernel.py_func, (BATCHED,) * 3, cc=(9, 0),
                              launch_bounds=kernel.launch_bounds)
    with tempfile.TemporaryDirectory() as folder:
        source, cubin = os.path.join(folder, "k.ptx"), os.path.join(folder, "k.cubin")
        with open(source, "w") as handle:
            handle.write(ptx)
        done = subprocess.run([ptxas, "-arch=sm_90", "-v", source, "-o", cubin],
                              capture_output=True, text=True, check=True)
        env = dict(os.environ)               # cuobjdump runs nvdisasm from PATH
        env["PATH"] = os.path.dirname(cuobjdump) + os.pathsep + env.get("PATH", "")
        sass = subprocess.run([cuobjdump, "-sass", cubin], capture_output=True, text=True,
                              check=True, env=env).stdout
    row = parse_ptxas(done.stdout + done.stderr)
    row.update(mix(main_loop(sass, tiles["BK"])))
    row["threads"] = kernel.threads
    return row


def aligned_mix(trans_a=False, trans_b=False):
    """``measure``'s row for the production aligned variant (``test_cuda_compile`` gates on
    it); raises ``SystemExit`` when cuobjdump is missing."""
    ptxas = find_ptxas()
    kernel = matmul.make_sgemm(**matmul.GPU_TILES, trans_a=trans_a, trans_b=trans_b,
                               aligned=True)
    return measure(kernel, matmul.GPU_TILES, ptxas, _tool("cuobjdump", ptxas))


def _tool(name, ptxas):
    """``name`` on PATH, beside ``ptxas``, or in the CUDA 13 pip wheels' bin folder."""
    found = shutil.which(name)
    if found:
        return found
    folders = [os.path.dirname(ptxas or "")]
    try:
        import nvidia
        folders += [os.path.join(root, "cu13", "bin") for root in nvidia.__path__]
    except ImportError:
        pass
    for folder in folders:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"{name} not found: pip install nvidia-cuda-cuobjdump "
                     "nvidia-cuda-nvdisasm (13.2) into this environment")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md", help="write the table here as Markdown")
    args = parser.parse_args(argv)
    ptxas = find_ptxas()
    cuobjdump = _tool("cuobjdump", ptxas)
    header = ("| variant | instr / k-tile | FFMA share | LDS.128 | LDS | global+STS | "
              "integer/address | control | registers | smem B | spills | ceiling 4096³ | "
              "ceiling 1024³ |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name, kernel, tiles in variants():
        row = measure(kernel, tiles, ptxas, cuobjdump)
        share = row["ffma"] / row["instructions"]
        cells = [f"{ceiling(share, (n // tiles['BM']) * (n // tiles['BN'])):.0f} %"
                 for n in (4096, 1024)]
        spills = row["spill_stores"] + row["spill_loads"] + row["stack"]
        lines.append(f"| {name} | {row['instructions']} | {100 * share:.0f} % | "
                     f"{row.get('lds128', 0)} | {row.get('lds', 0)} | "
                     f"{row.get('global_or_store', 0)} | {row.get('integer_address', 0)} | "
                     f"{row.get('control', 0)} | {row['registers']} | {row['shared']} | "
                     f"{spills} | {cells[0]} | {cells[1]} |")
        print(lines[-1], flush=True)
    if args.md:
        with open(args.md, "w") as handle:
            handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
