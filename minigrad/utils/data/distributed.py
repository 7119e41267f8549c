"""``DistributedSampler``: each of ``num_replicas`` processes reads its own share of a
dataset (``torch.utils.data.distributed``).

The epoch's order (a permutation seeded by ``seed + epoch``, or 0..n−1) is padded by
repeating its start until it divides evenly (or cut, with ``drop_last``), then replica r
takes every ``num_replicas``-th index from position r. All replicas must use the same
``seed`` and call ``set_epoch(epoch)`` before each epoch, so they agree on the order and
together cover the data set once. ``num_replicas`` and ``rank`` default to the world
size and rank of the initialised ``minigrad.distributed`` group (RuntimeError, PyTorch's,
when there is none).
"""
import math

from ... import distributed, random
from .sampler import Sampler


class DistributedSampler(Sampler):
    """``DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
    drop_last=False)`` (module docstring)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            if not distributed.is_initialized():
                raise RuntimeError("Requires distributed package to be available: call "
                                   "minigrad.distributed.init_process_group, or pass "
                                   "num_replicas and rank")
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            generator = random.Generator().manual_seed(self.seed + self.epoch)
            indices = random.numpy_generator(generator).permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose order the next iteration draws (all replicas alike)."""
        self.epoch = epoch
