"""minigrad.utils.data: every sample exactly once per epoch, deterministic shuffling,
default_collate's dtype rules (checked against PyTorch), the TensorDataset fast path and
random_split."""
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.utils.data import (DataLoader, Dataset, TensorDataset, Subset, ConcatDataset,
                                 RandomSampler, default_collate, random_split)


class Squares(Dataset):
    """A map-style dataset with mixed sample types (the generic collate path)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full(3, i, dtype=np.float32), "y": i, "w": float(i) / 2, "name": f"s{i}"}

    def __len__(self):
        return self.n


def labels_of(loader):
    return [batch[1].tolist() for batch in loader]


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(),
       drop_last=st.booleans())
def test_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last):
    x = mg.arange(n * 2).reshape(n, 2).float()
    y = mg.arange(n)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last)
    expected_batches = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == expected_batches
    for _ in range(2):                                  # two epochs
        batches = labels_of(loader)
        seen = [i for b in batches for i in b]
        assert len(batches) == expected_batches
        assert all(len(b) == batch_size for b in batches[:-1] if b)
        if drop_last:
            assert len(seen) == expected_batches * batch_size and len(set(seen)) == len(seen)
            assert all(len(b) == batch_size for b in batches)
        else:
            assert sorted(seen) == list(range(n))
        if not shuffle:
            assert seen == list(range(len(seen)))
    for xb, yb in loader:                               # features travel with their labels
        assert xb.tolist() == (x.numpy()[yb.numpy()]).tolist()


def test_shuffling_is_seeded_and_changes_between_epochs():
    ds = TensorDataset(mg.arange(50), mg.arange(50))
    mg.manual_seed(0)
    loader = DataLoader(ds, batch_size=50, shuffle=True)
    first, second = labels_of(loader), labels_of(loader)
    assert first != second                               # a new permutation each epoch
    mg.manual_seed(0)
    assert labels_of(loader) == first                    # reproducible after manual_seed
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert labels_of(DataLoader(ds, batch_size=7, shuffle=True, generator=g1)) == \
        labels_of(DataLoader(ds, batch_size=7, shuffle=True, generator=g2))


def test_fast_path_indexes_whole_batches(monkeypatch):
    """A TensorDataset batch is one index of each tensor, never per-sample __getitem__;
    the values equal what the generic path (a Dataset subclass) collates."""
    x = mg.randn(10, 3)
    y = mg.arange(10)
    ds = TensorDataset(x, y)
    generic = [b for b in DataLoader(Subset(ds, list(range(10))), batch_size=4)]
    monkeypatch.setattr(TensorDataset, "__getitem__",
                        lambda self, i: pytest.fail("per-sample access on the fast path"))
    fast = list(DataLoader(ds, batch_size=4))
    assert len(fast) == len(generic) == 3
    for (fx, fy), (gx, gy) in zip(fast, generic):
        assert fx.tolist() == gx.tolist() and fy.tolist() == gy.tolist()
        assert fx.dtype == gx.dtype == mg.float32 and fy.dtype == gy.dtype == mg.int64


def test_batches_equal_torch_dataloader():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((11, 2)).astype(np.float32)
    y = np.arange(11)
    ours = list(DataLoader(TensorDataset(mg.tensor(x), mg.tensor(y)), batch_size=4))
    theirs = list(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4))
    assert len(ours) == len(theirs)
    for (ox, oy), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(ox.numpy(), tx.numpy())
        np.testing.assert_array_equal(oy.numpy(), ty.numpy())


def test_default_collate_matches_torch_dtypes():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    cases = [[1, 2, 3], [1.5, 2.0], [True, False], [np.float32(1), np.float32(2)],
             [np.int32(1), np.int32(4)],
             [np.zeros((2, 2), np.float16), np.ones((2, 2), np.float16)]]
    for batch in cases:
        ours, theirs = default_collate(batch), torch_collate(batch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        assert ours.tolist() == theirs.tolist() and tuple(ours.shape) == tuple(theirs.shape)


def test_default_collate_structures():
    out = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert set(out) == {"x", "y", "w", "name"}
    assert out["x"].shape == (3, 3) and out["x"].dtype == mg.float32
    assert out["y"].dtype == mg.int64 and out["y"].tolist() == [0, 1, 2]
    assert out["w"].dtype == mg.float64 and out["name"] == ["s0", "s1", "s2"]
    pairs = default_collate([(mg.ones(2), 1), (mg.zeros(2), 0)])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 2) and pairs[1].tolist() == [1, 0]
    Point = namedtuple("Point", "a b")
    point = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(point, Point) and point.a.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])
    custom = DataLoader(Squares(4), batch_size=2, collate_fn=lambda b: len(b))
    assert list(custom) == [2, 2]
    assert list(DataLoader(Squares(2), batch_size=None))[1]["y"] == 1


def test_tensor_dataset_and_friends():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(mg.zeros(3, 2), mg.zeros(4))
    ds = TensorDataset(mg.arange(6), mg.arange(6) * 10)
    assert len(ds) == 6 and [t.item() for t in ds[2]] == [2, 20]
    both = ds + TensorDataset(mg.arange(3), mg.arange(3))
    assert isinstance(both, ConcatDataset) and len(both) == 9 and both[7][0].item() == 1
    assert both[-1][0].item() == 2
    assert len(RandomSampler(ds, replacement=True, num_samples=20)) == 20
    counts = np.bincount(list(RandomSampler(ds, num_samples=9)), minlength=6)
    assert counts.sum() == 9 and counts.min() == 1 and counts.max() == 2   # a permutation + 3


def test_random_split():
    ds = TensorDataset(mg.arange(10))
    mg.manual_seed(3)
    parts = random_split(ds, [3, 7])
    indices = [i for part in parts for i in part.indices]
    assert [len(p) for p in parts] == [3, 7] and sorted(indices) == list(range(10))
    again = random_split(ds, [3, 7], generator=np.random.default_rng(1))
    same = random_split(ds, [3, 7], generator=np.random.default_rng(1))
    assert again[0].indices == same[0].indices
    fractions = random_split(ds, [0.25, 0.25, 0.5])
    assert [len(p) for p in fractions] == [3, 2, 5]          # remainder handed out round robin
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])


def test_loader_argument_errors():
    ds = TensorDataset(mg.arange(4))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=RandomSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
