"""``save`` / ``load``: checkpoints in a format that cannot carry code.

``torch.save`` pickles, and unpickling can run arbitrary code, so a downloaded checkpoint
is a program. minigrad's file is a plain ``.npz`` (a zip of ``.npy`` arrays) written with
``allow_pickle=False``:

* ``a0, a1, ...``   — every array, raw bytes plus dtype and shape (bit-exact);
* ``__manifest__``  — a uint8 array holding UTF-8 JSON that describes the object: a tree
  of tagged nodes, e.g. ``{"t": "dict", "items": [[{"t": "str", "v": "weight"},
  {"t": "tensor", "a": 0, "dtype": "float32", "requires_grad": false, ...}]]}``.

Supported: dict, OrderedDict, Counter (keys: str, int, float, bool, None, tuples of
those), list, tuple, ``minigrad.Size``, Tensor and ``nn.Parameter`` (dtype, requires_grad,
device), numpy arrays and scalars (numeric, bool, fixed-width strings), and Python
``None``, bool, int, float (stored as ``float.hex`` so NaN, ±inf and every bit survive) and
str. That covers model, optimizer and scheduler ``state_dict``s and nested dicts of them.
Anything else — a Module, a function, an object array — is refused with a TypeError that
names its type, *before* the file is touched. Tensors sharing one array (tied weights)
are stored once and share one array again after loading.

``load`` opens the zip with ``np.load(allow_pickle=False)`` and rebuilds the tree from the
manifest: it never executes anything from the file. A truncated or corrupt file raises
RuntimeError; an object array (the way a pickle would hide inside an npz) raises
``pickle.UnpicklingError``, as PyTorch's ``weights_only`` loader does for unsafe content.

Writes are atomic: the archive goes to a temporary file in the destination's directory,
is flushed to disk, and replaces the destination with ``os.replace`` only when complete,
so a crash mid-write leaves any previous checkpoint intact.
"""
import io
import json
import os
import pickle
import tempfile
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from . import dtypes
from .tensor import Tensor, Size
from .device import as_device, move_array, to_host
from .nn.parameter import Parameter

_MANIFEST = "__manifest__"
_FORMAT = "minigrad-npz-1"
_ARRAY_KINDS = "biufcUS"   # numeric, bool and fixed-width strings: no pickle needed
_KEY_TAGS = {"none", "bool", "int", "float", "str", "tuple"}


class _Encoder:
    """Turns an object into a JSON-able manifest node, collecting its arrays."""

    def __init__(self):
        self.arrays = []
        self._array_index = {}   # id(array) -> index, so shared arrays are stored once
        self._keep_alive = []    # ids are only unique while their objects live
        self._active = set()     # containers being encoded (cycle detection)

    def _store(self, array):
        key = id(array)
        if key not in self._array_index:
            self._keep_alive.append(array)
            host = to_host(array)
            self._array_index[key] = len(self.arrays)
            self.arrays.append(host)
        return self._array_index[key]

    def encode(self, obj):
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if type(obj) is int:
            return {"t": "int", "v": obj}
        if type(obj) is float:
            return {"t": "float", "v": obj.hex()}
        if type(obj) is str:
            return {"t": "str", "v": obj}
        if isinstance(obj, Tensor):
            return {"t": "tensor", "a": self._store(obj.array), "dtype": str(obj.dtype),
                    "requires_grad": bool(obj.requires_grad),
                    "parameter": isinstance(obj, Parameter), "device": str(obj.device)}
        if isinstance(obj, np.ndarray):
            self._check_array(obj)
            return {"t": "ndarray", "a": self._store(obj)}
        if isinstance(obj, np.generic):
            array = np.asarray(obj)
            self._check_array(array)
            return {"t": "npscalar", "a": self._store(array)}
        if type(obj) in (dict, OrderedDict, Counter):
            tag = {dict: "dict", OrderedDict: "odict", Counter: "counter"}[type(obj)]
            with self._visiting(obj):
                items = [[self._encode_key(k), self.encode(v)] for k, v in obj.items()]
            return {"t": tag, "items": items}
        if type(obj) in (list, tuple, Size):
            tag = {list: "list", tuple: "tuple", Size: "size"}[type(obj)]
            with self._visiting(obj):
                return {"t": tag, "v": [self.encode(v) for v in obj]}
        raise TypeError(f"minigrad.save cannot store an object of type "
                        f"{type(obj).__module__}.{type(obj).__qualname__}: only tensors, numpy "
                        "arrays, numbers, strings, None and dicts/lists/tuples of them are "
                        "supported (save a module's state_dict(), not the module)")

    def _encode_key(self, key):
        node = self.encode(key)
        if node["t"] not in _KEY_TAGS:
            raise TypeError(f"minigrad.save cannot store a dict key of type {type(key).__name__}")
        return node

    @staticmethod
    def _check_array(array):
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"minigrad.save cannot store a numpy array of dtype {array.dtype} "
                            "(object and structured arrays would need pickle)")

    def _visiting(self, container):
        encoder = self

        class _Guard:
            def __enter__(self):
                if id(container) in encoder._active:
                    raise ValueError("minigrad.save cannot store a container that contains "
                                     "itself")
                encoder._active.add(id(container))

            def __exit__(self, *exc):
                encoder._active.discard(id(container))
        return _Guard()


def _write_archive(file, arrays, manifest):
    payload = {f"a{i}": a for i, a in enumerate(arrays)}
    payload[_MANIFEST] = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    # np.savez is looked up at call time (tests simulate a crash by replacing it).
    np.savez(file, allow_pickle=False, **payload)


def save(obj, f):
    """Write ``obj`` (see the module docstring for what it may contain) to ``f``, a path
    or a writable binary file object."""
    encoder = _Encoder()
    manifest = {"format": _FORMAT, "root": encoder.encode(obj)}
    if hasattr(f, "write"):
        buffer = io.BytesIO()   # build it whole first, so a failure writes nothing to f
        _write_archive(buffer, encoder.arrays, manifest)
        f.write(buffer.getvalue())
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp_file:
            _write_archive(tmp_file, encoder.arrays, manifest)
            tmp_file.flush()
            os.fsync(tmp_file.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_member(archive, name):
    """One array of the archive; an object array (pickled data) is refused."""
    try:
        return archive[name]
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise pickle.UnpicklingError(
                f"minigrad.load refused array {name}: it is an object array, which only "
                "pickle can read, and minigrad never unpickles") from None
        raise


class _Corrupt(Exception):
    """Raised inside load for a malformed file; reported as RuntimeError."""


class _Decoder:
    def __init__(self, archive, map_location):
        self.archive, self.map_location = archive, map_location
        self._arrays = {}

    def array(self, index):
        if not isinstance(index, int) or index < 0:
            raise _Corrupt(f"corrupt manifest: bad array index {index!r}")
        if index not in self._arrays:
            name = f"a{index}"
            if name not in self.archive.files:
                raise _Corrupt(f"corrupt checkpoint: array {name} is missing")
            self._arrays[index] = _read_member(self.archive, name)
        return self._arrays[index]

    def device(self, saved):
        location = self.map_location
        if location is None:
            return as_device(saved)
        if isinstance(location, dict):
            return as_device(location.get(saved, saved))
        return as_device(location)

    def decode(self, node):
        tag = node.get("t") if isinstance(node, dict) else None
        if tag == "none":
            return None
        if tag in ("bool", "int", "str"):
            value = node["v"]
            expected = {"bool": bool, "int": int, "str": str}[tag]
            if type(value) is not expected:
                raise _Corrupt(f"corrupt manifest: {tag} node holds {type(value).__name__}")
            return value
        if tag == "float":
            return float.fromhex(node["v"])
        if tag == "tensor":
            return self._tensor(node)
        if tag == "ndarray":
            return self.array(node["a"])
        if tag == "npscalar":
            return self.array(node["a"])[()]
        if tag in ("dict", "odict", "counter"):
            items = dict((self.decode(k), self.decode(v)) for k, v in node["items"])
            if tag == "dict":
                return items
            # From the mapping: Counter(pairs) would count the pairs themselves.
            return OrderedDict(items) if tag == "odict" else Counter(items)
        if tag in ("list", "tuple", "size"):
            kind = {"list": list, "tuple": tuple, "size": Size}[tag]
            return kind(self.decode(v) for v in node["v"])
        raise _Corrupt(f"corrupt manifest: unknown node {str(node)[:80]!r}")

    def _tensor(self, node):
        array = self.array(node["a"])
        if array.dtype not in dtypes._SUPPORTED or str(array.dtype) != node["dtype"]:
            raise _Corrupt(f"corrupt checkpoint: tensor array has dtype {array.dtype}, "
                               f"manifest says {node['dtype']}")
        array = move_array(array, self.device(node.get("device", "cpu")))
        if node.get("parameter"):
            return Parameter(Tensor._wrap(array), bool(node["requires_grad"]))
        tensor = Tensor._wrap(array)
        if node["requires_grad"]:
            tensor.requires_grad = True
        return tensor


def load(f, map_location=None, weights_only=True):
    """Read an object written by ``save`` from a path or a readable binary file object.

    ``map_location`` (a device, a device string, or a dict from saved to wanted device
    strings) says where tensors go; by default, back to the device they were saved from.
    ``weights_only`` is accepted for PyTorch compatibility: this loader is always
    weights-only, whatever its value."""
    if hasattr(f, "read"):
        data = f.read()
        source = io.BytesIO(data)
        name = getattr(f, "name", "<file object>")
    else:
        name = os.fspath(f)
        with open(name, "rb") as handle:   # a missing file raises FileNotFoundError here
            source = io.BytesIO(handle.read())
    try:
        archive = np.load(source, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise _Corrupt("not an npz archive")
        with archive:
            if _MANIFEST not in archive.files:
                raise _Corrupt("no minigrad manifest")
            raw = _read_member(archive, _MANIFEST)
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise _Corrupt("the manifest is not a uint8 vector")
            manifest = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
                raise _Corrupt("unknown format")
            return _Decoder(archive, map_location).decode(manifest["root"])
    except (_Corrupt, zipfile.BadZipFile, EOFError, ValueError, KeyError, TypeError,
            AttributeError, UnicodeDecodeError, RecursionError) as e:
        raise RuntimeError(f"minigrad.load: {name} is not a valid minigrad checkpoint "
                           f"(truncated or corrupt?): {type(e).__name__}: {e}") from e
