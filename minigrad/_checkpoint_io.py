"""The file side of ``minigrad.save`` / ``minigrad.load``: writing a checkpoint atomically
and reading one that may be hostile.

Writing (``atomic_write``) — what ``torch.save(obj, path)`` does to the file system, made
atomic:

* the archive goes to a temporary file beside the destination, named
  ``.NAME.minigrad-tmp-HOST-PID-RANDOM``, is flushed to disk and replaces the destination
  with ``os.replace`` only when complete, so a crash mid-write leaves any previous
  checkpoint intact;
* a temporary file left by a writer that was killed (kill -9, power loss) is removed by the
  next save of the same destination, once its PID names no live process on this host (a
  live writer's temporary file is never touched);
* permissions are PyTorch's: a new file gets ``0666 & ~umask``, an existing file keeps its
  mode (and owner, where we may set it);
* a symlink is followed, as ``open()`` follows it: the link's target is written and the
  link stays; a destination that exists but is not a regular file (``/dev/null``, a FIFO)
  is written directly, as ``torch.save`` writes it.

Reading (``open_archive``) — nothing is allocated or inflated on the file's word alone:

* a path must be a regular file (opened without blocking, so a FIFO or a device given as a
  path is refused at once, never waited on or read forever);
* the zip's central directory is checked before any data is read: every member stored
  (minigrad never writes compressed members, and a deflated member of zeros can inflate to
  whatever its header declares), declared sizes equal to stored sizes, inside the file, not
  overlapping another member, unique plain names, no encryption;
* each ``.npy`` header's shape and dtype must account for exactly the member's bytes, so an
  array is allocated only at a size the file itself pays for.

A violation raises ``CorruptCheckpoint`` (``load`` reports it as RuntimeError naming the
file and the member).
"""
import contextlib
import errno
import io
import math
import os
import pickle
import re
import secrets
import socket
import stat
import struct
import zipfile
import zlib

import numpy as np

__all__ = ["CorruptCheckpoint", "atomic_write", "open_archive", "ARRAY_KINDS"]

ARRAY_KINDS = "biufcUS"   # numeric, bool and fixed-width strings: no pickle needed
_TMP_TAG = ".minigrad-tmp-"
_NAME_ROOM = 180          # bytes of the destination's name kept in a temporary file's name
_MEMBER = re.compile(r"[A-Za-z0-9_]{1,64}\.npy")
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")    # zipfile's structFileHeader (30 bytes)
_CHUNK = 1 << 20


class CorruptCheckpoint(Exception):
    """A malformed or hostile checkpoint file (``load`` raises it as RuntimeError)."""


# ------------------------------------------------------------------------------ writing
def _host_tag():
    return format(zlib.crc32(socket.gethostname().encode("utf-8", "replace")), "08x")


def _temp_prefix(base):
    return "." + os.fsencode(base)[:_NAME_ROOM].decode("utf-8", "ignore") + _TMP_TAG


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:          # EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(directory, base):
    """Delete the temporary files that killed writers of ``directory/base`` left behind:
    ours by name, written on this host, by a PID that is no longer alive. Returns their
    names."""
    if os.name != "posix":          # os.kill(pid, 0) is not a liveness probe elsewhere
        return []
    pattern = re.compile(re.escape(_temp_prefix(base)) + re.escape(_host_tag())
                         + r"-(\d{1,10})-[0-9a-f]{16}")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        if not _pid_alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def _resolve(path):
    """The file a write to ``path`` lands in: symlinks followed like ``open()`` does."""
    resolved = os.path.realpath(path)
    if os.path.islink(resolved):      # realpath gives up on a loop
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
    return resolved


def atomic_write(path, write):
    """Call ``write(file)`` to fill ``path``, as described in the module docstring."""
    target = _resolve(os.fsdecode(os.fspath(path)))
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        buffer = io.BytesIO()     # whole first: a failure sends nothing down a pipe
        write(buffer)
        with open(target, "wb") as handle:      # /dev/null, a FIFO: torch.save writes it
            handle.write(buffer.getbuffer())
        return
    if existing is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
    directory, base = os.path.split(target)
    remove_stale_temporaries(directory, base)
    tmp = os.path.join(directory, f"{_temp_prefix(base)}{_host_tag()}-{os.getpid()}-"
                                  f"{secrets.token_hex(8)}")
    # A new file is created as open() creates it (0666 & ~umask); over an existing one the
    # temporary starts private and takes the old file's mode just before it replaces it.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o600 if existing is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if existing is not None and hasattr(os, "fchmod"):       # POSIX
                if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):
                        os.fchown(handle.fileno(), existing.st_uid, existing.st_gid)
                os.fchmod(handle.fileno(), stat.S_IMODE(existing.st_mode))
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):       # make the rename itself durable
        dir_fd = os.open(directory or ".", os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ------------------------------------------------------------------------------ reading
_KINDS = {stat.S_IFIFO: "FIFO", stat.S_IFCHR: "character device", stat.S_IFBLK: "block device",
          stat.S_IFSOCK: "socket"}


def open_regular_file(path):
    """``open(path, "rb")`` that refuses, without blocking, anything but a regular file."""
    name = os.fspath(path)
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "special file")
            raise OSError(errno.ESPIPE, f"minigrad.load reads checkpoints from regular files "
                                        f"only, and this is a {kind}", name)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _file_size(fileobj):
    position = fileobj.tell()
    size = fileobj.seek(0, os.SEEK_END)
    fileobj.seek(position)
    return size


class Archive:
    """A checkpoint zip whose directory was checked (see the module docstring); ``files``
    names its arrays, ``read(key)`` loads one."""

    def __init__(self, fileobj):
        size = _file_size(fileobj)
        self.zip = zipfile.ZipFile(fileobj)
        self.members, spans = {}, []
        for info in self.zip.infolist():
            raw_name = info.orig_filename
            if not (_MEMBER.fullmatch(raw_name) and info.filename == raw_name):
                raise CorruptCheckpoint(f"member {raw_name[:80]!r} is not an array of a "
                                        "minigrad checkpoint (expected a plain NAME.npy)")
            key = raw_name[:-4]
            if key in self.members:
                raise CorruptCheckpoint(f"member {raw_name} appears twice in the zip directory")
            if info.compress_type != zipfile.ZIP_STORED:
                raise CorruptCheckpoint(
                    f"member {raw_name} is compressed (zip method {info.compress_type}); "
                    "minigrad checkpoints store members uncompressed, so this file was not "
                    "written by minigrad.save (compressed members are refused: they can "
                    "inflate to any size)")
            if info.flag_bits & 0x1:
                raise CorruptCheckpoint(f"member {raw_name} is encrypted")
            if info.file_size != info.compress_size:
                raise CorruptCheckpoint(
                    f"member {raw_name} declares {info.file_size} bytes but stores "
                    f"{info.compress_size}")
            start = info.header_offset
            end = start + _LOCAL_HEADER.size + len(raw_name) + info.compress_size
            if start < 0 or end > size:
                raise CorruptCheckpoint(
                    f"member {raw_name} declares {info.compress_size} bytes at offset {start}, "
                    f"past the end of the {size}-byte file (truncated?)")
            self.members[key] = info
            spans.append((start, end, raw_name))
        spans.sort()
        for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
            if start < end:
                raise CorruptCheckpoint(f"members {first} and {second} overlap in the file")
        self.files = list(self.members)

    def close(self):
        self.zip.close()

    def read(self, key):
        """The array in member ``key + ".npy"``, allocated only after its header was
        checked against the member's size; an object array raises UnpicklingError."""
        info = self.members[key]
        with self.zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise CorruptCheckpoint(f"member {info.filename}: unsupported .npy version "
                                        f"{version}")
            if dtype.hasobject:
                raise pickle.UnpicklingError(
                    f"minigrad.load refused array {key}: it is an object array, which only "
                    "pickle can read, and minigrad never unpickles")
            if (dtype.kind not in ARRAY_KINDS or dtype.fields is not None
                    or dtype.subdtype is not None or dtype.itemsize == 0):
                raise CorruptCheckpoint(f"member {info.filename}: dtype {dtype} is not one a "
                                        "minigrad checkpoint stores")
            if any(dim < 0 for dim in shape):
                raise CorruptCheckpoint(f"member {info.filename}: negative shape {shape}")
            count = math.prod(shape)
            stored = info.file_size - member.tell()
            if count * dtype.itemsize != stored:
                raise CorruptCheckpoint(
                    f"member {info.filename}: its header declares shape {shape} of {dtype} "
                    f"({count * dtype.itemsize} bytes) but the member holds {stored} bytes")
            array = np.empty(count, dtype=dtype)
            buffer = memoryview(array.view(np.uint8))
            done = 0
            while done < stored:
                chunk = member.read(min(_CHUNK, stored - done))
                if not chunk:
                    raise CorruptCheckpoint(f"member {info.filename} is truncated")
                buffer[done:done + len(chunk)] = chunk
                done += len(chunk)
            if member.read(1):      # reaching the end also checks the CRC
                raise CorruptCheckpoint(f"member {info.filename} is longer than declared")
        if fortran:
            return array.reshape(shape[::-1]).transpose()
        return array.reshape(shape)


def open_archive(fileobj):
    """An ``Archive`` over a seekable binary file object (see the module docstring)."""
    return Archive(fileobj)
