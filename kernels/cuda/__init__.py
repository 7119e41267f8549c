"""Optimised GPU kernels (numba.cuda or CuPy RawKernel); they take CuPy arrays (backend
``"cuda"``).

How to add one (there are none yet; this package only loads what exists):

1. Create the file named like the reference file that holds the kernel's name, e.g.
   ``cuda/attention.py`` for ``"attention_forward"`` (reference in
   ``reference/attention.py``).
2. Import cupy / ``numba.cuda`` at the top (a machine without them skips the backend),
   write the kernel as a factory with its tile/block sizes as parameters (so tests in the
   CUDA simulator can use tiny tiles, see ``GPU.md``), and register it::

       from ..catalogue import CATALOGUE

       CATALOGUE.register("attention_forward", "cuda", flash_attention_forward,
                          accepts=contiguous_float32)

   Dispatch only ever hands a "cuda" kernel CuPy arrays, so ``accepts`` checks dtype,
   layout and sizes, never the device.
3. ``tests/kernels/test_parity.py`` then compares it with its reference on drawn cases
   (on CuPy arrays where a GPU is present, on numpy arrays under
   ``NUMBA_ENABLE_CUDASIM=1``, and is skipped otherwise).

Every module in this folder is imported when ``minigrad_kernels`` is; without CuPy or
numba-cuda the whole backend is skipped and the references run.
"""
from ..catalogue import load_backend

LOADED = load_backend(__name__, __path__)
