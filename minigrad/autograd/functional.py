"""The two front ends of the backward engine: ``backward`` accumulates into ``.grad``;
``grad`` returns the gradients of chosen inputs and leaves ``.grad`` alone.

Both seed the roots, then hand ``engine.execute`` a front end whose ``visit(node, grads)``
receives a node's complete output gradient and returns its input gradients (or None to
stop there). ``Tensor.backward`` is ``tensor_backward`` below (bound by
``minigrad/tensor_methods.py``).
"""
from ..tensor import Tensor
from .engine import accumulate, execute, reaching
from .function import AccumulateGrad, Edge, current_edge, gradient_edge


def seed_gradient(output, gradient, index=0):
    """The gradient backward starts from for ``output``: ones for a one-element output when
    none is given, else ``gradient`` as a tensor of the output's shape (checked)."""
    if not output.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                               f"(output {index} has shape {tuple(output.shape)})")
        return Tensor._wrap(output.xp.ones(output.array.shape, dtype=output.dtype))
    if not isinstance(gradient, Tensor):      # PyTorch: a TypeError, never a conversion
        raise TypeError(f"gradient for output {index} must be a Tensor or None, not "
                        f"{type(gradient).__name__}")
    if gradient.array.shape != output.array.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{index}] has a shape of "
                           f"{tuple(gradient.shape)} and output[{index}] has a shape of "
                           f"{tuple(output.shape)}.")
    return gradient


def as_tuple(x):
    """A tensor or a sequence of tensors, as a tuple."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _seeds(outputs, grad_outputs):
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} "
                           f"grad_outputs for {len(outputs)} outputs")
    return [seed_gradient(out, g, i) for i, (out, g) in enumerate(zip(outputs, grad_outputs))]


# ---------------------------------------------------------------------- backward
def accumulate_into(tensor, grad, create_graph):
    """``tensor.grad += grad`` in tensor's dtype; a graph node only with ``create_graph``."""
    if grad.dtype != tensor.dtype:
        grad = grad.to(tensor.dtype)
    if tensor.grad is None and not create_graph:
        # A copy: backward formulas may hand the same array to several inputs (Add passes
        # dz through), and each .grad must be free to change in place.
        tensor._grad = Tensor._wrap(grad.array.copy())
    else:
        tensor._grad = accumulate(tensor._grad, grad, create_graph)


class Accumulate:
    """Front end of ``backward``: gradients reaching a leaf's AccumulateGrad go into its
    ``.grad``, a ``retain_grad()`` tensor gets its own, and every other node runs its VJP.
    With ``inputs``, only those tensors accumulate and only nodes leading to them run."""

    def __init__(self, create_graph, inputs=None):
        self.create_graph = create_graph
        self.only = None if inputs is None else {gradient_edge(t): t for t in inputs}
        self.prunes = inputs is not None
        self.useful = None

    def prepare(self, consumers):
        if self.only is not None:
            self.useful = reaching({edge.node for edge in self.only}, consumers)

    def visit(self, node, grads):
        if type(node) is AccumulateGrad:
            if grads[0] is not None and (self.only is None or Edge(node, 0) in self.only):
                leaf = node.variable
                accumulate_into(leaf, grads[0], self.create_graph)
                if leaf._hooks is not None:
                    for hook in list(leaf._hooks.post_accumulate.values()):
                        hook(leaf)
            return None
        for slot, out_ref in enumerate(node.outputs):
            grad = grads[slot]
            if grad is None:
                continue
            if self.only is not None and Edge(node, slot) in self.only:
                accumulate_into(self.only[Edge(node, slot)], grad, self.create_graph)
            out = out_ref()
            if out is not None and out._retains_grad and out.grad_fn is node:
                g = grad.detach()
                out.grad = g if out.grad is None else out.grad + g
        if self.useful is not None and node not in self.useful:
            return None
        return node.input_gradients(grads)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate Σ_i (∂tensors_i/∂leaf)ᵀ grad_tensors_i into every leaf's ``.grad``
    (``torch.autograd.backward``); ``retain_graph`` defaults to ``create_graph``; with
    ``inputs`` only those tensors accumulate."""
    tensors = as_tuple(tensors)
    seeds = _seeds(tensors, grad_tensors)
    if inputs is not None:
        inputs = as_tuple(inputs)
        if not inputs:
            raise RuntimeError("backward() received an empty list of inputs")
    if retain_graph is None:
        retain_graph = create_graph
    execute([current_edge(t) for t in tensors], seeds, Accumulate(create_graph, inputs),
            retain_graph=retain_graph, create_graph=create_graph)


def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: accumulate d(self)/d(leaf) · gradient into every leaf's ``.grad``."""
    if inputs is not None:
        return backward((self,), None if gradient is None else (gradient,),
                        retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)
    # The common case, ``loss.backward()``, without backward()'s tuple handling.
    execute((current_edge(self),), (seed_gradient(self, gradient),), Accumulate(create_graph),
            retain_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph)


# ---------------------------------------------------------------------- grad
class Capture:
    """Front end of ``grad``: keep the complete gradient arriving at each target edge;
    run only nodes from which a target can be reached; never touch ``.grad``."""

    prunes = True

    def __init__(self, targets):
        self.targets = set(targets)
        self.captured = {}
        self.useful = None

    def prepare(self, consumers):
        self.useful = reaching({edge.node for edge in self.targets}, consumers)

    def visit(self, node, grads):
        for slot, grad in enumerate(grads):
            if grad is not None and Edge(node, slot) in self.targets:
                self.captured[Edge(node, slot)] = grad
        if type(node) is AccumulateGrad or node not in self.useful:
            return None
        return node.input_gradients(grads)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, is_grads_batched=False, materialize_grads=False):
    """Σ_i (∂outputs_i/∂inputs)ᵀ grad_outputs_i for each input, as a tuple of Tensors.

    ``grad_outputs`` defaults to ones for scalar outputs; ``retain_graph`` defaults to
    ``create_graph``; an input the outputs do not depend on raises unless ``allow_unused``
    (then its entry is None, or zeros with ``materialize_grads``)."""
    outputs, inputs = as_tuple(outputs), as_tuple(inputs)
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported by minigrad")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _seeds(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    edges = [gradient_edge(t) for t in inputs]
    capture = Capture(edges)
    execute([current_edge(t) for t in outputs], seeds, capture, retain_graph=retain_graph,
            create_graph=create_graph)
    results = []
    for t, edge in zip(inputs, edges):
        g = capture.captured.get(edge)
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            if materialize_grads:
                g = Tensor._wrap(t.xp.zeros_like(t.array))
        results.append(g if g is None or create_graph else g.detach())
    return tuple(results)
