"""Reference kernels: plain vectorised xp code, one file per op family.

Importing this package registers every reference with ``kernels.catalogue.CATALOGUE``.
These are the test oracles for the optimised numba / CUDA kernels, so they favour
clarity over speed, but never loop in Python over pixels or elements.
"""
from . import (attention, conv, loss, matmul, normalization, optimizer,  # noqa: F401
               pointwise, pooling, quantized, softmax, sparse)  # (registration)
