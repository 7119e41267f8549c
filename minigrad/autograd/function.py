"""Function: one differentiable operation, and the node it leaves in the graph.

A subclass writes

    class Mul(Function):
        '''z = x·y;  dx = dz·y,  dy = dz·x  (broadcast, then summed back by sum_to)'''
        def forward(self, x, y):                 # Tensors in, an xp array out
            self.save_for_backward(x, y)
            return x.array * y.array
        def backward(self, dz):                  # Tensors in, Tensors out
            x, y = self.saved_tensors
            return dz * y, dz * x

``forward`` receives the Tensor arguments (and any plain arguments) and returns raw arrays;
``apply`` wraps them as Tensors and, when grad mode is on and an input requires grad,
records the node. ``backward`` is written with Tensor operations, so running it with grad
mode on (``create_graph=True``) records the backward pass too, which is all higher-order
gradients need. ``apply_inplace`` runs the same op into an existing tensor (``add_``).

The graph: a node holds one ``Edge(node, slot)`` per Tensor input — where that input's
gradient goes: output ``slot`` of the node that produced it, or slot 0 of the input's
``AccumulateGrad`` node when the input is a leaf — or None for an input needing no
gradient. A node holds its inputs' edges, never the input Tensors unless it saved them,
and holds its outputs only weakly, so a graph is owned by its outputs and frees itself
when they go. Saved tensors remember the version counter they had, so modifying one in
place before backward raises.
"""
import sys
import weakref

from .. import dtypes
from ..tensor import Tensor, VersionCounter
from .handle import RemovableHandle
from .graph import (AccumulateGrad, Edge, Hooks, SavedTensor,  # noqa: F401 (re-exported)
                    HOOK_STACK, gradient_edge, hooks_of, saved)
from .grad_mode import is_grad_enabled, no_grad


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    # Class-level defaults keep node creation cheap (no __init__ work per op).
    next_edges = ()          # per Tensor input: an Edge, or None when it needs no gradient
    needs_input_grad = ()    # per Tensor input: whether it needs a gradient
    output_meta = ()         # per output: (shape, dtype, array type)
    _output = None           # a single output's weak reference (the common case) ...
    _outputs = ()            # ... or one per output of a multi-output node
    generation = 0
    _recording = False       # set by apply when this node joins the graph
    _saved = ()
    _saved_outputs = ()
    _saved_output_records = ()
    _freed = False
    # apply_inplace refuses a source that partially overlaps the target, unless the op
    # checks overlap itself (t[key] = v writes only a region; fill_ and masked_fill_ take a
    # 0-d value as a number, as PyTorch does).
    overlap_checked_by_caller = False
    _non_differentiable = ()
    _hooks = None            # a Hooks once a hook is registered on this node or its outputs
    _materialize_grads = True   # missing float output gradients reach backward as zeros

    # ------------------------------------------------------------------ user API
    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def save_for_backward(self, *tensors):
        """Save input Tensors (or None) for backward (nothing is kept when the op is not
        recorded: no backward will ask)."""
        if self._recording:
            if HOOK_STACK:      # inside saved_tensors_hooks (e.g. a checkpointed region)
                self._saved = [None if t is None else saved(t) for t in tensors]
            else:
                self._saved = [None if t is None else SavedTensor(t) for t in tensors]

    def save_outputs_for_backward(self, *slots):
        """Ask ``apply`` to save these output slots (default: the first) for backward."""
        self._saved_outputs = slots or (0,)

    @property
    def saved_tensors(self):
        self._check_not_freed()
        return tuple(None if s is None else s.unpack() for s in self._saved)

    @property
    def saved_outputs(self):
        self._check_not_freed()
        return tuple(s.unpack(self) for s in self._saved_output_records)

    def mark_non_differentiable(self, *slots):
        self._non_differentiable = set(slots)

    @property
    def outputs(self):
        """Weak references to the output Tensors, one per output slot."""
        return (self._output,) if self._output is not None else self._outputs

    # ------------------------------------------------------------------ graph API
    @property
    def next_functions(self):
        """PyTorch's view of the edges: ``(node, slot)`` per input (``AccumulateGrad`` for a
        leaf, whose ``.variable`` is the leaf) and ``(None, 0)`` for an input needing no grad."""
        return tuple((None, 0) if e is None else tuple(e) for e in self.next_edges)

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` after this node's backward; a non-None
        return (one entry per input) replaces ``grad_inputs``."""
        table = hooks_of(self).post
        handle = RemovableHandle(table)
        table[handle.id] = hook
        return handle

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before this node's backward; a non-None return (one
        entry per output) replaces ``grad_outputs``."""
        table = hooks_of(self).pre
        handle = RemovableHandle(table)
        table[handle.id] = hook
        return handle

    def name(self):
        name = type(self).__name__
        return name if name.endswith("Backward") else f"{name}Backward"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def _check_not_freed(self):
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")

    def release(self):
        """Free what backward needed (called after backward unless retain_graph)."""
        if self._saved or self._saved_outputs:
            self._freed = True
        self._saved = []
        self._saved_output_records = ()

    def input_gradients(self, grads):
        """Run ``backward`` on the summed output gradients; one gradient (or None) per edge.

        A missing gradient of a float output is zero; integer outputs (argmax indices) have
        no gradient and get None, as in PyTorch."""
        if grads.count(None) == len(grads) or True not in self.needs_input_grad:
            return (None,) * len(self.next_edges)
        if None in grads and self._materialize_grads:
            grads = [g if g is not None or meta[1].kind not in "fV" else
                     Tensor._wrap(_array_module(meta[2]).zeros(meta[0], dtype=meta[1]))
                     for g, meta in zip(grads, self.output_meta)]
        result = self.backward(*grads)
        return result if isinstance(result, tuple) else (result,)

    # ------------------------------------------------------------------ recording
    @classmethod
    def apply(cls, *args, **kwargs):
        fn = cls()
        inputs = [a for a in args if isinstance(a, Tensor)]
        record = False
        if is_grad_enabled():
            needs = tuple(t._requires_grad for t in inputs)
            record = True in needs
        if record:
            fn.needs_input_grad, fn._recording = needs, True
        else:
            fn.needs_input_grad = (False,) * len(inputs)
        raw = fn.forward(*args, **kwargs)
        wrap = Tensor._wrap
        if type(raw) is tuple:
            outputs = tuple(wrap(array, record and slot not in fn._non_differentiable
                                 and array.dtype.kind in "fV") for slot, array in enumerate(raw))
        else:
            outputs = (wrap(raw, record and raw.dtype.kind in "fV"),)
        if record:
            fn._connect(inputs, outputs)
        if _tracers and not _tracers[-1].paused:
            _tracers[-1].record(cls, args, kwargs, outputs)
        return outputs[0] if type(raw) is not tuple else outputs

    def _connect(self, inputs, outputs):
        edges, generation = [], 0
        for t in inputs:
            if not t._requires_grad:
                edges.append(None)
                continue
            if t._base is not None and t._view_version != t._version_counter.value:
                refresh_view(t)
            edge = gradient_edge(t)
            edges.append(edge)
            if t.grad_fn is not None and t.grad_fn.generation >= generation:
                generation = t.grad_fn.generation + 1
        self.next_edges = edges
        self.generation = generation
        if len(outputs) == 1:      # the common case, without generator expressions
            data = outputs[0].array
            key = (data.shape, data.dtype, type(data))
            meta = _SHARED_META.get(key)
            if meta is None:
                meta = _share_meta(key)
            self.output_meta = meta
            self._output = weakref.ref(outputs[0])
        else:
            self.output_meta = tuple((o.array.shape, o.array.dtype, type(o.array))
                                     for o in outputs)
            self._outputs = tuple(weakref.ref(o) for o in outputs)
        for slot, o in enumerate(outputs):
            if o._requires_grad:
                o.grad_fn, o._output_slot = self, slot
        if self._saved_outputs:
            self._saved_output_records = tuple(
                saved(outputs[s], slot=s) for s in self._saved_outputs)

    # ------------------------------------------------------------------ in place
    @classmethod
    def apply_inplace(cls, target, *args, **kwargs):
        """Run the op out of place on (target, *args), write the result into target's
        array, bump its version, and when recording make target the new node's output.

        The node's input is a snapshot of target's old value, taken only when recording,
        so a backward that needs the old value (``mul_``, ``div_``) still has it
        (PyTorch's original_self)."""
        check_no_internal_overlap(target)
        if _tracers and not _tracers[-1].paused:
            return _traced_inplace(cls, target, args, kwargs)
        others = [a for a in args if isinstance(a, Tensor)]
        if not cls.overlap_checked_by_caller:
            check_no_partial_overlap(target, others)
        record = is_grad_enabled() and (target.requires_grad or any(o.requires_grad for o in others))
        if record and target.grad_fn is None and target.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        region = None
        if record and target._base is not None:
            base = target._base
            if base.requires_grad and base.grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
            region = Region.locate(target.array, base.array)
        if record:
            source = Tensor._from_node(target.array.copy(), target.grad_fn, target._output_slot,
                                       target.requires_grad, VersionCounter())
            # t.mul_(t): the other operand is a stand-in for target before the write (same
            # array, version counter and edge), so saving it is stale at backward as in
            # PyTorch, and the node never holds its own output (a reference cycle).
            if any(a is target for a in args):
                before = Tensor._from_node(target.array, target.grad_fn, target._output_slot,
                                           target.requires_grad, target._version_counter)
                args = tuple(before if a is target else a for a in args)
            result = cls.apply(source, *args, **kwargs)
        else:
            with no_grad():
                result = cls.apply(target.detach(), *args, **kwargs)
        _check_inplace_result(result, target)
        target.array[...] = result.array
        target._version_counter.value += 1
        if region is not None:
            _rebase_view(target, result, region)
        elif record:
            result.grad_fn._rebind_output(target)
        return target

    def _rebind_output(self, tensor):
        """Make ``tensor`` (written in place) this node's only output, in place of the
        temporary the op produced: its grad_fn, the weak output, and saved-output records."""
        tensor.grad_fn, tensor._output_slot, tensor._requires_grad = self, 0, True
        self._output, self._outputs = weakref.ref(tensor), ()
        for record in self._saved_output_records:
            record.track(tensor)


def _check_inplace_result(result, target):
    """An in-place op's result must fit its target: same shape, a castable dtype."""
    if tuple(result.shape) != tuple(target.shape):
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the "
                           f"broadcast shape {list(result.shape)}")
    if dtypes.category(result.dtype) > dtypes.category(target.dtype):
        raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output "
                           f"type {target.dtype}")


#: Tracers of Function applications (minigrad.onnx.export): while one is on the stack,
#: every ``apply`` calls ``tracer.record(cls, args, kwargs, outputs)`` after running the
#: op, unless ``tracer.paused``. Empty outside an export, so recording costs one truth test.
_tracers = []


def _traced_inplace(cls, target, args, kwargs):
    """An in-place op under a tracer: recorded as the out-of-place op ``cls(target, *args)``
    whose output is ``target`` itself (its new value), the inner apply unrecorded."""
    tracer = _tracers[-1]
    tracer.paused += 1
    try:
        with no_grad():
            result = cls.apply(target.detach(), *args, **kwargs)
        _check_inplace_result(result, target)
        target.array[...] = result.array
        target._version_counter.value += 1
    finally:
        tracer.paused -= 1
    tracer.record(cls, (target,) + tuple(args), kwargs, (target,))
    return target


# One ``output_meta`` tuple per (shape, dtype, array type), shared by every single-output
# node that produces it: each distinct Python object in a graph is more work for the cycle
# collector, whose full passes dominated the cost of long graphs.
_SHARED_META = {}


def _share_meta(key):
    if len(_SHARED_META) > 4096:     # shapes that keep changing: start over
        _SHARED_META.clear()
    meta = _SHARED_META[key] = (key,)
    return meta


def _array_module(array_type):
    """numpy or cupy, from an array type recorded in ``output_meta``."""
    return sys.modules[array_type.__module__.split(".")[0]]


# ---------------------------------------------------------------------- in place on a view
class Region:
    """Where a view lies inside its base, in elements: ``shape``, ``strides`` and ``offset``
    into a C-contiguous array of the base's shape (the layout every gradient is given)."""

    def __init__(self, base_shape, shape, strides, offset):
        self.base_shape, self.shape, self.strides, self.offset = base_shape, shape, strides, offset

    @classmethod
    def locate(cls, view, base):
        """The region of ``view`` (an array sharing ``base``'s memory) in ``base``."""
        if not base.flags.c_contiguous:
            raise RuntimeError("in-place operation on a view of a non-contiguous tensor that "
                               "is part of a graph; call .contiguous() on the base first")
        size = base.itemsize
        offset = _address(view) - _address(base)
        return cls(base.shape, view.shape, tuple(s // size for s in view.strides), offset // size)

    def of(self, array):
        """The region as a view of ``array`` (shape ``base_shape``)."""
        flat = array.reshape(-1) if array.flags.c_contiguous else array.copy().reshape(-1)
        xp = _array_module(type(array))
        return xp.lib.stride_tricks.as_strided(
            flat[self.offset:], self.shape, tuple(s * array.itemsize for s in self.strides))


def _partially_overlap(a, b):
    """Whether two dense (C- or F-contiguous) arrays share some but not all of their bytes.
    Arrays of other layouts are not compared (PyTorch's "too hard" case)."""
    if a is b or a.size == 0 or b.size == 0:
        return False
    if not ((a.flags.c_contiguous or a.flags.f_contiguous) and
            (b.flags.c_contiguous or b.flags.f_contiguous)):
        return False
    start_a, start_b = _address(a), _address(b)
    end_a, end_b = start_a + a.nbytes, start_b + b.nbytes
    if (start_a, end_a) == (start_b, end_b):
        # The same memory in the same layout (t.add_(t)) is fine; another layout of it
        # (t.add_(t.t())) is a partial overlap, as PyTorch's get_overlap_status has it.
        return tuple(a.strides) != tuple(b.strides)
    return start_a < end_b and start_b < end_a


def _overlap(a, b):
    """Whether two dense arrays share any byte (the same memory included)."""
    if a.size == 0 or b.size == 0 or not ((a.flags.c_contiguous or a.flags.f_contiguous) and
                                          (b.flags.c_contiguous or b.flags.f_contiguous)):
        return False
    start_a, start_b = _address(a), _address(b)
    return start_a < start_b + b.nbytes and start_b < start_a + a.nbytes


def check_no_overlap(target, sources):
    """PyTorch's assert_no_overlap for the index ops (``index_add_``, ``index_copy_``,
    ``scatter_``): a source sharing any memory with the target, fully or in part, is refused."""
    for source in sources:
        if isinstance(source, Tensor) and _overlap(target.array, source.array):
            raise RuntimeError(f"unsupported operation: some elements of the input tensor and the "
                               f"written-to tensor refer to a single memory location (shapes "
                               f"{list(source.shape)} and {list(target.shape)}). Please clone() "
                               f"the tensor before performing the operation.")


def check_no_internal_overlap(target):
    """PyTorch's refusal to write into a tensor whose elements share memory (an ``expand()``ed
    view): a dimension of size > 1 with stride 0 (an empty tensor has nothing to overlap).
    The strides decide it, not numpy's ``writeable`` flag, which CuPy arrays do not have
    (there the write would silently land on every element sharing the location); a
    read-only numpy array is refused too."""
    array = target.array
    if (array.size > 1 and any(stride == 0 and size > 1
                               for size, stride in zip(array.shape, array.strides))
            or not getattr(array.flags, "writeable", True)):
        raise RuntimeError(f"unsupported operation: more than one element of the written-to "
                           f"tensor (shape {list(target.shape)}) refers to a single memory "
                           f"location. Please clone() the tensor before performing the "
                           f"operation.")


def check_no_partial_overlap(target, sources):
    """PyTorch's refusal to write into ``target`` in place from a tensor that partially
    overlaps it (``z[1:].add_(z[:-1])``, ``z[1:] = z[:-1]``): the result would depend on the
    order in which elements are written, so nothing is written and a RuntimeError is raised."""
    for source in sources:
        if isinstance(source, Tensor) and _partially_overlap(target.array, source.array):
            raise RuntimeError(f"unsupported operation: some elements of the input tensor and the "
                               f"written-to tensor refer to a single memory location (shapes "
                               f"{list(source.shape)} and {list(target.shape)}). Please clone() "
                               f"the tensor before performing the operation.")


def _address(array):
    interface = getattr(array, "__array_interface__", None)
    return interface["data"][0] if interface is not None else array.data.ptr


class ViewOfBase(Function):
    """y = R(x), the region R of base x, as a view;  dx = zeros(x.shape) with R ← dy."""

    def forward(self, base, region):
        self.region = region
        return region.of(base.array)

    def backward(self, dy):
        return PlaceInRegion.apply(dy, self.region)


class PlaceInRegion(Function):
    """y = zeros(base shape) with R ← x;  dx = R(dy)  (the adjoint of ViewOfBase)."""

    def forward(self, x, region):
        self.region = region
        out = x.xp.zeros(region.base_shape, dtype=x.dtype)
        region.of(out)[...] = x.array
        return out

    def backward(self, dy):
        return Tensor._wrap(self.region.of(dy.array).copy()) if not is_grad_enabled() \
            else ViewOfBase.apply(dy, self.region) * 1


class ZeroRegion(Function):
    """y = x with R set to 0;  dx = dy with R set to 0 (a self-adjoint projection)."""

    def forward(self, x, region):
        self.region = region
        out = x.array.copy()
        region.of(out)[...] = 0
        return out

    def backward(self, dy):
        return ZeroRegion.apply(dy, self.region)


class CopySlices(Function):
    """PyTorch's CopySlices: base after an in-place op on its view, y = base_before with R ← v
    (already written in memory, so forward returns base's array as it is);
    d base_before = dy with R zeroed,  dv = R(dy)."""

    def forward(self, base_before, value, region, written):
        self.region = region
        return written

    def backward(self, dy):
        return ZeroRegion.apply(dy, self.region), ViewOfBase.apply(dy, self.region) * 1


def refresh_view(view):
    """A view whose base was written in place after the view got its grad_fn (through
    another view, or directly) is re-derived from the base as it is now, ViewOfBase(base),
    as PyTorch regenerates a stale view's grad_fn."""
    base = view._base
    view._view_version = view._version_counter.value
    if base.requires_grad and is_grad_enabled():
        ViewOfBase.apply(base, Region.locate(view.array, base.array)).grad_fn._rebind_output(view)


def current_edge(tensor):
    """``gradient_edge`` of a tensor about to be used, after refreshing a stale view."""
    if tensor._base is not None and tensor._view_version != tensor._version_counter.value:
        refresh_view(tensor)
    return gradient_edge(tensor)


def _rebase_view(view, result, region):
    """After ``view`` was written with ``result`` (the op's recorded output): the base now
    comes from CopySlices(base before, result), and the view is a ViewOfBase of it."""
    base = view._base
    before = Tensor._from_node(base.array, base.grad_fn, base._output_slot, base.requires_grad,
                               VersionCounter())
    CopySlices.apply(before, result, region, base.array).grad_fn._rebind_output(base)
    ViewOfBase.apply(base, region).grad_fn._rebind_output(view)
    view._view_version = view._version_counter.value

