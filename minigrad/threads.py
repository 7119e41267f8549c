"""``set_num_threads`` / ``get_num_threads``: how many CPU threads one op may use (PyTorch's
names and errors).

minigrad's CPU work runs in two thread pools it does not own:

* the BLAS library under numpy's ``matmul`` (OpenBLAS in numpy's wheels; MKL or others
  elsewhere), and any OpenMP runtime loaded into the process, resized at run time through
  ``threadpoolctl`` — the only portable way, since OpenBLAS reads ``OPENBLAS_NUM_THREADS``
  once, when numpy is imported;
* numba's pool, which runs the ``prange`` loops of ``parallel=True`` kernels
  (``kernels/numba_cpu``), resized with ``numba.set_num_threads``. numba cannot grow past
  ``numba.config.NUMBA_NUM_THREADS`` (its pool is made at that size, by default the core
  count), so a larger request is capped there for numba alone; and numba keeps the count
  per calling thread, so the setting holds for the thread that calls this (a DataLoader
  worker thread keeps numba's default).

``set_num_threads(n)`` sets both pools to ``n``. The library defaults are left alone until
it is called (numpy and numba each start with one thread per core), as PyTorch leaves its
own. A busy 2-core machine is where that default hurts. Measured on one (load average
2.3–2.8 from other work, float32, median of 30): a (64×784)·(784×256) matmul, the seed
MLP's first layer, 0.21 ms on one OpenBLAS thread, 0.14–13 ms on two (p90 0.24 vs 32 ms);
512³: 2.1 ms vs 7–15 ms. Two threads win only when both cores are free, and then by less
than 2×. So the ``minigrad`` command line and the benchmarks default ``--threads`` to 1
and pass it through here; a user on a machine of their own raises it.
"""
import importlib.util
import sys

_requested = None   # the last value given to set_num_threads, None before any call


def _check_count(n, name):
    # PyTorch raises RuntimeError for both a non-int and a non-positive count.
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"{name} expects a positive integer")


def _numba():
    """numba when installed (imported now if need be: once its kernels run they read the
    pool size it holds), else None."""
    if "numba" in sys.modules:
        return sys.modules["numba"]
    if importlib.util.find_spec("numba") is None:
        return None
    import numba
    return numba


def set_num_threads(n):
    """Use ``n`` threads (≥ 1) for BLAS, OpenMP and numba's parallel kernels (see the
    module docstring for the scope of each); ``RuntimeError`` for anything else."""
    global _requested
    _check_count(n, "set_num_threads")
    from threadpoolctl import ThreadpoolController
    # A fresh controller: it sees the libraries loaded by now (torch's BLAS, say), not
    # only those present at minigrad's import.
    ThreadpoolController().limit(limits=n)
    numba = _numba()
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    _requested = n


def get_num_threads():
    """The thread count ops may use: the last ``set_num_threads`` value, or before any call
    the BLAS pool's current size (numba's when no BLAS reports one)."""
    if _requested is not None:
        return _requested
    from threadpoolctl import threadpool_info
    sizes = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    if sizes:
        return max(sizes)
    numba = sys.modules.get("numba")
    return numba.get_num_threads() if numba is not None else 1
