"""``DataLoader``: batches of a dataset, loaded in the calling process or in worker
processes (``torch.utils.data.dataloader``).

A loader composes three small pieces:

    sampler        → indices of one epoch (0..n−1 in order, or a fresh permutation)
    batch sampler  → those indices in lists of ``batch_size`` (the last one shorter, or
                     dropped with ``drop_last``)
    fetch          → the samples ``dataset[i]`` of one list, collated into batch tensors
                     (``worker.Fetcher``)

so each epoch visits every sample exactly once (``drop_last`` aside). With
``batch_size=None`` it yields the samples themselves; an ``IterableDataset`` is read as a
stream instead of indexed.

``num_workers = 0`` fetches in the calling process. ``num_workers = k > 0`` starts k
processes (``multiprocessing``, its default start method or ``multiprocessing_context``)
that each run ``worker.worker_loop``. The main process keeps up to
``prefetch_factor · k`` batches requested, handing the sampler's index lists to the
workers in turn, and yields the results in sampler order (``in_order=True``; the default),
holding early arrivals back — so the batches are exactly those of ``num_workers=0``,
whatever the timing. ``in_order=False`` yields whichever batch is ready first. A worker's
exception is raised in the main process, as its own type, with the worker's traceback in
the message; a worker that dies raises RuntimeError naming its pid; ``timeout > 0``
bounds the wait for one batch. The workers end when an epoch is exhausted, or when the
iterator is dropped; with ``persistent_workers=True`` they serve every epoch of the loader
and end with it.

Randomness: worker i seeds minigrad, ``random`` and numpy from ``base seed + i`` before
``worker_init_fn(i)`` (PyTorch's scheme), with one base seed per epoch's iterator.
Unlike PyTorch, which draws that seed from the generator each time a loader is iterated
(with or without workers), it is a hash of the generator's state and the loader's epoch
count (``_base_seed``): iterating a loader draws nothing, so evaluation loops and
``num_workers`` leave the training run's random numbers alone (and resuming from a saved
generator state stays exact). Shuffling happens in the main process, so the order of an
epoch does not depend on ``num_workers`` either.

Batches come back to the main process pickled through a pipe (no shared memory), so
workers pay off when producing a sample costs more than copying it: decoding, augmenting,
reading files — not when each sample is a slice of an array already in memory (see the
``TensorDataset`` fast path of ``worker.Fetcher``, which the main process runs at numpy
speed). ``pin_memory`` is accepted; with no CUDA device it warns and does nothing, as
PyTorch does. With one, batches still come back in ordinary host memory (minigrad does not
page-lock; ``Tensor.pin_memory`` copies on the host), and ``batch.to('cuda',
non_blocking=True)`` is a plain copy.
"""
import hashlib
import itertools
import json
import multiprocessing
import os
import queue
import time
import warnings

from ... import random
from ...device import cuda_is_available
from .collate import default_collate
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import (ExceptionWrapper, Fetcher, IterableExhausted, get_worker_info,  # noqa: F401
                     worker_loop)

__all__ = ["DataLoader", "default_collate", "get_worker_info"]

#: how long (seconds) the main process waits on the result queue before it checks that
#: the workers are still alive
STATUS_CHECK_INTERVAL = 1.0
#: how long shutdown waits for each worker to exit before terminating it
JOIN_TIMEOUT = 5.0


class _InfiniteConstantSampler(Sampler):
    """The "indices" of an IterableDataset: None forever (the stream decides the end)."""

    def __iter__(self):
        while True:
            yield None


def _suggested_max_workers():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


class DataLoader:
    """``DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, multiprocessing_context=None, generator=None, *,
    prefetch_factor=None, persistent_workers=False, pin_memory_device='', in_order=True)``
    (module docstring). ``generator`` is a ``minigrad.Generator`` (or numpy Generator)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None, generator=None,
                 *, prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.persistent_workers, self.in_order = persistent_workers, in_order
        self.multiprocessing_context = multiprocessing_context
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else _identity)
        self._iterator = None
        self._epochs_started = 0
        if num_workers > 0:
            suggested = _suggested_max_workers()
            if suggested is not None and num_workers > suggested:
                warnings.warn(f"This DataLoader will create {num_workers} worker processes in "
                              f"total. Our suggested max number of worker in current system is "
                              f"{suggested}, which is smaller than what this DataLoader is going "
                              "to create. Please be aware that excessive worker creation might "
                              "get DataLoader running slow or even freeze, lower the worker "
                              "number to avoid potential slowness/freeze if necessary.",
                              UserWarning, stacklevel=2)

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers=0")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid start "
                                     f"method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
        self._multiprocessing_context = context

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        if not self.persistent_workers:
            return _MultiProcessIterator(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIterator(self)
        else:
            self._iterator._reset()
        return self._iterator

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last \
                    else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


def _identity(sample):
    return sample


def _base_seed(generator, epoch):
    """The workers' base seed for a loader's ``epoch``-th iterator: a hash of the
    generator's state (``generator``, or the global one) and ``epoch``, drawing nothing.
    PyTorch draws it from the generator on every iteration, even with no workers; here an
    evaluation loop or a change of ``num_workers`` leaves the main process's random
    numbers (dropout, the next shuffles) exactly as they were, while ``manual_seed`` still
    fixes the workers' seeds and each epoch still gets new ones."""
    state = random.numpy_generator(generator).bit_generator.state
    text = json.dumps([state, epoch], sort_keys=True,
                      default=lambda value: value.tolist())   # numpy arrays in MT19937's
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


class _BaseIterator:
    def __init__(self, loader):
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = _base_seed(loader.generator, loader._epochs_started)
        loader._epochs_started += 1
        if loader.pin_memory and not cuda_is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", UserWarning, stacklevel=3)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)


class _SingleProcessIterator(_BaseIterator):
    """``num_workers=0``: fetch each batch when it is asked for."""

    def __init__(self, loader):
        super().__init__(loader)
        self._fetch = Fetcher(loader.dataset, loader._auto_collation, loader.collate_fn,
                              loader.drop_last, loader.collate_fn is default_collate)

    def __next__(self):
        return self._fetch(next(self._sampler_iter))


class _MultiProcessIterator(_BaseIterator):
    """``num_workers > 0`` (module docstring). Tasks and results carry the epoch number,
    so a persistent worker's late answers to an abandoned epoch are recognised and
    dropped."""

    def __init__(self, loader):
        super().__init__(loader)
        context = loader.multiprocessing_context or multiprocessing
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._timeout = loader.timeout
        self._in_order, self._persistent = loader.in_order, loader.persistent_workers
        self._iterable = isinstance(loader.dataset, IterableDataset)
        self._data_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues, self._workers = [], []
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()
            worker = context.Process(target=worker_loop, daemon=True, args=(
                loader.dataset, index_queue, self._data_queue, self._done_event,
                loader._auto_collation, loader.collate_fn, loader.drop_last, self._base_seed,
                loader.worker_init_fn, worker_id, self._num_workers))
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._shutdown = False
        self._epoch = -1
        self._reset(first=True)

    def _reset(self, first=False):
        """Start an epoch: a new pass of the sampler and the first ``prefetch`` tasks."""
        if not first:
            self._sampler_iter = iter(self._loader._index_sampler)
            if self._iterable:        # each worker's stream starts over
                for index_queue in self._index_queues:
                    index_queue.put(("reset", None, None))
        self._epoch += 1
        self._send_idx = 0            # the next task's number
        self._rcvd_idx = 0            # the next batch to yield (in order)
        self._task_info = {}          # number → [worker] or [worker, data]
        self._workers_active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch):
            self._try_put_index()

    def _try_put_index(self):
        if not any(self._workers_active):
            return
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker = next(self._worker_cycle)
            if self._workers_active[worker]:
                break
        self._index_queues[worker].put((self._epoch, self._send_idx, indices))
        self._task_info[self._send_idx] = [worker]
        self._send_idx += 1

    def _get_data(self):
        """The next (task number, data) of this epoch from the result queue, checking the
        workers' health and the loader's timeout while it waits."""
        start = time.monotonic()
        while True:
            wait = STATUS_CHECK_INTERVAL
            if self._timeout > 0:
                wait = min(wait, max(self._timeout - (time.monotonic() - start), 0))
            try:
                epoch, index, data = self._data_queue.get(timeout=wait)
            except queue.Empty:
                dead = [w.pid for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    pids = ", ".join(map(str, dead))
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                       "unexpectedly") from None
                if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} "
                                       "seconds") from None
                continue
            if epoch == self._epoch:
                return index, data

    def __next__(self):
        while True:
            # Skip tasks whose worker ran out of stream before answering.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_active[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:                     # arrived earlier, held back
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            index, data = self._get_data()
            if isinstance(data, IterableExhausted):
                self._workers_active[data.worker_id] = False
                self._task_info.pop(index, None)
                continue
            if index == self._rcvd_idx:
                del self._task_info[index]
                self._rcvd_idx += 1
                return self._process(data)
            if not self._in_order:
                del self._task_info[index]
                return self._process(data)
            self._task_info[index].append(data)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self):
        """Ask every worker to stop, wait a little, then terminate the stragglers."""
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for index_queue in self._index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.join(timeout=JOIN_TIMEOUT)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for index_queue in self._index_queues:
            index_queue.close()
        self._data_queue.cancel_join_thread()
        self._data_queue.close()

    def __del__(self):
        if getattr(self, "_workers", None) is not None and hasattr(self, "_shutdown"):
            self._shutdown_workers()
