"""``save`` / ``load``: checkpoints in a format that cannot carry code.

``torch.save`` pickles, and unpickling can run arbitrary code, so a downloaded checkpoint
is a program. minigrad's file is a plain ``.npz`` (a zip of ``.npy`` arrays) written with
``allow_pickle=False``:

* ``a0, a1, ...``   — every array, raw bytes plus dtype and shape (bit-exact);
* ``__manifest__``  — a uint8 array holding UTF-8 JSON that describes the object: a tree
  of tagged nodes, e.g. ``{"t": "dict", "items": [[{"t": "str", "v": "weight"},
  {"t": "tensor", "a": 0, "dtype": "float32", "requires_grad": false, ...}]]}``.

The manifest covers dict, OrderedDict, Counter (keys: str, int, float, bool, None, tuples
of those), list, tuple, ``minigrad.Size``, Tensor and ``nn.Parameter`` (dtype,
requires_grad, device), numpy arrays and scalars (numeric, bool, fixed-width strings), and
Python ``None``, bool, int, float (stored as ``float.hex`` so NaN, ±inf and every bit
survive) and str: model, optimizer and scheduler ``state_dict``s and nested dicts of them.
Tensors sharing one array (tied weights) are stored once and share one array again after
loading.

Anything else (a whole Module, a user class) is saved as PyTorch saves everything: a
pickle (member ``__pickle__``) whose tensors and arrays are stored beside it as ``.npy``
members, referred to by manifest nodes (pickle's persistent ids). Loading follows PyTorch
≥ 2.6: ``load(f)`` is ``weights_only=True``, which unpickles only allowlisted globals
(a few containers, minigrad's Size/device/dtypes, and what ``add_safe_globals`` or the
``safe_globals`` context manager added) and otherwise raises ``pickle.UnpicklingError``
naming the global; ``load(f, weights_only=False)`` is the user's opt-in to unpickling a
file they trust (unpickling can run arbitrary code).

``load`` reads the zip's ``.npy`` members without pickle and rebuilds the tree from the
manifest: it never executes anything from the file. A truncated, corrupt or hostile file
(compressed members, sizes that disagree, headers claiming more than the file holds)
raises RuntimeError naming the file and the member, before anything is allocated at the
file's word; an object array (the way a pickle would hide inside an npz) raises
``pickle.UnpicklingError``, as PyTorch's ``weights_only`` loader does for unsafe content.
A file in the manifest-only form loads the same with either ``weights_only``.

Writes are atomic and follow PyTorch's permissions and symlinks; temporary files of killed
writers are cleaned up (see ``minigrad._checkpoint_io``).
"""
import _compat_pickle
import codecs
import io
import json
import os
import pickle
import pickletools
import zipfile
from collections import Counter, OrderedDict

import numpy as np

import contextlib

from . import dtypes
from ._checkpoint_io import ARRAY_KINDS, CorruptCheckpoint, atomic_write, open_archive
from ._checkpoint_io import open_regular_file
from .tensor import Tensor, Size
from .device import Device, as_device, move_array, to_host
from .nn.parameter import Parameter

_MANIFEST = "__manifest__"
_FORMAT = "minigrad-npz-1"
_ARRAY_KINDS = ARRAY_KINDS   # numeric, bool and fixed-width strings: no pickle needed
_KEY_TAGS = {"none", "bool", "int", "float", "str", "tuple"}
_PICKLE = "__pickle__"
DEFAULT_PROTOCOL = 2

__all__ = ["save", "load", "add_safe_globals", "safe_globals", "get_safe_globals",
           "clear_safe_globals", "DEFAULT_PROTOCOL"]


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
            # bfloat16 (a numpy 'V2' extension type) is stored as its bits, uint16
            array = obj.array.view(np.uint16) if obj.dtype == dtypes.bfloat16 else obj.array
            return {"t": "tensor", "a": self._store(array), "dtype": str(obj.dtype),
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


class _Pickler(pickle.Pickler):
    """Pickles an object whose tensors and numpy arrays go to the archive's ``.npy``
    members (persistent ids are their manifest nodes) rather than into the pickle."""

    def __init__(self, file, encoder, protocol):
        super().__init__(file, protocol=protocol)
        self.encoder = encoder
        self.serials = {}       # id(object) -> serial: one object stays one object

    def persistent_id(self, obj):
        if isinstance(obj, Tensor) or (isinstance(obj, np.ndarray)
                                       and obj.dtype.kind in _ARRAY_KINDS):
            serial = self.serials.setdefault(id(obj), len(self.serials))
            self.encoder._keep_alive.append(obj)
            return json.dumps([serial, self.encoder.encode(obj)])
        return None


def _pickled_manifest(obj, protocol):
    """The manifest and arrays of ``obj`` saved as a pickle (see the module docstring)."""
    encoder = _Encoder()
    buffer = io.BytesIO()
    _Pickler(buffer, encoder, protocol).dump(obj)
    index = len(encoder.arrays)
    encoder.arrays.append(np.frombuffer(buffer.getvalue(), dtype=np.uint8))
    return encoder.arrays, {"format": _FORMAT, "root": {"t": "pickle", "a": index}}


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Write ``obj`` to ``f``, a path or a writable binary file object: as a manifest when
    it holds only tensors, arrays, numbers, strings and containers of them, otherwise as a
    pickle (see the module docstring). Nothing is written if ``obj`` cannot be saved."""
    encoder = _Encoder()
    try:
        manifest = {"format": _FORMAT, "root": encoder.encode(obj)}
        arrays = encoder.arrays
    except (TypeError, ValueError):
        arrays, manifest = _pickled_manifest(obj, pickle_protocol)
    if hasattr(f, "write"):
        buffer = io.BytesIO()   # build it whole first, so a failure writes nothing to f
        _write_archive(buffer, arrays, manifest)
        f.write(buffer.getvalue())
    else:
        atomic_write(f, lambda handle: _write_archive(handle, arrays, manifest))


# ---------------------------------------------------------------------- safe globals
_safe_globals = {}       # "module.qualname" -> object, added by the user


def _global_name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals):
    """Allow these classes and functions (or ``(object, "module.name")`` pairs) in a
    ``weights_only`` load."""
    for entry in safe_globals:
        if isinstance(entry, tuple):
            obj, name = entry
        else:
            obj, name = entry, _global_name(entry)
        _safe_globals[name] = obj


def get_safe_globals():
    """The globals ``add_safe_globals`` allowed (a list)."""
    return list(_safe_globals.values())


def clear_safe_globals():
    """Forget every global ``add_safe_globals`` allowed."""
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Within the block, also allow ``safe_globals`` in ``weights_only`` loads."""
    saved = dict(_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals.clear()
        _safe_globals.update(saved)


def _refuse_unbounded(name, args):
    """A few bytes of pickle must not build an object of any size: refuse a ``range``
    argument (pickle passes every real container's elements, never a range) and an
    integer size for ``bytearray`` (pickle passes its bytes)."""
    for arg in args:
        if isinstance(arg, range) or (name == "bytearray" and isinstance(arg, int)):
            raise pickle.UnpicklingError(
                f"Weights only load failed: the file calls {name}({type(arg).__name__}), "
                "which builds an object far larger than the file; no pickle of a real "
                f"{name} does that")


def _bounded(build):
    def guarded(*args, **kwargs):
        _refuse_unbounded(build.__name__, (*args, *kwargs.values()))
        return build(*args, **kwargs)
    guarded.__name__ = guarded.__qualname__ = build.__name__
    return guarded


class _BoundedSize(Size):
    """``Size`` for pickle's NEWOBJ (which needs a class) with ``_refuse_unbounded``."""

    def __new__(cls, *args):
        _refuse_unbounded("Size", args)
        return Size(*args)


def _default_safe_globals():
    """What a ``weights_only`` load always allows: containers and minigrad's plain values
    (no class here runs code of the file's choosing when rebuilt; none builds more than
    the file holds)."""
    allowed = {OrderedDict, Counter, set, frozenset, complex, slice, range, bytearray, Size,
               Device, np.dtype}
    names = {_global_name(obj): obj for obj in allowed}
    for consumer in (Counter, set, frozenset, bytearray):    # those that iterate or size
        names[_global_name(consumer)] = _bounded(consumer)
    names[_global_name(Size)] = _BoundedSize
    names["builtins.set"], names["builtins.frozenset"] = _bounded(set), _bounded(frozenset)
    names["_codecs.encode"] = codecs.encode      # how protocol 2 writes bytes
    for dtype in dtypes._SUPPORTED:        # numpy pickles a dtype as numpy.dtype + its class
        names[_global_name(type(np.dtype(dtype)))] = type(np.dtype(dtype))
    return names


class _Unpickler(pickle.Unpickler):
    """Rebuilds tensors and arrays from the archive; with ``weights_only``, refuses every
    global outside the allowlist."""

    def __init__(self, file, decoder, weights_only):
        super().__init__(file)
        self.decoder, self.weights_only = decoder, weights_only
        self.loaded = {}

    def persistent_load(self, pid):
        try:
            serial, node = json.loads(pid)
            if serial not in self.loaded:     # a tensor met twice (tied weights) loads once
                self.loaded[serial] = self.decoder.decode(node)
        except pickle.UnpicklingError:
            raise
        except Exception as e:      # the archive's fault, not the unpickled code's
            raise _FromArchive(e) from e
        return self.loaded[serial]

    def find_class(self, module, name):
        if not self.weights_only:
            return super().find_class(module, name)
        if (module, name) in _compat_pickle.NAME_MAPPING:    # protocol 2's Python 2 names
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        allowed = _safe_globals.get(full) or _default_safe_globals().get(full)
        if allowed is None:
            raise pickle.UnpicklingError(
                "Weights only load failed. This file can still be loaded, to do so you have two "
                "options, do those steps only if you trust the source of the checkpoint. \n\t(1) "
                "Re-running `minigrad.load` with `weights_only` set to `False` will likely "
                "succeed, but it can result in arbitrary code execution. Do it only if you got "
                "the file from a trusted source.\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                f"message.\n\tWeightsUnpickler error: Unsupported global: GLOBAL {full} was "
                "not an allowed global by default. Please use "
                f"`minigrad.serialization.add_safe_globals([{name}])` or the "
                f"`minigrad.serialization.safe_globals([{name}])` context manager to "
                "allowlist this global if you trust this class/function.")
        return allowed


_Corrupt = CorruptCheckpoint     # raised inside load for a malformed file; RuntimeError


class _FromArchive(Exception):
    """Carries an error of the archive (a corrupt member) out through the unpickler."""


class _FromPickle(Exception):
    """Carries an error raised while unpickling out of load's corruption handler."""


def _check_weights_only_pickle(data):
    """Read a pickle's opcodes before the C unpickler runs them: it must be whole, and
    its memo indices ones it could fill (``LONG_BINPUT 2**31`` alone makes the C
    unpickler allocate and zero a 32 GB memo)."""
    try:
        for opcode, arg, position in pickletools.genops(data):
            if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT") and not 0 <= arg <= len(data):
                raise pickle.UnpicklingError(
                    f"Weights only load failed: the pickle ({len(data)} bytes) stores memo "
                    f"entry {arg} at byte {position}; no pickle of that size needs more "
                    f"than {len(data)} entries")
    except ValueError as e:         # truncated, or an unknown opcode
        raise pickle.UnpicklingError(f"Weights only load failed: the pickle is corrupt: "
                                     f"{e}") from None


class _Decoder:
    def __init__(self, archive, map_location, weights_only):
        self.archive, self.map_location = archive, map_location
        self._arrays = {}
        self.pickled = weights_only     # the root may be a pickle; nothing below it

    def array(self, index):
        if not isinstance(index, int) or index < 0:
            raise _Corrupt(f"corrupt manifest: bad array index {index!r}")
        if index not in self._arrays:
            name = f"a{index}"
            if name not in self.archive.files:
                raise _Corrupt(f"corrupt checkpoint: array {name} is missing")
            self._arrays[index] = self.archive.read(name)
        return self._arrays[index]

    def device(self, saved):
        location = self.map_location
        if location is None:
            return as_device(saved)
        if isinstance(location, dict):
            return as_device(location.get(saved, saved))
        if callable(location):     # PyTorch's map_location(storage, location) -> storage
            moved = location(Tensor._wrap(np.zeros(0)), saved)
            return as_device(saved) if moved is None else moved.device
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
        if tag == "pickle":
            data = self.array(node["a"])
            if self.pickled is None or data.dtype != np.uint8 or data.ndim != 1:
                raise _Corrupt("corrupt manifest: a pickle node inside a pickle")
            if self.pickled:        # weights_only
                _check_weights_only_pickle(data.tobytes())
            unpickler = _Unpickler(io.BytesIO(data.tobytes()), self, self.pickled)
            self.pickled = None
            try:
                return unpickler.load()
            except _FromArchive as e:
                raise e.args[0] from None
            except Exception as e:      # the unpickled code's own error, not corruption
                raise _FromPickle(e) from e
        if tag in ("list", "tuple", "size"):
            kind = {"list": list, "tuple": tuple, "size": Size}[tag]
            return kind(self.decode(v) for v in node["v"])
        raise _Corrupt(f"corrupt manifest: unknown node {str(node)[:80]!r}")

    def _tensor(self, node):
        array = self.array(node["a"])
        if node["dtype"] == "bfloat16" and array.dtype == np.uint16:
            array = array.view(dtypes.bfloat16)
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


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read an object written by ``save`` from a path or a readable binary file object.

    ``map_location`` (a device, a device string, a dict from saved to wanted device
    strings, or PyTorch's ``fn(storage, location)``) says where tensors go; by default,
    back to the device they were saved from. ``weights_only`` (default True, as PyTorch
    ≥ 2.6) matters only for a file holding a pickle: then only allowlisted globals are
    unpickled (see the module docstring); ``weights_only=False`` unpickles anything, which
    can run code from the file."""
    weights_only = True if weights_only is None else bool(weights_only)
    if pickle_module is not None and weights_only:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if hasattr(f, "read"):
        source = contextlib.nullcontext(io.BytesIO(f.read()))
        name = getattr(f, "name", "<file object>")
    else:
        name = os.fspath(f)
        # FileNotFoundError, IsADirectoryError; a FIFO or device is refused, not waited on
        source = open_regular_file(name)
    with source as handle:
        return _load_archive(handle, name, map_location, weights_only)


def _load_archive(handle, name, map_location, weights_only):
    try:
        archive = open_archive(handle)
        with contextlib.closing(archive):
            if _MANIFEST not in archive.files:
                raise _Corrupt("no minigrad manifest")
            raw = archive.read(_MANIFEST)
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise _Corrupt("the manifest is not a uint8 vector")
            manifest = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
                raise _Corrupt("unknown format")
            return _Decoder(archive, map_location, weights_only).decode(manifest["root"])
    except _FromPickle as e:
        raise e.args[0] from None
    except _Corrupt as e:
        raise RuntimeError(f"minigrad.load: {name} is not a valid minigrad checkpoint: "
                           f"{e}") from e
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError, TypeError, OSError,
            AttributeError, UnicodeDecodeError, RecursionError) as e:
        raise RuntimeError(f"minigrad.load: {name} is not a valid minigrad checkpoint "
                           f"(truncated or corrupt?): {type(e).__name__}: {e}") from e
