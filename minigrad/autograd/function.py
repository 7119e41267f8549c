"""Function: one differentiable operation, and the node it leaves in the graph.

A subclass writes

    class Mul(Function):
        '''z = x·y;  dx = dz·y,  dy = dz·x  (broadcast, then summed back by sum_to)'''
        def forward(self, x, y):                 # Tensors in, an xp array out
            self.save_for_backward(x, y)
            return x.data * y.data
        def backward(self, dz):                  # Tensors in, Tensors out
            x, y = self.saved_tensors
            return dz * y, dz * x

``forward`` receives the Tensor arguments (and any plain arguments) and returns raw arrays;
``apply`` wraps them as Tensors and, when grad mode is on and an input requires grad,
records the node. ``backward`` is written with Tensor operations, so running it with grad
mode on (``create_graph=True``) records the backward pass too, which is all higher-order
gradients need.

Memory: a node holds its inputs' *edges* (their producing node and output slot, or the leaf
tensor itself), never the input Tensors unless it saved them, and holds its outputs only
weakly. A graph is thus owned by its outputs and frees itself when they go. Saved tensors
remember the version counter they had, so modifying one in place before backward raises.
"""
import weakref

from .grad_mode import is_grad_enabled


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved.

    Outputs are saved as their array plus a weak reference: holding the output Tensor
    strongly would make a reference cycle (output → grad_fn → saved output). When the
    output object is gone, an equivalent Tensor is rebuilt on the same node and slot.
    """

    __slots__ = ("tensor", "weak_output", "data", "version_counter", "version", "node", "slot",
                 "requires_grad")

    def __init__(self, tensor, node=None, slot=None):
        self.version_counter = tensor._version_counter
        self.version = tensor._version_counter.value
        self.node, self.slot = node, slot
        if node is None:
            self.tensor, self.weak_output, self.data = tensor, None, None
        else:
            self.tensor, self.weak_output, self.data = None, weakref.ref(tensor), tensor.data
            self.requires_grad = tensor.requires_grad

    def unpack(self):
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
            out = Tensor._from_node(self.data, self.node, self.slot, self.requires_grad,
                                    self.version_counter)
        return out


class AccumulateGrad:
    """Where a leaf's gradient ends up, as ``next_functions`` shows it (PyTorch's name)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    # Class-level defaults keep node creation cheap (no __init__ work per op).
    next_edges = ()          # per input: (node, slot) | ("leaf", tensor) | None
    needs_input_grad = ()    # per Tensor input: whether it needs a gradient
    output_meta = ()         # per output: (shape, dtype, xp)
    outputs = ()             # weak references to the output Tensors
    generation = 0
    _saved = ()
    _saved_outputs = ()
    _saved_output_records = ()
    _freed = False
    _non_differentiable = ()

    # ------------------------------------------------------------------ user API
    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def save_for_backward(self, *tensors):
        """Save input Tensors (or None) for backward."""
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
        return tuple(s.unpack() for s in self._saved_output_records)

    def mark_non_differentiable(self, *slots):
        self._non_differentiable = set(slots)

    # ------------------------------------------------------------------ graph API
    @property
    def next_functions(self):
        """PyTorch's view of the edges: (node, slot) per input, ``(AccumulateGrad, 0)`` for a
        leaf (its ``.variable`` is the leaf) and ``(None, 0)`` for an input needing no grad."""
        return tuple((None, 0) if e is None else (AccumulateGrad(e[1]), 0) if e[0] == "leaf"
                     else (e[0], e[1]) for e in self.next_edges)

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

    # ------------------------------------------------------------------ recording
    @classmethod
    def apply(cls, *args, **kwargs):
        fn = cls()
        inputs = [a for a in args if isinstance(a, Tensor)]
        record = False
        if is_grad_enabled():
            needs = tuple(t._requires_grad for t in inputs)
            record = True in needs
        fn.needs_input_grad = needs if record else (False,) * len(inputs)
        raw = fn.forward(*args, **kwargs)
        if type(raw) is tuple:
            outputs = tuple(_wrap(array, record and slot not in fn._non_differentiable
                                  and array.dtype.kind == "f") for slot, array in enumerate(raw))
        else:
            outputs = (_wrap(raw, record and raw.dtype.kind == "f"),)
        if record:
            fn._connect(inputs, outputs)
        elif fn._saved:
            fn._saved = ()
        return outputs[0] if type(raw) is not tuple else outputs

    def _connect(self, inputs, outputs):
        edges, generation = [], 0
        for t in inputs:
            if not t._requires_grad:
                edges.append(None)
            elif t.grad_fn is None:
                edges.append(("leaf", t))
            else:
                edges.append((t.grad_fn, t._output_slot))
                if t.grad_fn.generation >= generation:
                    generation = t.grad_fn.generation + 1
        self.next_edges = edges
        self.generation = generation
        self.output_meta = tuple((o.data.shape, o.data.dtype, type(o.data)) for o in outputs)
        self.outputs = tuple(weakref.ref(o) for o in outputs)
        for slot, o in enumerate(outputs):
            if o._requires_grad:
                o.grad_fn, o._output_slot = self, slot
        if self._saved_outputs:
            self._saved_output_records = tuple(
                SavedTensor(outputs[s], node=self, slot=s) for s in self._saved_outputs)


# Bound by minigrad/tensor.py once Tensor exists (tensor.py imports this package first).
Tensor = None
_wrap = None
