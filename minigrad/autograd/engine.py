"""The backward engine: reverse-mode accumulation over the recorded graph, without recursion.

For roots y with seed gradients ḡ the engine computes, for every node f reachable from
them, the vector-Jacobian products ``f.backward(δ_out) = (∂out/∂in)ᵀ δ_out`` and sums the
contributions each tensor receives from all its consumers (reused nodes and diamonds):

    δ_x = Σ_{consumers c of x} (∂c/∂x)ᵀ δ_c

Schedule (Kahn's algorithm): one pass counts, for every node, how many edges point at it
from the reachable graph; a node is visited once all those consumers have delivered their
gradient into its buffer, so its buffer then holds its complete output gradient. Both
passes use explicit stacks, so a 100,000-op chain needs no recursion. After a node is
visited its saved tensors are released unless ``retain_graph``.

The scheduler does not decide what a visit means. A *front end* does (``functional.py``):

    front_end.visit(node, grads) -> one input gradient per edge of node, or None

``Accumulate`` (``Tensor.backward``) adds the gradients reaching leaves' ``AccumulateGrad``
nodes into ``.grad``; ``Capture`` (``autograd.grad``) returns the gradients reaching
chosen edges and touches no ``.grad``. A node with hooks (``autograd/hooks.py``) is
visited through them. Either may prune (``front_end.prunes``): a node
from which no target can be reached (``reaching``) need not run.
"""
from ..tensor import Tensor
from .grad_mode import is_grad_enabled, set_grad_enabled_flag
from .hooks import run_node_with_hooks


def discover(root_nodes, with_consumers=False):
    """Walk the graph from the roots: per node, the number of edges pointing at it from
    reachable nodes (its pending consumers) and, when asked (for pruning), the list of
    those consumers."""
    dependencies = {node: 0 for node in root_nodes}
    consumers = {node: [] for node in root_nodes} if with_consumers else None
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge.node
            if child in dependencies:
                dependencies[child] += 1
            else:
                dependencies[child] = 1
                stack.append(child)
                if with_consumers:
                    consumers[child] = []
            if with_consumers:
                consumers[child].append(node)
    return dependencies, consumers


def reaching(target_nodes, consumers):
    """The nodes from which some target can be reached through at least one edge (a
    target node itself only when another target lies behind it: the gradient arriving at a
    target is complete before its node would run, so the node need not)."""
    useful = set()
    stack = list(target_nodes)
    while stack:
        for parent in consumers.get(stack.pop(), ()):
            if parent not in useful:
                useful.add(parent)
                stack.append(parent)
    return useful


def accumulate(current, grad, create_graph):
    """current + grad: a recorded Tensor op with ``create_graph``, else a plain array sum
    (a detached gradient needs no graph node)."""
    if current is None:
        return grad
    return current + grad if create_graph else Tensor._wrap(current.array + grad.array)


def _check_grad_shape(node, index, grad, expected_shape):
    if grad.array.shape != tuple(expected_shape):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {index} - got "
            f"{list(grad.shape)} but expected shape compatible with {list(expected_shape)}")


def execute(root_edges, root_grads, front_end, retain_graph=False, create_graph=False):
    """Propagate ``root_grads`` (Tensors) from ``root_edges`` through the graph in Kahn's
    order, letting ``front_end`` visit each node (see the module docstring).

    Backward formulas are Tensor ops, recorded (a graph of the backward pass, for
    higher-order gradients) only with ``create_graph``: grad mode is set once for the loop.
    """
    buffers = {}
    for edge, grad in zip(root_edges, root_grads):
        buffer = buffers.setdefault(edge.node, [None] * len(edge.node.output_meta))
        buffer[edge.slot] = accumulate(buffer[edge.slot], grad, create_graph)
    root_nodes = list(buffers)
    dependencies, consumers = discover(root_nodes, front_end.prunes)
    front_end.prepare(consumers)
    ready = [node for node in root_nodes if dependencies[node] == 0]
    previous_mode = is_grad_enabled()
    set_grad_enabled_flag(create_graph)
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * len(node.output_meta)
            hooks = node._hooks
            if hooks is None:
                input_grads = front_end.visit(node, grads)
            else:      # tensor and node hooks (autograd/hooks.py)
                input_grads = run_node_with_hooks(node, hooks, grads, front_end)
            if not retain_graph:
                node.release()
            # (The loop below runs once per graph edge: it is written out, without helper
            # calls, because it is the engine's hot path.)
            for index, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                target, slot = edge
                grad = input_grads[index] if input_grads is not None else None
                if grad is not None:
                    meta = target.output_meta
                    if grad.array.shape != meta[slot][0]:
                        _check_grad_shape(node, index, grad, meta[slot][0])
                    buffer = buffers.get(target)
                    if buffer is None:
                        buffer = buffers[target] = [None] * len(meta)
                    current = buffer[slot]
                    buffer[slot] = grad if current is None else accumulate(current, grad,
                                                                           create_graph)
                pending = dependencies[target] - 1
                dependencies[target] = pending
                if pending == 0:
                    ready.append(target)
    finally:
        set_grad_enabled_flag(previous_mode)
