"""The graph's parts other than Function nodes: ``Edge`` (where a gradient flows),
``SavedTensor`` (a tensor saved for backward, with its version), ``AccumulateGrad`` (a
leaf's node), the per-node hook table, and ``gradient_edge``. ``function.py`` builds on
these and re-exports them."""
import weakref
from typing import NamedTuple

from ..tensor import Tensor
from .handle import new_table


class Edge(NamedTuple):
    """Where a gradient flows: output ``slot`` of graph node ``node`` (a Function, or the
    AccumulateGrad of a leaf)."""
    node: object
    slot: int


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved.

    Outputs are saved as their array plus a weak reference: holding the output Tensor
    strongly would make a reference cycle (output → grad_fn → saved output). For the same
    reason the record does not hold its node: the node passes itself to ``unpack``, and when
    the output object is gone an equivalent Tensor is rebuilt on that node and ``slot``.
    A graph dropped without backward is then freed by reference counting alone.
    """

    __slots__ = ("tensor", "weak_output", "array", "version_counter", "version", "slot",
                 "requires_grad")

    def __init__(self, tensor, slot=None):
        self.slot = slot
        if slot is None:     # an input: hold it (the common case, written out)
            self.tensor, self.weak_output, self.array = tensor, None, None
            counter = self.version_counter = tensor._version_counter
            self.version = counter.value
        else:
            self.track(tensor)

    @property
    def is_output(self):
        return self.slot is not None

    def track(self, tensor):
        """Follow ``tensor`` (an output, or the tensor an in-place op rebound it to)."""
        self.version_counter = tensor._version_counter
        self.version = tensor._version_counter.value
        if self.slot is not None:
            self.tensor, self.weak_output, self.array = None, weakref.ref(tensor), tensor.array
            self.requires_grad = tensor.requires_grad

    def unpack(self, node=None):
        """The saved tensor; ``node`` is the owner, needed to rebuild a dropped output."""
        if self.version_counter.value != self.version:
            t = self.tensor if self.tensor is not None else self.weak_output()
            desc = (f"[{type(t).__name__} of shape {tuple(t.shape)}, dtype {t.dtype}]"
                    if t is not None else "an output")
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {desc} is at version {self.version_counter.value}; "
                f"expected version {self.version} instead.")
        if self.tensor is not None:
            return self.tensor
        out = self.weak_output()
        if out is None:
            out = Tensor._from_node(self.array, node, self.slot, self.requires_grad,
                                    self.version_counter)
        return out


class saved_tensors_hooks:
    """PyTorch's ``torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)``: while
    active, every tensor an op saves for backward is stored as ``pack_hook(tensor)`` and
    handed back to backward as ``unpack_hook(packed)``. Regions nest (the innermost wins).
    ``utils.checkpoint`` is built on it: pack keeps an index instead of the activation,
    unpack recomputes the region. The stack is process-wide (PyTorch's is per thread)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        HOOK_STACK.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        HOOK_STACK.pop()
        return False


HOOK_STACK = []     # the active (pack, unpack) pairs, innermost last


class HookedSavedTensor:
    """A saved tensor stored through ``saved_tensors_hooks``: only what pack returned is
    kept (no version check: the hooks own the value)."""

    __slots__ = ("packed", "unpack_hook")
    is_output, tensor = False, None

    def __init__(self, tensor, hooks):
        self.packed, self.unpack_hook = hooks[0](tensor), hooks[1]

    def track(self, tensor):
        """(An in-place op rebinding a hooked output: the hooks already hold its value.)"""

    def unpack(self, node=None):
        return self.unpack_hook(self.packed)


def saved(tensor, slot=None):
    """The record of a tensor saved for backward: a ``SavedTensor``, or a
    ``HookedSavedTensor`` inside ``saved_tensors_hooks``."""
    if HOOK_STACK:
        return HookedSavedTensor(tensor, HOOK_STACK[-1])
    return SavedTensor(tensor, slot)


class Hooks:
    """The hooks of one node (or leaf): ``tensor_pre`` {output slot: table of tensor
    hooks}, ``pre`` and ``post`` node hooks, ``post_accumulate`` (leaves)."""

    __slots__ = ("tensor_pre", "pre", "post", "post_accumulate")

    def __init__(self):
        self.tensor_pre = {}
        self.pre = new_table()
        self.post = new_table()
        self.post_accumulate = new_table()


def hooks_of(owner):
    hooks = owner._hooks
    if hooks is None:
        hooks = owner._hooks = Hooks()
    return hooks


class AccumulateGrad:
    """The graph node of a leaf that requires grad: gradients flowing into its slot 0 end
    up in ``variable.grad`` (PyTorch's name). One per leaf while any graph uses it: the
    node holds the leaf, the leaf holds the node weakly."""

    __slots__ = ("variable", "__weakref__")
    next_edges = ()

    def __init__(self, variable):
        self.variable = variable

    @property
    def output_meta(self):
        v = self.variable.array
        return ((v.shape, v.dtype, type(v)),)

    @property
    def next_functions(self):
        return ()

    def release(self):
        pass

    @property
    def _hooks(self):
        """A leaf's hooks are kept on the leaf (this node is created lazily)."""
        return self.variable._hooks

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_new_edge = tuple.__new__


def gradient_edge(tensor):
    """The edge a tensor's gradient flows into: its producer's output slot, or its leaf
    accumulator (created on first use, then shared by every graph that uses the leaf)."""
    if tensor.grad_fn is not None:
        return _new_edge(Edge, (tensor.grad_fn, tensor._output_slot))
    ref = tensor._grad_accumulator
    accumulator = ref() if ref is not None else None
    if accumulator is None:
        accumulator = AccumulateGrad(tensor)
        tensor._grad_accumulator = weakref.ref(accumulator)
    return _new_edge(Edge, (accumulator, 0))      # Edge(accumulator, 0), without __new__'s call
