"""int8 GEMM against float32 BLAS at the seed models' layer shapes, and where the time of
a statically quantised CNN goes.

    python -m benchmarks.int8_gemm [--batch 256] [--repeats 7]

Part 1 times ``kernels.int8_gemm`` (numba) and ``numpy.matmul`` on float32 for the
(M, K) × (K, N) products of each Conv2d (im2col rows M = batch·OH·OW, K = C·kh·kw) and
Linear layer of SeedCNN and SeedMLP, minimum over repeats (one thread, as ``minigrad``
commands run by default). Part 2 times each stage of the int8 Conv2d/Linear forward at
that batch (quantise, im2col, GEMM, rescale) against the float layer.
"""
import argparse
import time

import numpy as np

import minigrad as mg
import minigrad_kernels as kernels
from minigrad.ao.quantization import choose_qparams, per_tensor_affine, qint8, quantize_array

SHAPES = {"cnn conv1 (K=9)": lambda b: (b * 26 * 26, 9, 32),
          "cnn conv2 (K=288)": lambda b: (b * 11 * 11, 288, 64),
          "cnn fc1": lambda b: (b, 1600, 64), "cnn fc2": lambda b: (b, 64, 10),
          "mlp fc1": lambda b: (b, 784, 256), "mlp fc2": lambda b: (b, 256, 128),
          "mlp fc3": lambda b: (b, 128, 10)}


def best_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def gemm_table(batch, repeats):
    rng = np.random.default_rng(0)
    print(f"| layer | M×K×N | float32 matmul ms | int8_gemm ms | float/int8 |")
    print("|---|---|---|---|---|")
    for name, shape in SHAPES.items():
        m, k, n = shape(batch)
        a = rng.integers(-128, 128, (m, k)).astype(np.int8)
        b = rng.integers(-128, 128, (n, k)).astype(np.int8)
        af, bf = a.astype(np.float32), np.ascontiguousarray(b.T.astype(np.float32))
        t_f = best_ms(lambda: af @ bf, repeats)
        t_q = best_ms(lambda: kernels.int8_gemm(a, b), repeats)
        print(f"| {name} | {m}×{k}×{n} | {t_f:.3f} | {t_q:.3f} | {t_f / t_q:.2f} |")


def stage_table(batch, repeats):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (batch, 32, 13, 13)).astype(np.float32)
    conv = mg.nn.Conv2d(32, 64, 3)
    scale, zero = choose_qparams(x.min(), x.max(), qint8, per_tensor_affine)
    q = quantize_array(x, scale, zero, qint8)
    cols = kernels.im2col(q, (3, 3), (1, 1), (0, 0), (1, 1))
    rows = np.ascontiguousarray(cols.transpose(0, 2, 1)).reshape(-1, 288)
    w = rng.integers(-128, 128, (64, 288)).astype(np.int8)
    acc = kernels.int8_gemm(rows, w)
    stages = {"quantise input": lambda: quantize_array(x, scale, zero, qint8),
              "im2col (int8)": lambda: kernels.im2col(q, (3, 3), (1, 1), (0, 0), (1, 1)),
              "patch rows copy": lambda: np.ascontiguousarray(cols.transpose(0, 2, 1)),
              "int8_gemm": lambda: kernels.int8_gemm(rows, w),
              "rescale to float": lambda: acc.astype(np.float32) * np.float32(0.01)}
    xt = mg.from_numpy(x)
    with mg.no_grad():
        float_ms = best_ms(lambda: conv(xt), repeats)
    print(f"\ncnn conv2 at batch {batch}: float32 Conv2d forward {float_ms:.2f} ms; int8 stages:")
    print("| stage | ms |")
    print("|---|---|")
    total = 0.0
    for name, fn in stages.items():
        ms = best_ms(fn, repeats)
        total += ms
        print(f"| {name} | {ms:.2f} |")
    print(f"| total | {total:.2f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    mg.set_num_threads(args.threads)
    gemm_table(args.batch, args.repeats)
    stage_table(args.batch, args.repeats)


if __name__ == "__main__":
    main()
