"""Drawings of the computation graph behind a tensor, as Graphviz DOT text.

``to_dot(loss)`` walks the graph that backward would walk — from ``loss.grad_fn`` along
each node's ``next_edges`` — and draws it in the direction the data flowed:

    leaf tensor ──► op ──► intermediate tensor ──► op ──► … ──► the tensor drawn

* an **op** node is one ``Function`` (labelled by its class name: ``MatMul``, ``Sigmoid``…);
* a **tensor** node is a leaf (an edge into its ``AccumulateGrad``) or one output slot of
  an op.
  Intermediate tensors are usually gone by the time one draws (a node holds its outputs
  weakly), so their shape, dtype and array type come from the node's ``output_meta``;
  each tensor shows shape, dtype and whether it is a leaf and requires grad.
* ``None`` edges (inputs that need no gradient: constants, masks) are not part of the
  backward graph and are not drawn.
* ``show_saved=True`` adds what each op saved for backward, as dashed edges from the
  tensor it saved (or from a small "saved" node for a tensor outside the graph); after a
  backward without ``retain_graph`` the op is marked "saved freed" instead.
* ``params`` (a dict or ``module.named_parameters()``) names the leaves it contains.

The walk is iterative (an explicit stack), so a 10,000-op chain draws in linear time with
no recursion limit.  ``render(loss, "graph.svg")`` pipes the text through Graphviz's
``dot`` executable, which must be installed.
"""
import os
import shutil
import subprocess

import numpy as np

from .autograd.function import AccumulateGrad

__all__ = ["to_dot", "render"]

_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor=lightgrey',
    "leaf": "shape=box, style=filled, fillcolor=lightblue",
    "tensor": "shape=box",
    "root": "shape=box, style=filled, fillcolor=darkolivegreen1",
    "saved": "shape=box, style=dashed, fontsize=10",
}


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _describe(shape, dtype, array_type, requires_grad, is_leaf, name=None):
    """Label lines: [name,] shape dtype [array type,] flags."""
    lines = [name] if name else []
    lines.append(f"{tuple(shape)} {np.dtype(dtype).name}")
    if array_type is not None and array_type is not np.ndarray:
        lines.append(f"{array_type.__module__.split('.')[0]}.{array_type.__name__}")
    lines.append(f"{'leaf' if is_leaf else 'non-leaf'}, requires_grad={bool(requires_grad)}")
    return "\n".join(lines)


class _Graph:
    """Node ids handed out on first sight, and the DOT lines written so far."""

    def __init__(self, names):
        self.ids = {}
        self.lines = []
        self.names = names

    def node(self, key, label, style):
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
            self.lines.append(f"  {self.ids[key]} [label={_quote(label)}, {_STYLE[style]}];")
        return self.ids[key]

    def edge(self, tail, head, attributes=""):
        self.lines.append(f"  {tail} -> {head}{f' [{attributes}]' if attributes else ''};")

    def leaf(self, t, style="leaf"):
        return self.node(("leaf", id(t)), _describe(
            t.array.shape, t.array.dtype, type(t.array), t.requires_grad, t.grad_fn is None,
            self.names.get(id(t))), style)

    def output(self, fn, slot):
        """The tensor node for output ``slot`` of ``fn``: the live tensor if it still
        exists, else what ``output_meta`` recorded."""
        key = ("out", id(fn), slot)
        if key in self.ids:
            return self.ids[key]
        shape, dtype, array_type = fn.output_meta[slot]
        live = fn.outputs[slot]() if slot < len(fn.outputs) else None
        if live is not None:
            requires_grad = live.requires_grad
        else:
            requires_grad = (np.dtype(dtype).kind in "fV"
                             and slot not in fn._non_differentiable)
        return self.node(key, _describe(shape, dtype, array_type, requires_grad, False,
                                        self.names.get(id(live)) if live is not None
                                        else None), "tensor")


def to_dot(tensor, show_saved=False, params=None):
    """The graph behind ``tensor`` as Graphviz DOT text (see the module docstring)."""
    names = {id(t): name for name, t in dict(params or {}).items()}
    graph = _Graph(names)
    root = tensor
    root_label = _describe(root.array.shape, root.array.dtype, type(root.array),
                           root.requires_grad, root.grad_fn is None,
                           names.get(id(root)) or "output")
    if root.grad_fn is None:
        graph.node(("leaf", id(root)), root_label, "root")
    else:
        graph.node(("out", id(root.grad_fn), root._output_slot), root_label, "root")

    saved = []                       # (op id, node) whose saved tensors to draw at the end
    seen = set()
    stack = [root.grad_fn] if root.grad_fn is not None else []
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        label = type(fn).__name__
        if show_saved and fn._freed:
            label += "\n(saved freed)"
        op = graph.node(("fn", id(fn)), label, "op")
        for slot in range(len(fn.output_meta)):
            graph.edge(op, graph.output(fn, slot))
        inputs = [e for e in fn.next_edges if e is not None]
        for index, edge in enumerate(fn.next_edges):
            if edge is None:
                continue
            if isinstance(edge.node, AccumulateGrad):
                tail = graph.leaf(edge.node.variable)
            else:
                tail = graph.output(edge.node, edge.slot)
                if id(edge.node) not in seen:
                    stack.append(edge.node)
            graph.edge(tail, op, f'label="{index}"' if len(inputs) > 1 else "")
        if show_saved:
            saved.append((op, fn))

    for op, fn in saved:
        _draw_saved(graph, op, fn)
    return "\n".join(["digraph minigrad {", '  graph [rankdir=TB, fontname="Helvetica"];',
                      '  node [fontname="Helvetica", fontsize=11];',
                      '  edge [fontname="Helvetica", fontsize=9];'] + graph.lines + ["}"]) + "\n"


def _draw_saved(graph, op, fn):
    """Dashed edges from each tensor ``fn`` saved for backward."""
    records = [s for s in list(fn._saved) + list(fn._saved_output_records)
               if s is not None and (s.is_output or s.tensor is not None)]  # not hooked ones
    for k, s in enumerate(records):
        # A saved tensor already in the drawing must not pull the layout (a saved output
        # would point back up at its own op); a standalone one sits beside its op.
        constraint = ", constraint=false"
        if s.is_output:                                         # one of fn's own outputs
            tail = graph.output(fn, s.slot)
        else:
            t = s.tensor
            key = (("leaf", id(t)) if t.grad_fn is None
                   else ("out", id(t.grad_fn), t._output_slot))
            tail = graph.ids.get(key)
            if tail is None:                                    # not a node of this graph
                tail, constraint = graph.node(("saved", id(fn), k), "saved\n" + _describe(
                    t.array.shape, t.array.dtype, type(t.array), t.requires_grad,
                    t.grad_fn is None), "saved"), ""
        graph.edge(tail, op, f'style=dashed, color=gray40, label="saved"{constraint}')


def render(tensor, path, format=None, show_saved=False, params=None):
    """Write the drawing of ``to_dot(tensor)`` to ``path`` as ``format`` 'svg' or 'png'
    (default: from the path's suffix, else 'svg') with Graphviz's ``dot``; returns ``path``.
    Raises RuntimeError when ``dot`` is not installed."""
    if format is None:
        suffix = os.path.splitext(str(path))[1].lower().lstrip(".")
        format = suffix if suffix in ("svg", "png") else "svg"
    if format not in ("svg", "png"):
        raise ValueError(f"render(): format must be 'svg' or 'png', got {format!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "minigrad.viz.render() needs the Graphviz 'dot' executable, which was not found "
            "on PATH. Install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew "
            "install graphviz; conda: conda install -c conda-forge graphviz), or write "
            "minigrad.viz.to_dot(tensor) to a .dot file and render it elsewhere.")
    text = to_dot(tensor, show_saved=show_saved, params=params)
    result = subprocess.run([dot, f"-T{format}", "-o", str(path)], input=text.encode(),
                            capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"Graphviz 'dot' failed (exit code {result.returncode}): "
                           f"{result.stderr.decode(errors='replace').strip()}")
    return path
