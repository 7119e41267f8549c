"""minigrad.utils.data: datasets, samplers, ``default_collate`` and ``DataLoader``, with
PyTorch's names, module paths and semantics.

Reading order: ``dataset.py`` (what a dataset is), ``sampler.py`` (which indices an epoch
visits), ``collate.py`` (samples → batch), ``dataloader.py`` (the loader, single- or
multi-process), ``worker.py`` (what runs in a worker process), ``distributed.py`` (a replica's share).
"""
from .dataset import (Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset,
                      ChainDataset, random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,
                      WeightedRandomSampler, BatchSampler)
from .collate import default_collate
from .worker import get_worker_info
from .dataloader import DataLoader
from .distributed import DistributedSampler
from . import dataset, sampler, dataloader, distributed

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "default_collate",
           "get_worker_info", "DataLoader", "DistributedSampler", "dataset", "sampler",
           "dataloader", "distributed"]
