"""Random number generators: ``Generator`` and the global ``default_generator``, with
``manual_seed``, ``seed``, ``initial_seed``, ``get_rng_state``, ``set_rng_state`` (as in
``torch.random``).

A ``Generator`` wraps a numpy ``Generator`` over the PCG64 bit generator. Every random
function of minigrad (``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
``bernoulli``, ``multinomial``, dropout, ``nn.init``, the shuffling of ``DataLoader``,
``RandomSampler`` and ``random_split``) draws on the host from the ``generator=`` it is
given, or else from ``default_generator``; tensors for a CUDA device are drawn on the host
and then moved, so CPU and CUDA runs with the same seed see the same numbers. The streams
differ from PyTorch's (Mersenne Twister and Philox): the same seed gives reproducible,
not identical, numbers.

``get_state()`` is the bit generator's state as JSON in a uint8 tensor (PyTorch's
ByteTensor convention, though its layout is ours), so it saves with ``minigrad.save``.
A new ``Generator()`` starts from PyTorch's default seed 67280421310721; the global one is
seeded from the operating system's entropy at import, as PyTorch's is.
"""
import json
import numbers

import numpy as np

from .device import as_device
from .tensor import Tensor

DEFAULT_SEED = 67280421310721    # torch.Generator().initial_seed()
_SEED_RANGE = (-0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff)


def _check_seed(seed):
    """PyTorch's seeds: any int in [−2⁶³, 2⁶⁴); negative ones wrap to their uint64 value."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    if not isinstance(seed, numbers.Real):
        raise TypeError(f"manual_seed expected an int, but got {type(seed).__name__}")
    seed = int(seed)
    if not _SEED_RANGE[0] <= seed <= _SEED_RANGE[1]:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2 ** 64


class Generator:
    """``Generator(device='cpu')``: an independent random stream (module docstring).

    ``manual_seed(seed)`` and ``set_state(state)`` return the generator itself;
    ``seed()`` reseeds from the OS and returns the new seed; ``initial_seed()`` is the
    last seed set. ``generator=`` arguments throughout minigrad take one (a numpy
    ``np.random.Generator`` is accepted as well)."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed = _check_seed(seed)
        self._numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        seed = int(np.random.SeedSequence().entropy) % 2 ** 64
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        encoded = json.dumps(self._numpy.bit_generator.state).encode()
        return Tensor._wrap(np.frombuffer(encoded, dtype=np.uint8).copy())

    def set_state(self, new_state):
        array = new_state.numpy() if isinstance(new_state, Tensor) else np.asarray(new_state)
        if array.dtype != np.uint8 or array.ndim != 1:
            raise TypeError("expected a uint8 tensor as returned by get_state(), got dtype "
                            f"{array.dtype} and shape {tuple(array.shape)}")
        state = json.loads(array.tobytes().decode())
        if state.get("bit_generator") != "PCG64":
            raise RuntimeError("set_state: the state was not saved by a minigrad Generator")
        self._numpy.bit_generator.state = state
        return self

    def __repr__(self):
        return f"<minigrad.Generator object, device={self.device}>"


default_generator = Generator()
default_generator.seed()


def numpy_generator(generator=None):
    """The numpy Generator to draw from: ``generator``'s (a minigrad ``Generator``, or a
    numpy one used as it is), or the global default's."""
    if generator is None:
        return default_generator._numpy
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a minigrad.Generator, not {type(generator).__name__}")


def manual_seed(seed):
    """Seed the global generator (and return it, as PyTorch does)."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the global generator from the OS's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state as a uint8 tensor (``set_rng_state`` restores it)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)
