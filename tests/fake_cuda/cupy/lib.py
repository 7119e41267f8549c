"""``cupy.lib.stride_tricks`` of the fake CuPy: views are always writable (no flag)."""
import types

import numpy as _np

from . import _call, ndarray  # noqa: F401


def as_strided(x, shape=None, strides=None):
    if type(x) is not ndarray:
        raise TypeError(f"Unsupported type {type(x)}")
    return ndarray._of(_np.lib.stride_tricks.as_strided(x._a, shape, strides, writeable=True))


stride_tricks = types.SimpleNamespace(as_strided=as_strided)
