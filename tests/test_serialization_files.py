"""mg.save and the file system (issue 11 item 8): permissions as PyTorch sets them (a new
file follows the umask, an overwritten one keeps its mode), symlinks followed rather than
replaced, special files written through rather than replaced, and temporary files of
killed writers cleaned up by the next save (never those of a live writer)."""
import contextlib
import errno
import os
import signal
import stat
import subprocess
import sys

import pytest

import minigrad as mg

try:
    import torch
except ImportError:       # the expectations below are PyTorch's, written out
    torch = None


@contextlib.contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def torch_mode(path, existing_mode=None):
    """The mode torch.save leaves at ``path`` (None without torch)."""
    if torch is None:
        return None
    if existing_mode is not None:
        path.write_bytes(b"old")
        os.chmod(path, existing_mode)
    torch.save({"w": torch.ones(2)}, path)
    return mode(path)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o027, 0o000], ids=oct)
def test_a_new_checkpoint_follows_the_umask(mask, tmp_path):
    with umask(mask):
        mg.save({"w": mg.ones(2)}, tmp_path / "new.pt")
        expected = torch_mode(tmp_path / "torch.pt")
    assert mode(tmp_path / "new.pt") == 0o666 & ~mask
    assert expected in (None, 0o666 & ~mask)


@pytest.mark.parametrize("existing,mask", [(0o644, 0o077), (0o600, 0o022), (0o755, 0o022),
                                           (0o640, 0o002)], ids=oct)
def test_overwriting_keeps_the_existing_mode(existing, mask, tmp_path):
    path = tmp_path / "x.pt"
    path.write_bytes(b"old")
    os.chmod(path, existing)
    with umask(mask):
        mg.save({"w": mg.ones(2)}, path)
        expected = torch_mode(tmp_path / "torch.pt", existing)
    assert mode(path) == existing
    assert expected in (None, existing)
    assert mg.load(path)["w"].tolist() == [1, 1]
    assert sorted(os.listdir(tmp_path)) == sorted(["x.pt"] + (["torch.pt"] if torch else []))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_read_only_checkpoint_is_not_replaced(tmp_path):
    path = tmp_path / "x.pt"
    mg.save({"w": mg.ones(2)}, path)
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError):
        mg.save({"w": mg.zeros(2)}, path)
    assert mg.load(path)["w"].tolist() == [1, 1]


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.pt"
    mg.save({"w": mg.ones(2)}, target)
    os.chmod(target, 0o640)
    link = tmp_path / "runs" / "best.pt"
    link.symlink_to(os.path.join("..", "store", "real.pt"))      # relative, other folder
    mg.save({"w": mg.zeros(3)}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "store", "real.pt")
    assert mg.load(target)["w"].tolist() == [0, 0, 0]
    assert mode(target) == 0o640
    assert os.listdir(tmp_path / "runs") == ["best.pt"]
    assert os.listdir(tmp_path / "store") == ["real.pt"]
    chain = tmp_path / "runs" / "chain.pt"                         # a link to a link
    chain.symlink_to("best.pt")
    mg.save({"w": mg.ones(1)}, str(chain))
    assert chain.is_symlink() and link.is_symlink()
    assert mg.load(target)["w"].tolist() == [1]


def test_a_dangling_symlink_creates_its_target_and_a_loop_is_refused(tmp_path):
    link = tmp_path / "link.pt"
    link.symlink_to("made.pt")
    mg.save({"w": mg.ones(1)}, link)                 # as open(link, "wb") would
    assert link.is_symlink() and mg.load(tmp_path / "made.pt")["w"].tolist() == [1]
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError) as info:
        mg.save({"w": mg.ones(1)}, tmp_path / "a")
    assert info.value.errno == errno.ELOOP
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_a_fifo_destination_is_written_through_not_replaced(tmp_path):
    """torch.save(obj, fifo) writes into the pipe; replacing the FIFO with a regular file
    (as rename would) would also replace /dev/null for a root user."""
    fifo = tmp_path / "out.pt"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)       # so the writer's open returns
    try:
        mg.save({"w": mg.arange(4.0)}, fifo)
        data = b""
        while chunk := os.read(reader, 1 << 16):
            data += chunk
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["out.pt"]
    (tmp_path / "copy.pt").write_bytes(data)
    assert mg.load(tmp_path / "copy.pt")["w"].tolist() == [0, 1, 2, 3]


def test_a_directory_destination_is_refused(tmp_path):
    (tmp_path / "d.pt").mkdir()
    with pytest.raises(IsADirectoryError):
        mg.save({"w": mg.ones(1)}, tmp_path / "d.pt")
    assert os.listdir(tmp_path) == ["d.pt"] and os.listdir(tmp_path / "d.pt") == []


_STALLED_WRITER = """
import os, sys, time
import minigrad as mg
def stall(fd):                  # the archive is written; hang before it is renamed
    print("writing", flush=True)
    time.sleep(300)
os.fsync = stall
mg.save({"w": mg.ones(50000)}, sys.argv[1])
"""


def stalled_writer(path):
    child = subprocess.Popen([sys.executable, "-c", _STALLED_WRITER, str(path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    return child


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if ".minigrad-tmp-" in name)


def test_temporaries_of_killed_writers_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "model.pt"
    mg.save({"w": mg.zeros(1)}, path)
    (tmp_path / ".model.pt.keep").write_bytes(b"mine")              # not ours: kept
    (tmp_path / "other.pt").write_bytes(b"x")
    child = stalled_writer(path)
    try:
        live = temporaries(tmp_path)
        assert len(live) == 1 and live[0].startswith(".model.pt.minigrad-tmp-")
        assert f"-{child.pid}-" in live[0]
        mg.save({"w": mg.ones(1)}, path)                 # a live writer's file is kept
        assert temporaries(tmp_path) == live
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert temporaries(tmp_path) == live                  # kill -9 leaves it behind
    mg.save({"w": mg.full((1,), 2.0)}, tmp_path / "other.pt")    # another target: kept
    assert temporaries(tmp_path) == live
    mg.save({"w": mg.full((1,), 3.0)}, path)
    assert temporaries(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == [".model.pt.keep", "model.pt", "other.pt"]
    assert mg.load(path)["w"].tolist() == [3]


def test_temporary_names_stay_within_name_max(tmp_path):
    path = tmp_path / ("m" * 250 + ".pt")
    mg.save({"w": mg.ones(1)}, path)
    mg.save({"w": mg.zeros(1)}, path)
    assert os.listdir(tmp_path) == [path.name] and mg.load(path)["w"].tolist() == [0]


def test_a_bytes_path_is_a_path(tmp_path):
    path = os.fsencode(tmp_path / "b.pt")
    mg.save({"w": mg.ones(1)}, path)
    mg.save({"w": mg.zeros(1)}, path)
    assert os.listdir(tmp_path) == ["b.pt"] and mg.load(path)["w"].tolist() == [0]
