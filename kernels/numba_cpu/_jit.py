"""How every numba CPU kernel is compiled: one place for the flags and the cache.

``jit`` is ``numba.njit`` with the house settings:

* ``cache=True``: compiled machine code is written to a cache folder and reused by later
  processes, so only the first run after an install (or an edit) pays the compile. The
  folder is ``$NUMBA_CACHE_DIR`` when set (CI points it at a temp folder), else
  ``~/.cache/minigrad/numba`` (``$XDG_CACHE_HOME`` respected): never the installed
  package, which may be read-only.
* ``fastmath=False``: no reassociation or flush-to-zero, so a kernel's rounding stays
  comparable with its numpy reference (the parity harness holds them to a tolerance).
* ``error_model="numpy"``: float division by zero gives ±∞/NaN as in numpy instead of
  raising ZeroDivisionError; the raise is a branch in every divide, which also keeps LLVM
  from vectorising any loop that divides.
* ``nogil=True``: a kernel releases the GIL, so a DataLoader thread can run beside it.
* ``reassociate=True`` only on small reduction helpers: ``fastmath={"reassoc"}`` and
  nothing else, so LLVM may split ``total += v`` into SIMD lanes (as numpy's pairwise sum
  does); without it a float sum runs one dependent add at a time.  No other fast-math
  liberty (NaN/∞ assumptions, flush-to-zero, contraction) is taken.
* ``parallel=True`` only where asked (``jit(parallel=True)``): loops written with
  ``numba.prange`` then run on numba's thread pool, whose size
  ``minigrad.set_num_threads`` sets.

Kernels are written over C-contiguous arrays; an entry point passes
``numpy.ascontiguousarray`` views, so numba compiles one layout per dtype.
"""
import os
from pathlib import Path

import numba


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "minigrad", "numba")


# numba read $NUMBA_CACHE_DIR when first imported; without one it would cache beside the
# source files, so point it at the user cache folder (read when a kernel first compiles).
if not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = _cache_dir()

prange = numba.prange

# The fused row kernels (softmax, loss, normalization, pointwise) are written with prange
# but compiled serially.  numba's OpenMP workers spin after every parallel region, and at
# the GPT's sizes a call lasts ~0.1 ms, so on the shared 2-core machine two threads cost
# more than they gave: tests/nn + tests/models took 70 s instead of 25 s.  Set True (one
# place) where the sizes and cores make a parallel launch pay.
FUSED_PARALLEL = False


def jit(function=None, *, parallel=False, reassociate=False):
    """``numba.njit`` with the house settings (see the module docstring)."""
    fastmath = {"reassoc"} if reassociate else False

    def compile_(fn):
        return numba.njit(cache=True, fastmath=fastmath, error_model="numpy", nogil=True,
                          parallel=parallel)(fn)
    return compile_(function) if function is not None else compile_
