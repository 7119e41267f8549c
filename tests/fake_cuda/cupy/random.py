"""``cupy.random`` of the fake CuPy: its own streams, which differ from numpy's for the same
seed (as CuPy's XORWOW/Philox streams do), giving device arrays."""
import numpy as _np

from . import _call, ndarray  # noqa: F401

_SALT = 0x5EED_C0DA


class RandomState:
    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed=None):
        self._numpy = _np.random.RandomState(None if seed is None else (int(seed) ^ _SALT) % 2 ** 32)

    def __getattr__(self, name):
        method = getattr(self._numpy, name)
        return lambda *args, **kwargs: _call(method, args, kwargs)


class Generator:
    def __init__(self, bit_generator=None):
        seed = getattr(bit_generator, "seed_value", bit_generator)
        self._numpy = _np.random.Generator(_np.random.Philox(None if seed is None else int(seed) ^ _SALT))

    def __getattr__(self, name):
        method = getattr(self._numpy, name)
        return lambda *args, **kwargs: _call(method, args, kwargs)


def default_rng(seed=None):
    return Generator(seed)


_global = RandomState()


def seed(seed=None):
    _global.seed(seed)


def get_random_state():
    return _global


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_global, name)
