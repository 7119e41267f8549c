"""Loading a ``state_dict`` into a Module, all or nothing.

A state dict is the flat view of a module tree: ``{"block.0.weight": tensor, ...}``, one
entry per parameter and persistent buffer, keyed by its dotted path (``Module.state_dict``
builds it). Loading is the inverse walk, done in two passes:

1. **plan** — pair every expected key with its value and check it: present (when
   ``strict``), no stray keys (when ``strict``), array-like, a supported dtype, the same
   shape (always). Every problem is collected;
2. **copy** — only if the plan is clean, copy each value into its tensor in place
   (``copy_`` under ``no_grad``, casting dtype and device), so optimizers holding the
   parameters see the new values.

A failure therefore raises one RuntimeError listing every problem (PyTorch's message
format) and leaves the module untouched — PyTorch itself copies as it goes and can stop
half way. Values may be minigrad Tensors or numpy arrays, which is how PyTorch weights come
in: ``model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})``.
"""
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ..autograd.grad_mode import no_grad
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and did not expect."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def state_slots(root):
    """``(key, owning module, table, entry name, tensor)`` for every entry that
    ``root.state_dict()`` produces, in the same order (own parameters, own persistent
    buffers, then each child depth first; a shared child under each of its names)."""
    slots = []
    stack = [("", root)]
    while stack:
        prefix, module = stack.pop()
        for table in ("_parameters", "_buffers"):
            for name, value in getattr(module, table).items():
                if value is None or (table == "_buffers"
                                     and name in module._non_persistent_buffers_set):
                    continue
                slots.append((prefix + name, module, table, name, value))
        children = [(prefix + n + ".", m) for n, m in module._modules.items() if m is not None]
        stack.extend(reversed(children))
    return slots


def _as_array(value):
    """The array inside a checkpoint value, or None when it is not array-like."""
    array = value.array if isinstance(value, Tensor) else value
    if isinstance(array, np.generic):   # a 0-d array after numpy arithmetic
        array = np.asarray(array)
    if isinstance(array, np.ndarray) or hasattr(array, "__cuda_array_interface__"):
        return array
    return None


def _check_value(key, value, current):
    """An error message for one checkpoint entry, or None when it can be copied."""
    array = _as_array(value)
    if array is None:
        return (f'While copying the parameter named "{key}", expected minigrad.Tensor or numpy '
                f"array from checkpoint but received {type(value)}")
    if array.dtype not in dtypes._SUPPORTED:
        return (f'While copying the parameter named "{key}", the checkpoint holds dtype '
                f"{array.dtype}, which minigrad does not support")
    if tuple(array.shape) != tuple(current.shape):
        return (f"size mismatch for {key}: copying a param with shape "
                f"{Tensor._wrap(array).shape!r} from checkpoint, the shape in current model is "
                f"{current.shape!r}.")
    return None


def load_state(root, state_dict, strict=True, assign=False):
    """``root.load_state_dict(state_dict, strict, assign)``; see the module docstring.

    ``assign=True`` makes the loaded values the module's tensors (keeping each
    parameter's ``requires_grad``) instead of copying into the existing ones.
    """
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
    slots = state_slots(root)
    expected = {key for key, *_ in slots}
    missing = [key for key, *_ in slots if key not in state_dict]
    unexpected = [key for key in state_dict.keys() if key not in expected]

    errors, plan = [], []
    for key, module, table, name, current in slots:
        if key not in state_dict:
            continue
        error = _check_value(key, state_dict[key], current)
        if error:
            errors.append(error)
        else:
            plan.append((module, table, name, current, _as_array(state_dict[key])))
    if strict:
        # PyTorch's order: missing keys, then unexpected keys, then per-entry errors.
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ". ")
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {root._get_name()}:\n\t"
                           + "\n\t".join(errors))

    with no_grad():
        for module, table, name, current, array in plan:
            source = Tensor._wrap(array)
            if assign:
                loaded = source.to(current.device).clone()
                if table == "_parameters":
                    loaded = Parameter(loaded, current.requires_grad)
                getattr(module, table)[name] = loaded
            else:
                current.copy_(source)
    return _IncompatibleKeys(missing, unexpected)
