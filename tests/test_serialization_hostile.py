"""mg.load on hostile files (issue 11 item 5 and its kind): compressed members, sizes that
lie, .npy headers that claim more than the file holds, duplicate and odd member names,
overlapping members, truncation and non-regular files are refused fast, with bounded
memory, as a RuntimeError naming the file and the member."""
import errno
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
import zlib
from collections import Counter

import numpy as np
import pytest

import minigrad as mg

MB = 1 << 20


def npy(array=None, header=None, body=None):
    """A .npy member: ``array``'s bytes, or ``header`` (a dict) followed by ``body``."""
    buffer = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
        return buffer.getvalue()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + body


def manifest(root):
    raw = json.dumps({"format": "minigrad-npz-1", "root": root}).encode()
    return npy(np.frombuffer(raw, dtype=np.uint8))


TENSOR = {"t": "dict", "items": [[{"t": "str", "v": "w"},
                                  {"t": "tensor", "a": 0, "dtype": "float32",
                                   "requires_grad": False, "parameter": False,
                                   "device": "cpu"}]]}


def build_zip(entries):
    """A zip written byte by byte, so that every field can lie. ``entries``: dicts with
    ``name``, ``data`` (bytes as stored) and optional overrides of the central directory's
    ``method``, ``size`` (uncompressed), ``csize``, ``offset`` and ``crc``."""
    out, central = bytearray(), bytearray()
    for e in entries:
        name = e["name"].encode()
        data = e["data"]
        crc = e.get("crc", zlib.crc32(e.get("plain", data)))
        size, csize = e.get("size", len(e.get("plain", data))), e.get("csize", len(data))
        method = e.get("method", 0)
        offset = len(out)
        out += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, method, 0, 0, crc,
                           csize, size, len(name), 0) + name + data
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, method, 0, 0,
                               crc, csize, size, len(name), 0, 0, 0, 0, 0,
                               e.get("offset", offset)) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(out), 0)
    return bytes(out + central + end)


def load_fails_fast(path, match, limit_mb=8):
    """mg.load(path) raises RuntimeError matching ``match`` within a second, its Python
    and numpy allocations peaking under ``limit_mb`` MB."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(RuntimeError, match=match) as info:
            mg.load(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert peak < limit_mb * MB, f"peaked at {peak / MB:.0f} MB"
    return info.value


def good_entries():
    return [{"name": "a0.npy", "data": npy(np.arange(6, dtype=np.float32))},
            {"name": "__manifest__.npy", "data": manifest(TENSOR)}]


def test_the_hand_built_zip_is_a_valid_checkpoint(tmp_path):
    """The builder itself writes files mg.load accepts (so the refusals below are about
    the one field each of them changes)."""
    path = tmp_path / "ok.pt"
    path.write_bytes(build_zip(good_entries()))
    assert mg.load(path)["w"].tolist() == [0, 1, 2, 3, 4, 5]


def test_deflated_zip_bomb_is_refused_before_inflating(tmp_path):
    """A 64 MB member of zeros deflated to ~64 KB: refused from the zip directory."""
    header = npy(header={"descr": "<f4", "fortran_order": False, "shape": (16 * MB,)}, body=b"")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(header) + b"".join(
        compressor.compress(bytes(MB)) for _ in range(64)) + compressor.flush()
    plain_crc = zlib.crc32(bytes(MB), zlib.crc32(header))
    for _ in range(63):
        plain_crc = zlib.crc32(bytes(MB), plain_crc)
    entries = [{"name": "a0.npy", "data": stream, "method": zipfile.ZIP_DEFLATED,
                "size": len(header) + 64 * MB, "crc": plain_crc},
               {"name": "__manifest__.npy", "data": manifest(TENSOR)}]
    path = tmp_path / "bomb.pt"
    path.write_bytes(build_zip(entries))
    assert path.stat().st_size < MB
    with zipfile.ZipFile(path) as archive:           # a well-formed zip: it would inflate
        assert archive.getinfo("a0.npy").file_size > 64 * MB
    error = load_fails_fast(path, r"member a0\.npy is compressed")
    assert "uncompressed" in str(error)


def test_compressed_copy_of_a_real_checkpoint_is_refused(tmp_path):
    path = tmp_path / "x.pt"
    mg.save({"w": mg.ones(3)}, path)
    with np.load(path) as npz, open(tmp_path / "z.pt", "wb") as f:
        np.savez_compressed(f, **dict(npz))
    load_fails_fast(tmp_path / "z.pt", r"is compressed")


@pytest.mark.parametrize("size,csize,match", [
    (0xFFFF0000, None, r"a0\.npy declares 4294901760 bytes but stores"),
    (0xFFFF0000, 0xFFFF0000, r"a0\.npy declares 4294901760 bytes at offset 0, past the end"),
    (10, 10, r"a0\.npy"),                   # fewer than the header: npy header cut short
])
def test_declared_sizes_that_lie_are_refused(size, csize, match, tmp_path):
    entries = good_entries()
    entries[0]["size"] = size
    if csize is not None:
        entries[0]["csize"] = csize
    path = tmp_path / "lying.pt"
    path.write_bytes(build_zip(entries))
    load_fails_fast(path, match)


@pytest.mark.parametrize("shape,stored", [
    ((1 << 40,), 24),             # 8 TiB of float64 claimed by a 24-byte member
    ((1 << 20, 1 << 20, 1 << 20), 24),
    ((4,), 24),                   # fewer elements than stored: the rest would be ignored
    ((5,), 24),                   # one more than stored
    ((-3,), 24),
])
def test_npy_header_shape_must_match_the_member_size(shape, stored, tmp_path):
    body = np.arange(stored // 8, dtype=np.float64).tobytes()
    data = npy(header={"descr": "<f8", "fortran_order": False, "shape": shape}, body=body)
    node = dict(TENSOR["items"][0][1], dtype="float64")
    entries = [{"name": "a0.npy", "data": data},
               {"name": "__manifest__.npy",
                "data": manifest({"t": "list", "v": [node]})}]
    path = tmp_path / "shape.pt"
    path.write_bytes(build_zip(entries))
    load_fails_fast(path, r"a0\.npy")


def test_huge_manifest_header_is_refused_cheaply(tmp_path):
    data = npy(header={"descr": "|u1", "fortran_order": False, "shape": (1 << 50,)}, body=b"{}")
    path = tmp_path / "m.pt"
    path.write_bytes(build_zip([{"name": "__manifest__.npy", "data": data}]))
    load_fails_fast(path, r"__manifest__\.npy")


def test_duplicate_member_names_are_refused(tmp_path):
    """Two a0.npy: which one a reader sees would depend on the reader."""
    entries = good_entries() + [{"name": "a0.npy", "data": npy(np.zeros(6, np.float32))}]
    path = tmp_path / "dup.pt"
    path.write_bytes(build_zip(entries))
    load_fails_fast(path, r"a0\.npy appears twice")


@pytest.mark.parametrize("name", ["../../a1.npy", "/etc/a1.npy", "sub/a0.npy", "a1.npz",
                                  "..\\a1.npy", "a1.npy\x00.txt"])
def test_member_names_outside_the_format_are_refused(name, tmp_path):
    entries = good_entries() + [{"name": name, "data": npy(np.zeros(1))}]
    path = tmp_path / "names.pt"
    path.write_bytes(build_zip(entries))
    load_fails_fast(path, r"is not an array of a minigrad checkpoint")


def test_overlapping_members_are_refused(tmp_path):
    """a1's local header and data lie inside a0's data (the overlapping zip bomb: one
    stored region counted many times)."""
    inner_npy = npy(np.arange(6, dtype=np.float32))
    inner = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, zlib.crc32(inner_npy),
                        len(inner_npy), len(inner_npy), 6, 0) + b"a1.npy" + inner_npy
    outer = npy(np.frombuffer(inner, dtype=np.uint8))
    outer_header = len(outer) - len(inner)
    node = dict(TENSOR["items"][0][1], a=1)
    entries = [{"name": "a0.npy", "data": outer},
               {"name": "a1.npy", "data": inner_npy, "offset": 30 + 6 + outer_header},
               {"name": "__manifest__.npy", "data": manifest(
                   {"t": "list", "v": [{"t": "ndarray", "a": 0}, node]})}]
    path = tmp_path / "overlap.pt"
    blob = build_zip(entries)
    path.write_bytes(blob)
    with zipfile.ZipFile(path) as archive:         # zipfile itself reads both
        assert archive.read("a1.npy") == inner_npy
    load_fails_fast(path, r"overlap")


def test_every_truncation_and_every_central_directory_byte_flip_is_a_runtime_error(tmp_path):
    path = tmp_path / "x.pt"
    mg.save({"w": mg.arange(5.0), "n": 3}, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    for length in range(len(data)):
        cut.write_bytes(data[:length])
        with pytest.raises(RuntimeError, match="not a valid minigrad checkpoint"):
            mg.load(cut)
    start = data.rindex(b"PK\x01\x02", 0, data.rindex(b"PK\x01\x02"))
    for i in range(start, len(data)):              # each flip is refused or harmless
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        cut.write_bytes(bytes(flipped))
        try:
            loaded = mg.load(cut)
        except RuntimeError:
            continue
        assert loaded["w"].tolist() == [0, 1, 2, 3, 4] and loaded["n"] == 3


def test_truncated_member_data_names_the_member(tmp_path):
    entries = good_entries()
    entries[0]["data"] = entries[0]["data"][:-5]       # sizes agree, the data is short
    path = tmp_path / "short.pt"
    path.write_bytes(build_zip(entries))
    load_fails_fast(path, r"a0\.npy")


def test_bytearray_with_a_size_is_refused_in_a_weights_only_load(tmp_path):
    """``bytearray`` is allowlisted (pickles of bytes use it), but ``bytearray(n)`` from
    a 100-byte file would allocate n bytes (PyTorch 2.13: MemoryError, or the memory)."""
    class Big:
        def __reduce__(self):
            return (bytearray, (1 << 40,))
    mg.save([mg.ones(1), Big()], tmp_path / "x.pt")     # pickled: Big is not a container
    with pytest.raises(pickle.UnpicklingError, match="bytearray"):
        mg.load(tmp_path / "x.pt")
    normal = [bytearray(b"ab\xff"), {1, 2}, frozenset([3]), Counter("aab"), mg.Size([2, 3]),
              range(10 ** 12)]
    mg.save(normal, tmp_path / "ok.pt")
    assert mg.load(tmp_path / "ok.pt") == normal


_AMPLIFY = """
import pickle, resource, sys, time
from collections import Counter
import minigrad as mg
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))   # a failure here stays small


class Amplify:
    def __init__(self, build):
        self.build = build

    def __reduce__(self):
        return (self.build, (range(1 << 40),))


for build in (set, frozenset, Counter, bytearray, mg.Size):
    mg.save([Amplify(build)], sys.argv[1])
    start = time.perf_counter()
    try:
        mg.load(sys.argv[1])
    except pickle.UnpicklingError as e:
        assert "(range)" in str(e), e
        assert time.perf_counter() - start < 1.0
        print(build.__name__, "refused")
"""


def test_range_fed_to_a_container_is_refused_in_a_weights_only_load(tmp_path):
    """``range`` is allowlisted; ``set(range(2**40))`` from a tiny file would iterate (and
    allocate) without end. In a child process with a 3 GB address-space limit."""
    result = subprocess.run([sys.executable, "-c", _AMPLIFY, str(tmp_path / "x.pt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["set", "refused", "frozenset", "refused", "Counter",
                                     "refused", "bytearray", "refused", "Size", "refused"]


# ---------------------------------------------------------------- non-regular files
def test_a_fifo_path_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            mg.load(fifo)
        except BaseException as e:    # noqa: BLE001 - recorded for the assertion
            outcome.append(e)
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():              # unblock the open() so the thread can finish
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail("mg.load blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], OSError)
    assert outcome[0].errno == errno.ESPIPE and "FIFO" in str(outcome[0])


def test_a_directory_path_raises_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError):              # as torch.load
        mg.load(tmp_path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_not_read_forever():
    """In a child process with a 2 GB address-space limit (reading /dev/zero whole would
    otherwise take the machine's memory)."""
    code = ("import resource, minigrad as mg\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
            "try:\n    mg.load('/dev/zero')\n"
            "except OSError as e:\n    print(type(e).__name__, e.errno, e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"OSError {errno.ESPIPE}"), result.stdout
    assert "character device" in result.stdout


def test_a_corrupt_array_under_a_pickle_is_a_runtime_error(tmp_path):
    """Arrays of a whole-object checkpoint are read while unpickling; a corrupt one is the
    file's fault (RuntimeError naming the member), not an error of the unpickled code."""
    path = tmp_path / "model.pt"
    mg.save(mg.nn.Linear(3, 2), path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("a0.npy")
    data[info.header_offset + 30 + len("a0.npy") + info.file_size - 1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"Bad CRC-32 for file 'a0\.npy'"):
        mg.load(path, weights_only=False)


@pytest.mark.parametrize("opcode", [b"r" + (1 << 26).to_bytes(4, "little"), b"p67108864\n"])
def test_a_huge_pickle_memo_index_is_refused_before_unpickling(opcode, tmp_path):
    """LONG_BINPUT/PUT 2**26: 8 bytes make the C unpickler allocate and zero a 1 GB memo
    (2**31: 32 GB); a weights_only load reads the opcodes first."""
    pickled = b"\x80\x02N" + opcode + b"."
    entries = [{"name": "a0.npy", "data": npy(np.frombuffer(pickled, dtype=np.uint8))},
               {"name": "__manifest__.npy", "data": manifest({"t": "pickle", "a": 0})}]
    path = tmp_path / "memo.pt"
    path.write_bytes(build_zip(entries))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(pickle.UnpicklingError, match="memo entry 67108864"):
            mg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0 and peak < 8 * MB
    short = b"\x80\x02X\xff\x00\x00\x00abc."             # BINUNICODE of 255 bytes, cut short
    entries[0]["data"] = npy(np.frombuffer(short, dtype=np.uint8))
    path.write_bytes(build_zip(entries))
    with pytest.raises(pickle.UnpicklingError, match="corrupt"):
        mg.load(path)
