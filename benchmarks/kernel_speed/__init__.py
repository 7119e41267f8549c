"""Kernel timings: optimised kernels vs their references vs PyTorch (run ``python -m minigrad_benchmarks.kernel_speed``)."""
