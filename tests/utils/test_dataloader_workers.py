"""DataLoader with worker processes (``num_workers > 0``), the package's module paths,
lazy random samplers and the other samplers: the batches equal ``num_workers=0``'s in
order, worker seeding and ``get_worker_info``, ``worker_init_fn``, exceptions re-raised
with the worker's traceback, dead workers and timeouts detected, workers ended cleanly
(also when an epoch is abandoned), ``persistent_workers``, ``IterableDataset`` split
across workers as PyTorch splits it, and PyTorch's argument errors."""
import itertools
import os
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad.utils.data import (DataLoader, Dataset, IterableDataset, RandomSampler,
                                 SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                                 get_worker_info)


class Samples(Dataset):
    """Sample i: (features, i, worker id, pid, a draw from minigrad's and numpy's global
    generators); some indices fail, kill the worker or sleep, on request."""

    def __init__(self, n, fail_at=None, error=ValueError, exit_at=None, sleep=0.0):
        self.n, self.fail_at, self.error, self.exit_at, self.sleep = n, fail_at, error, exit_at, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise self.error(f"sample {i} is broken")
        if i == self.exit_at:
            os._exit(3)
        if self.sleep:
            time.sleep(self.sleep)
        info = get_worker_info()
        return (mg.full((2,), float(i)), i, -1 if info is None else info.id, os.getpid(),
                float(mg.rand(())), float(np.random.random()))


def indices_of(loader):
    return [batch[1].tolist() for batch in loader]


def worker_pids(iterator):
    return [w.pid for w in iterator._workers]


def test_module_paths_like_torch():
    import minigrad.utils.data.dataloader as dataloader
    from minigrad.utils.data.dataloader import DataLoader as Loader, default_collate
    from minigrad.utils.data.sampler import RandomSampler as Sampler
    from minigrad.utils.data.dataset import Dataset as Base
    assert Loader is DataLoader and Sampler is RandomSampler and Base is Dataset
    assert default_collate is mg.utils.data.default_collate
    assert dataloader.get_worker_info() is None          # in the main process


def test_random_sampler_draws_lazily():
    """PyTorch draws 32 indices at a time: 10¹⁰ samples cost nothing up front."""
    sampler = RandomSampler(range(10), replacement=True, num_samples=10 ** 10)
    assert len(sampler) == 10 ** 10
    start = time.perf_counter()
    first = list(itertools.islice(iter(sampler), 1000))
    assert time.perf_counter() - start < 0.5
    assert all(0 <= i < 10 for i in first) and len(set(first)) == 10
    without = list(itertools.islice(iter(RandomSampler(range(10), num_samples=10 ** 10)), 25))
    assert sorted(without[:10]) == list(range(10)) and sorted(without[10:20]) == list(range(10))


def test_random_sampler_epoch_order_ignores_draws_during_the_epoch():
    """Without a generator an epoch seeds a private generator when it starts, so random
    draws made while it runs (dropout...) do not change its order."""
    mg.manual_seed(4)
    quiet = list(RandomSampler(range(20), replacement=True, num_samples=40))
    mg.manual_seed(4)
    busy = []
    for i in RandomSampler(range(20), replacement=True, num_samples=40):
        mg.rand(5)
        busy.append(i)
    assert quiet == busy


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4, shuffle=True),
    dict(batch_size=3, drop_last=True, prefetch_factor=1),
    dict(batch_size=None),
    dict(batch_size=5, shuffle=True, num_workers=3),
])
def test_workers_give_the_batches_of_one_process(kwargs):
    workers = kwargs.pop("num_workers", 2)
    mg.manual_seed(0)
    alone = list(DataLoader(Samples(23), **{k: v for k, v in kwargs.items()
                                            if k != "prefetch_factor"}))
    mg.manual_seed(0)
    with _warns_too_many_workers_exactly_when(workers > len(os.sched_getaffinity(0))):
        loader = DataLoader(Samples(23), num_workers=workers, **kwargs)
    together = list(loader)
    assert len(together) == len(alone) == len(loader)
    for a, b in zip(alone, together):
        a, b = (a[:2], b[:2])
        assert a[0].tolist() == b[0].tolist()
        assert (a[1].tolist() if hasattr(a[1], "tolist") else a[1]) == \
            (b[1].tolist() if hasattr(b[1], "tolist") else b[1])
    ids = {int(i) for batch in together for i in np.ravel(to_list(batch[2]))}
    pids = {int(p) for batch in together for p in np.ravel(to_list(batch[3]))}
    assert ids == set(range(workers)) and os.getpid() not in pids and len(pids) == workers


def to_list(value):
    return value.tolist() if hasattr(value, "tolist") else value


class _warns_too_many_workers_exactly_when:
    """Expect the too-many-workers UserWarning exactly when ``condition`` holds."""

    def __init__(self, condition):
        self.condition = condition

    def __enter__(self):
        import warnings
        self._catch = warnings.catch_warnings(record=True)
        self.records = self._catch.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        warned = any("worker processes in total" in str(w.message) for w in self.records)
        assert warned == self.condition


def test_tensor_dataset_fast_path_and_unordered_results():
    x, y = mg.randn(50, 3), mg.arange(50)
    ds = TensorDataset(x, y)
    alone = [b[1].tolist() for b in DataLoader(ds, batch_size=8)]
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=8, num_workers=2)] == alone
    unordered = [b[1].tolist() for b in DataLoader(ds, batch_size=8, num_workers=2,
                                                   in_order=False)]
    assert sorted(unordered) == sorted(alone)


def test_worker_seeds_init_fn_and_reproducibility():
    seen = []

    def run():
        loader = DataLoader(Samples(12), batch_size=3, num_workers=2,
                            worker_init_fn=lambda worker_id: np.random.seed(100 + worker_id))
        return [(b[2].tolist(), b[4].tolist(), b[5].tolist()) for b in loader]

    mg.manual_seed(1)
    first = run()
    mg.manual_seed(1)
    assert run() == first                                   # reproducible
    seen = {w: [] for w in (0, 1)}
    for ids, draws, numpy_draws in first:
        seen[ids[0]].append((draws, numpy_draws))
    # Each worker has its own minigrad stream; worker_init_fn reseeded numpy per worker.
    assert seen[0][0][0] != seen[1][0][0]
    assert seen[0][0][1][0] == np.random.RandomState(100).random_sample()
    assert seen[1][0][1][0] == np.random.RandomState(101).random_sample()
    mg.manual_seed(2)
    assert run() != first                                   # the base seed follows manual_seed


def test_worker_info_inside_worker():
    class Info(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return info.id, info.num_workers, info.seed, info.dataset is not None

    batches = list(DataLoader(Info(), batch_size=None, num_workers=2))
    assert [b[0] for b in batches] == [0, 1, 0, 1]
    assert all(b[1] == 2 and b[3] for b in batches)
    assert batches[1][2] == batches[0][2] + 1                # seed = base seed + worker id


@pytest.mark.parametrize("error", [ValueError, KeyError, IndexError])
def test_worker_exception_is_reraised_with_its_traceback(error):
    loader = DataLoader(Samples(20, fail_at=13, error=error), batch_size=4, num_workers=2)
    got = []
    with pytest.raises(error) as info:
        for batch in loader:
            got.append(batch[1].tolist())
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]    # the batches before it
    message = str(info.value)
    assert "Caught " + error.__name__ + " in DataLoader worker process 1" in message
    assert "Original Traceback (most recent call last)" in message
    assert 'raise self.error(f"sample {i} is broken")' in message and "sample 13" in message


def test_worker_init_fn_exception_reaches_the_main_process():
    def init(worker_id):
        raise RuntimeError(f"cannot start worker {worker_id}")

    with pytest.raises(RuntimeError, match="cannot start worker 0"):
        list(DataLoader(Samples(8), batch_size=2, num_workers=2, worker_init_fn=init))


def test_dead_worker_and_timeout_are_detected():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(Samples(8, exit_at=5), batch_size=2, num_workers=2))
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Samples(2, sleep=0.6), batch_size=1, num_workers=1, timeout=0.2))


def test_workers_end_cleanly():
    loader = DataLoader(Samples(10), batch_size=2, num_workers=2)
    iterator = iter(loader)
    workers = list(iterator._workers)
    assert all(w.is_alive() for w in workers)
    assert len(list(iterator)) == 5
    assert not any(w.is_alive() for w in workers)            # joined at the end of the epoch
    iterator = iter(loader)
    workers = list(iterator._workers)
    next(iterator)                                           # abandon the epoch early
    del iterator
    assert not any(w.is_alive() for w in workers)
    assert all(w.exitcode == 0 for w in workers)             # asked to stop, not killed


def test_persistent_workers_serve_every_epoch():
    loader = DataLoader(Samples(10), batch_size=3, num_workers=2, persistent_workers=True)
    epochs, pids = [], []
    for _ in range(3):
        epochs.append(indices_of(loader))
        pids.append(worker_pids(loader._iterator))
    partial = iter(loader)
    next(partial)                                            # abandoned mid-epoch...
    assert indices_of(loader) == epochs[0]                   # ...the next epoch is whole
    assert epochs == [[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]] * 3
    assert pids[0] == pids[1] == pids[2] == worker_pids(loader._iterator)
    workers = list(loader._iterator._workers)
    loader._iterator._shutdown_workers()
    assert not any(w.is_alive() for w in workers)


class Stream:
    """An iterable dataset that splits its range between workers (PyTorch's recipe)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = self.info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("workers,kwargs", [(0, dict(batch_size=4)), (2, dict(batch_size=4)),
                                            (2, dict(batch_size=2, drop_last=True)),
                                            (2, dict(batch_size=None))])
def test_iterable_dataset_equals_torch(workers, kwargs):
    torch = pytest.importorskip("torch")
    ours_cls = type("Ours", (Stream, IterableDataset), {"info": staticmethod(get_worker_info)})
    theirs_cls = type("Theirs", (Stream, torch.utils.data.IterableDataset),
                      {"info": staticmethod(torch.utils.data.get_worker_info)})
    ours = [to_list(b) for b in DataLoader(ours_cls(13), num_workers=workers, **kwargs)]
    theirs = [to_list(b) for b in torch.utils.data.DataLoader(theirs_cls(13),
                                                              num_workers=workers, **kwargs)]
    assert ours == theirs
    assert len(DataLoader(ours_cls(13), **kwargs)) == \
        len(torch.utils.data.DataLoader(theirs_cls(13), **kwargs))


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(persistent_workers=True), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="teleport"),
    dict(batch_size=None, drop_last=True),
])
def test_argument_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    outcomes = []
    for loader, data in ((DataLoader, Samples(4)),
                         (torch.utils.data.DataLoader, torch.utils.data.TensorDataset(
                             torch.arange(4)))):
        with pytest.raises(ValueError) as info:
            loader(data, **kwargs)
        outcomes.append(str(info.value).split(" in [")[0])
    assert outcomes[0] == outcomes[1]


def test_pin_memory_accepted_and_warns_without_cuda():
    torch = pytest.importorskip("torch")
    if mg.cuda_is_available():
        pytest.skip("a CUDA device is present")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                                         "accelerator is found"):
        batches = list(DataLoader(Samples(4), batch_size=2, num_workers=1, pin_memory=True))
    assert len(batches) == 2
    with pytest.warns(UserWarning, match="no accelerator is found"):
        list(torch.utils.data.DataLoader(torch.arange(4), pin_memory=True))


def test_weighted_and_subset_random_samplers():
    torch = pytest.importorskip("torch")
    g = mg.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g))
    counts = np.bincount(draws, minlength=3) / 4000
    assert counts[0] == 0 and abs(counts[2] - 0.75) < 0.03
    assert sorted(WeightedRandomSampler([1.0, 2.0, 0.5], 3, replacement=False)) == [0, 1, 2]
    assert sorted(SubsetRandomSampler([7, 3, 9], generator=g)) == [3, 7, 9]
    assert len(SubsetRandomSampler([7, 3, 9])) == 3
    for make in (lambda m: m.WeightedRandomSampler([1.0], 0),
                 lambda m: m.WeightedRandomSampler([1.0], 2, replacement=1),
                 lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
                 lambda m: m.RandomSampler(range(3), num_samples=0)):
        outcomes = []
        for module in (mg.utils.data, torch.utils.data):
            with pytest.raises(ValueError) as info:
                make(module)
            outcomes.append(str(info.value))
        assert outcomes[0] == outcomes[1]
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)


@pytest.mark.parametrize("workers", [0, 2])
def test_iterating_draws_nothing_from_the_generator(workers):
    """(PyTorch draws the workers' base seed from the generator on every iteration; here
    it is a hash of the generator's state, so an evaluation pass or a change of
    num_workers leaves the training run's random numbers as they were.)"""
    mg.manual_seed(3)
    expected = mg.rand(4).tolist()
    data = TensorDataset(mg.zeros(9), mg.arange(9))     # samples that draw nothing
    mg.manual_seed(3)
    list(DataLoader(data, batch_size=2, num_workers=workers))
    assert mg.rand(4).tolist() == expected
    mg.manual_seed(3)
    order = indices_of(DataLoader(data, batch_size=3, shuffle=True, num_workers=workers))
    after = mg.rand(4).tolist()
    mg.manual_seed(3)
    assert indices_of(DataLoader(data, batch_size=3, shuffle=True)) == order
    assert mg.rand(4).tolist() == after


def test_each_epoch_gets_new_worker_seeds():
    loader = DataLoader(Samples(4), batch_size=None, num_workers=1)
    mg.manual_seed(0)
    first, second = [b[4] for b in loader], [b[4] for b in loader]
    assert first != second
    mg.manual_seed(0)
    again = DataLoader(Samples(4), batch_size=None, num_workers=1)
    assert [b[4] for b in again] == first


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 5, False),
                                                  (12, 4, False), (11, 2, True)])
def test_distributed_sampler_like_torch(n, replicas, drop_last):
    """Unshuffled shares equal PyTorch's exactly; shuffled ones (another random stream)
    have PyTorch's sizes, agree between replicas and cover the data set."""
    torch = pytest.importorskip("torch")
    from minigrad.utils.data.distributed import DistributedSampler
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    data = list(range(n))
    ours = [list(DistributedSampler(data, replicas, r, shuffle=False, drop_last=drop_last))
            for r in range(replicas)]
    theirs = [list(TorchSampler(data, replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    assert ours == theirs
    shuffled = [DistributedSampler(data, replicas, r, seed=5, drop_last=drop_last)
                for r in range(replicas)]
    first = [list(s) for s in shuffled]
    assert [len(s) for s in first] == [len(s) for s in theirs]
    covered = {i for share in first for i in share}
    assert covered == set(data) if not drop_last else len(covered) == sum(map(len, first))
    for s in shuffled:
        s.set_epoch(1)
    second = [list(s) for s in shuffled]
    assert second != first or n < 3
    assert [list(s) for s in shuffled] == second             # the epoch fixes the order
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(data, 3, 3)
    with pytest.raises(RuntimeError, match="Requires distributed package"):
        DistributedSampler(data)
