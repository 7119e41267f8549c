"""Samplers (``torch.utils.data.sampler``): what indices an epoch visits, in what order.

``SequentialSampler`` (0..n−1), ``RandomSampler`` (a permutation per epoch, or draws with
replacement), ``SubsetRandomSampler`` (a permutation of given indices),
``WeightedRandomSampler`` (``multinomial`` over weights) and ``BatchSampler`` (lists of
``batch_size`` indices).

Random samplers draw lazily, as PyTorch's do: ``RandomSampler(ds, replacement=True,
num_samples=10**10)`` yields its first index at once and holds only a chunk of 32 draws
(without replacement: one permutation of the dataset at a time). Without a
``generator``, each epoch draws one seed from the global generator when its iteration
starts and then uses a private Generator, so the epoch's order does not depend on what
else draws random numbers while it runs (dropout, say) — PyTorch's scheme.
"""
import itertools

from ... import random
from ...ops.sampling import multinomial
from ...tensor import Tensor
from ... import creation, dtypes

CHUNK = 32   # draws per refill of RandomSampler with replacement (PyTorch's)


def private_generator(generator):
    """``generator``, or a fresh Generator seeded by one draw from the global one."""
    if generator is not None:
        return generator
    seed = int(random.numpy_generator().integers(0, 2 ** 63))
    return random.Generator().manual_seed(seed)


def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


class Sampler:
    """Yields the dataset indices of one epoch."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new permutation every epoch, or ``num_samples`` draws with replacement (module
    docstring: lazy, and seeded per epoch)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        _check_positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        g = random.numpy_generator(private_generator(self.generator))
        if self.replacement:
            full, rest = divmod(self.num_samples, CHUNK)
            for _ in range(full):
                yield from g.integers(0, n, CHUNK).tolist()
            yield from g.integers(0, n, rest).tolist()
            return
        # Whole permutations, then part of one, as PyTorch does for num_samples > n.
        full, rest = divmod(self.num_samples, n)
        for _ in range(full):
            yield from g.permutation(n).tolist()
        if rest:
            yield from g.permutation(n)[:rest].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices``, in a new random order every epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        order = random.numpy_generator(self.generator).permutation(len(self.indices))
        for i in order.tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``
    (with replacement by default), by ``multinomial``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("num_samples", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights = weights.to(dtype=dtypes.float64) if isinstance(weights, Tensor) \
            else creation.tensor(weights, dtype=dtypes.float64)
        if weights.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        self.weights, self.num_samples = weights, num_samples
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        drawn = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from drawn.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


