"""What runs inside a DataLoader worker process, and what travels back from it.

A worker (``worker_loop``) is started by the main process with the dataset, its own
index queue and the shared result queue. It seeds minigrad's global generator, Python's
``random`` and numpy's legacy global generator from ``base_seed + worker_id`` (one base
seed per epoch iterator, drawn in the main process; PyTorch's scheme), sets up
``get_worker_info()``, runs ``worker_init_fn(worker_id)``, then repeats: take a task
``(epoch, index, batch indices)``, build the batch with the same ``Fetcher`` the
single-process loader uses, put ``(epoch, index, batch)`` on the result queue. A ``None``
task ends it. An exception becomes an ``ExceptionWrapper`` carrying the worker's
formatted traceback, re-raised by the main process when that batch's turn comes; an
``IterableDataset`` that runs out sends ``IterableExhausted`` instead of a batch.
"""
import os
import queue
import random as python_random
import sys
import traceback

import numpy as np

from ... import random
from .collate import default_collate
from .dataset import IterableDataset, TensorDataset

#: how often (seconds) a waiting worker checks that the loader has not shut down (its
#: ``None`` may never arrive: at interpreter exit the main process's queue threads are
#: gone) and that its parent still lives
STATUS_CHECK_INTERVAL = 0.1


class WorkerInfo:
    """``get_worker_info()`` inside a worker: ``id``, ``num_workers``, ``seed`` and the
    worker's copy of ``dataset`` (read-only attributes, as in PyTorch)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        fields = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.__slots__)
        return f"WorkerInfo({fields})"


_worker_info = None


def get_worker_info():
    """The current worker's ``WorkerInfo``, or None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, with its traceback as text (tracebacks do not
    pickle); ``reraise()`` raises the same type in the main process with PyTorch's
    message "Caught <Type> in DataLoader worker process <id>.\\nOriginal Traceback ..."."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            message = KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:
            raise RuntimeError(message) from None
        raise exception


class KeyErrorMessage(str):
    """KeyError quotes its argument in ``str()``; this keeps the traceback readable."""

    def __repr__(self):
        return str(self)


class IterableExhausted:
    """A worker's answer once its copy of an IterableDataset has run out."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class Fetcher:
    """Turns one entry of the (batch) sampler into what the loader yields.

    Map-style: with batching (``auto_collation``), ``collate_fn([dataset[i] for i in
    indices])`` — for a ``TensorDataset`` with the default collate one fancy index per
    tensor, ``[t[indices] for t in tensors]``, the same values without a loop per sample;
    without, ``collate_fn(dataset[index])``. Iterable: the next ``len(indices)`` samples
    of the dataset's iterator (the indices are placeholders); StopIteration when none are
    left (or, with ``drop_last``, fewer than a batch)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last, default_collate_fn):
        self.dataset, self.auto_collation = dataset, auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last
        self.iterable = isinstance(dataset, IterableDataset)
        self.iterator = iter(dataset) if self.iterable else None
        self.fast = (not self.iterable and auto_collation and default_collate_fn
                     and isinstance(dataset, TensorDataset))

    def __call__(self, indices):
        if self.iterable:
            if not self.auto_collation:
                return self.collate_fn(next(self.iterator))
            batch = []
            for _ in indices:
                try:
                    batch.append(next(self.iterator))
                except StopIteration:
                    break
            if not batch or (self.drop_last and len(batch) < len(indices)):
                raise StopIteration
            return self.collate_fn(batch)
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        if self.fast:
            index = np.asarray(indices, dtype=np.int64)
            return [t[index] for t in self.dataset.tensors]   # a list, like collate
        return self.collate_fn([self.dataset[i] for i in indices])


def seed_worker(seed, worker_id, base_seed):
    """Seed every global generator a worker's code may draw from."""
    random.manual_seed(seed)
    python_random.seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def worker_loop(dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers):
    """The body of worker process ``worker_id`` (module docstring)."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        seed_worker(seed, worker_id, base_seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        failure = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = Fetcher(dataset, auto_collation, collate_fn, drop_last,
                              collate_fn is default_collate)
        except Exception:
            failure = ExceptionWrapper(sys.exc_info(), where)
        parent = os.getppid()
        exhausted = False
        while True:
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent:   # shut down, or orphaned
                    break
                continue
            if task is None:
                break
            epoch, index, indices = task
            if task[0] == "reset":                # a new epoch of an IterableDataset
                fetcher, exhausted = Fetcher(dataset, auto_collation, collate_fn, drop_last,
                                             collate_fn is default_collate), False
                continue
            if done_event.is_set() or exhausted:
                continue
            if failure is not None:
                data, failure = failure, None
            else:
                try:
                    data = fetcher(indices)
                except StopIteration:
                    if not fetcher.iterable:
                        data = ExceptionWrapper(sys.exc_info(), where)
                    else:
                        data, exhausted = IterableExhausted(worker_id), True
                except Exception:
                    data = ExceptionWrapper(sys.exc_info(), where)
            data_queue.put((epoch, index, data))
            del data
    except KeyboardInterrupt:
        pass                                      # the main process handles Ctrl-C
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
