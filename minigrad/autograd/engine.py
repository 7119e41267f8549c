"""The backward engine: reverse-mode accumulation over the recorded graph, without recursion.

For roots y with seed gradients ḡ the engine computes, for every node f reachable from
them, the vector-Jacobian products ``f.backward(δ_out) = (∂out/∂in)ᵀ δ_out`` and sums the
contributions each tensor receives from all its consumers (reused nodes and diamonds):

    δ_x = Σ_{consumers c of x} (∂c/∂x)ᵀ δ_c

Schedule (Kahn's algorithm): one pass counts, for every node, how many edges point at it
from the reachable graph; a node runs once all those consumers have delivered their
gradient into its buffer. Both passes use explicit stacks, so a 100,000-op chain needs no
recursion. After a node runs its saved tensors are released unless ``retain_graph``.
"""
import sys

from . import function
from .grad_mode import is_grad_enabled, set_grad_enabled_flag


def _discover(root_nodes):
    """Count consumers per node and record each node's consumers (for pruning)."""
    dependencies = {node: 0 for node in root_nodes}
    consumers = {node: [] for node in root_nodes}
    stack = list(root_nodes)
    seen = set(root_nodes)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None or edge[0] == "leaf":
                continue
            child = edge[0]
            dependencies[child] = dependencies.get(child, 0) + 1
            consumers.setdefault(child, []).append(node)
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return dependencies, consumers


def _useful_nodes(consumers, target_nodes):
    """Nodes from which a target can be reached (only these need to run for autograd.grad)."""
    useful = set(target_nodes)
    stack = list(target_nodes)
    while stack:
        node = stack.pop()
        for parent in consumers.get(node, ()):
            if parent not in useful:
                useful.add(parent)
                stack.append(parent)
    return useful


def _accumulate(current, grad):
    return grad if current is None else current + grad


def _check_grad_shape(node, index, grad, expected_shape):
    if grad.data.shape != tuple(expected_shape):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {index} - got "
            f"{list(grad.shape)} but expected shape compatible with {list(expected_shape)}")


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False):
    """Propagate ``root_grads`` back from ``roots``.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of leaves (``backward``);
    otherwise they are returned for exactly those tensors and no ``.grad`` is touched
    (``autograd.grad``).
    """
    capture = inputs is not None
    # Gradients captured for autograd.grad, keyed by where they arrive: a leaf (its id) or
    # a node's output slot. The same tensor may be listed twice among the inputs.
    captured = {}
    leaf_targets = {id(t) for t in inputs or () if t.grad_fn is None}
    slot_targets = {(t.grad_fn, t._output_slot) for t in inputs or () if t.grad_fn is not None}

    def deliver_to_leaf(leaf, grad):
        if capture:
            if id(leaf) in leaf_targets:
                captured[id(leaf)] = _accumulate(captured.get(id(leaf)), grad)
            return
        if grad.dtype != leaf.dtype:
            grad = grad.to(leaf.dtype)
        if create_graph:
            leaf.grad = _accumulate(leaf.grad, grad)
        elif leaf.grad is None:
            # A copy: backward formulas may hand the same array to several inputs (Add
            # passes dz through), and each .grad must be free to change in place.
            leaf.grad = function.Tensor._wrap(grad.data.copy())
        else:  # plain array sum: accumulating a detached gradient needs no graph node
            leaf.grad = function.Tensor._wrap(leaf.grad.data + grad.data)

    buffers = {}
    root_nodes = []
    for root, grad in zip(roots, root_grads):
        if root.grad_fn is None:
            deliver_to_leaf(root, grad)
            continue
        node = root.grad_fn
        if node not in buffers:
            buffers[node] = [None] * len(node.output_meta)
            root_nodes.append(node)
        slot = root._output_slot
        buffers[node][slot] = _accumulate(buffers[node][slot], grad)

    dependencies, consumers = _discover(root_nodes)
    useful = None
    if capture:
        targets = {node for node, _ in slot_targets}
        targets |= {node for node in dependencies for e in node.next_edges
                    if e is not None and e[0] == "leaf" and id(e[1]) in leaf_targets}
        useful = _useful_nodes(consumers, targets)

    ready = [node for node in root_nodes if dependencies[node] == 0]
    # Backward formulas are Tensor ops, recorded (a graph of the backward pass, for
    # higher-order gradients) only with create_graph. Set the mode once for the whole loop.
    previous_mode = is_grad_enabled()
    set_grad_enabled_flag(create_graph)
    try:
        _run_ready_nodes(ready, buffers, dependencies, useful, retain_graph, capture,
                         slot_targets, captured, deliver_to_leaf)
    finally:
        set_grad_enabled_flag(previous_mode)

    if not capture:
        return None
    results = []
    for t in inputs:
        g = captured.get(id(t) if t.grad_fn is None else (t.grad_fn, t._output_slot))
        if g is None and not allow_unused:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                               "in the graph. Set allow_unused=True if this is the desired behavior.")
        results.append(g if g is None or create_graph else g.detach())
    return tuple(results)


def _run_ready_nodes(ready, buffers, dependencies, useful, retain_graph, capture, slot_targets,
                     captured, deliver_to_leaf):
    """Kahn's loop: run each node once all its consumers have delivered, pass its input
    gradients on, and release what it saved unless ``retain_graph``."""
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None) or [None] * len(node.output_meta)
        run = useful is None or node in useful
        if run:
            _deliver_to_outputs(node, grads, capture, slot_targets, captured)
        if run and any(g is not None for g in grads) and any(node.needs_input_grad):
            # A missing gradient of a float output is zero; integer outputs (argmax indices)
            # have no gradient and get None, as in PyTorch.
            grads = [g if g is not None or meta[1].kind != "f" else _zeros(meta)
                     for g, meta in zip(grads, node.output_meta)]
            input_grads = node.backward(*grads)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
        else:
            input_grads = (None,) * len(node.next_edges)
        if not retain_graph:
            node.release()
        for index, (edge, grad) in enumerate(zip(node.next_edges, input_grads)):
            if edge is None:
                continue
            target, slot = edge
            if grad is not None:
                if edge[0] == "leaf":
                    _check_grad_shape(node, index, grad, slot.data.shape)
                    deliver_to_leaf(slot, grad)
                    continue
                _check_grad_shape(node, index, grad, target.output_meta[slot][0])
                buf = buffers.setdefault(target, [None] * len(target.output_meta))
                buf[slot] = _accumulate(buf[slot], grad)
            if edge[0] != "leaf":
                dependencies[target] -= 1
                if dependencies[target] == 0:
                    ready.append(target)


def _deliver_to_outputs(node, grads, capture, slot_targets, captured):
    """Hand a node's summed output gradients to retain_grad tensors and grad() targets."""
    for slot, grad in enumerate(grads):
        if grad is None:
            continue
        if capture:
            if (node, slot) in slot_targets:
                captured[node, slot] = _accumulate(captured.get((node, slot)), grad)
            continue
        out = node.outputs[slot]() if slot < len(node.outputs) else None
        if out is not None and out._retains_grad and out.grad_fn is node:
            g = grad.detach()
            out.grad = g if out.grad is None else out.grad + g


def _zeros(meta):
    shape, dtype, array_type = meta
    xp = sys.modules[array_type.__module__.split(".")[0]]
    return function.Tensor._wrap(xp.zeros(shape, dtype=dtype))
