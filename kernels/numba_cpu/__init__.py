"""Optimised CPU kernels compiled with numba; they take numpy arrays (backend ``"numba"``).

How to add one (there are none yet; this package only loads what exists):

1. Pick the reference file that holds the name, e.g. ``reference/conv.py`` for
   ``"conv2d_forward"``, and create the same-named file here, ``numba_cpu/conv.py``.
2. In it, import numba at the top (so a machine without numba skips the backend), write
   the kernel, and register it::

       from ..catalogue import CATALOGUE

       @CATALOGUE.register("conv2d_forward", "numba", accepts=contiguous_float32)
       def conv2d_forward(x, w, stride, padding, dilation, groups): ...

   ``accepts`` only needs to check dtype/layout/sizes: dispatch never hands a "numba"
   kernel anything but numpy arrays.
3. Do nothing else: ``tests/kernels/test_parity.py`` finds the registration and compares
   it with the reference on hypothesis-drawn cases (odd sizes, strided views, float32
   and float64); ``test_backend_layout.py`` checks the file mirrors its reference.

Every module in this folder is imported when ``minigrad_kernels`` is; if numba is not
installed the whole backend is skipped and the references run.
"""
from ..catalogue import load_backend

LOADED = load_backend(__name__, __path__)
