"""``minigrad.onnx.export``: one traced forward pass → an ONNX model (needs the ``onnx``
package, the ``onnx`` extra).

1. ``tracing.trace_forward`` runs the model once in eval mode and records every Function
   application (class, arguments, outputs).
2. With ``dynamic_axes``, a second pass runs on inputs one element longer on each dynamic
   axis; the two recordings must be the same ops. An argument that differs between them
   is a size that follows a dynamic axis: a Reshape's target dimension becomes −1 (one per
   reshape), anything else (a constant built from the batch size, a Split along the
   dynamic axis) is refused with an error naming the op, rather than exported wrong.
3. Every tensor argument is named: a graph input, a parameter or buffer (an initializer
   under its ``state_dict`` name, shared weights once), the output of an earlier op, or a
   tensor the forward made itself (``arange`` positions, a wrapped Python scalar): a
   constant initializer. A tensor that shares memory with a traced value but was not
   produced by a recorded op would be a view taken outside the Function machinery; it is
   refused, since a constant would freeze it.
4. ``symbolic.SYMBOLICS`` turns each record into ONNX nodes; ``onnx.checker`` checks the
   model before it is written.
"""
import io
import os

import numpy as np

from ..tensor import Tensor
from .symbolic import SIZE_ARGUMENTS, SYMBOLICS, UnsupportedOperatorError
from .tracing import host_array, trace_forward

__all__ = ["export", "GraphBuilder", "DEFAULT_OPSET", "MIN_OPSET"]

#: torch.onnx.export's TorchScript exporter defaults to opset 17 as well.
DEFAULT_OPSET = 17
#: LayerNormalization (the GPT) entered ONNX at 17.
MIN_OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("minigrad.onnx.export needs the onnx package: pip install "
                          "'minigrad[onnx]' (or pip install onnx)") from None
    return onnx


class GraphBuilder:
    """The ONNX graph being built from one trace (see ``symbolic`` for the converters'
    view of it)."""

    def __init__(self, onnx, opset, names, alt_records=None):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.names = dict(names)          # id(tensor) -> value name
        self.state = {}                   # id(parameter or buffer) -> its state_dict name
        self.nodes, self.initializers = [], []
        self._traced_arrays = []          # arrays of traced values, for the view check
        self._count = 0
        self.alt = None                   # the second trace's record of the op being built
        self.record = None

    def fresh(self, hint="v"):
        self._count += 1
        return f"{hint}_{self._count}"

    def onnx_type(self, dtype):
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def tensor_attribute(self, array):
        return self.onnx.numpy_helper.from_array(np.asarray(array))

    def const(self, array, name=None):
        name = name or self.fresh("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, *inputs, outputs=1, **attributes):
        names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names,
                                                name=self.fresh(f"/{op_type}"), **attributes))
        return names[0] if outputs == 1 else names

    def value(self, tensor, cast_to=None):
        """The name of a tensor argument of the op being converted (a constant
        initializer if nothing produced it); with ``cast_to``, Cast to that dtype if the
        tensor's differs (a wrapped Python scalar of another type)."""
        if not isinstance(tensor, Tensor):
            raise UnsupportedOperatorError(f"{self.record.cls.__name__} with a "
                                           f"{type(tensor).__name__} where a Tensor was "
                                           "expected")
        name = self.names.get(id(tensor))
        if name is None and id(tensor) in self.state:    # a weight: added where first read
            name = self.names[id(tensor)] = self.const(host_array(tensor), self.state[id(tensor)])
        if name is None:
            array = host_array(tensor)
            if any(np.may_share_memory(array, other) for other in self._traced_arrays):
                raise RuntimeError(f"minigrad.onnx.export: an argument of "
                                   f"{self.record.cls.__name__} (shape {list(array.shape)}) is "
                                   "a view of a traced value made outside any Function; "
                                   "it cannot be exported as a constant")
            self._check_constant_is_static(tensor, array)
            name = self.names[id(tensor)] = self.const(array.copy())
        if cast_to is not None and tensor.array.dtype != np.dtype(cast_to):
            return self.op("Cast", name, to=self.onnx_type(cast_to))
        return name

    def _check_constant_is_static(self, tensor, array):
        if self.alt is None:
            return
        position = [i for i, a in enumerate(self.record.args) if a is tensor]
        if not position:
            return
        other = self.alt.args[position[0]]
        if not isinstance(other, Tensor) or other.shape != tensor.shape or \
                not np.array_equal(host_array(other), array):
            raise RuntimeError(f"minigrad.onnx.export: {self.record.cls.__name__} reads a "
                               f"constant (shape {list(array.shape)}) that the forward pass "
                               "builds from the size of a dynamic axis; export with that "
                               "axis static (drop it from dynamic_axes)")

    def reshape_target(self, record):
        """A Reshape's target shape, −1 where it follows a dynamic axis."""
        shape = [int(s) for s in record.args[1]]
        if self.alt is None:
            return shape
        other = [int(s) for s in self.alt.args[1]]
        moving = [i for i, (a, b) in enumerate(zip(shape, other)) if a != b]
        if len(moving) > 1 or len(shape) != len(other):
            raise RuntimeError(f"minigrad.onnx.export: a reshape to {shape} changes in "
                               f"{len(moving)} dimensions with the dynamic axes; at most one "
                               "can be left to ONNX (-1)")
        for i in moving:
            shape[i] = -1
        return shape

    def add(self, record, alt=None):
        converter = SYMBOLICS.get(record.cls)
        if converter is None:
            raise UnsupportedOperatorError(
                f"minigrad.onnx.export: the op {record.cls.__module__}.{record.cls.__name__} "
                f"has no ONNX translation (supported: "
                f"{', '.join(sorted(c.__name__ for c in SYMBOLICS))})")
        self.record, self.alt = record, alt
        if alt is not None and record.cls is not alt.cls:
            raise RuntimeError("minigrad.onnx.export: the forward pass runs different ops "
                               f"when a dynamic axis changes size ({record.cls.__name__} vs "
                               f"{alt.cls.__name__}); export with static shapes")
        if alt is not None and record.cls not in SIZE_ARGUMENTS:
            for a, b in zip(record.args, alt.args):
                if not isinstance(a, Tensor) and not _same(a, b):
                    raise RuntimeError(f"minigrad.onnx.export: {record.cls.__name__}'s "
                                       f"argument {a!r} becomes {b!r} when a dynamic axis "
                                       "grows; this op cannot follow a dynamic axis")
        names = converter(self, record)
        for tensor, name in zip(record.outputs, names):
            if name is not None:
                self.names[id(tensor)] = name
                self._traced_arrays.append(host_array(tensor))


def _same(a, b):
    try:
        return bool(np.all(np.asarray(a == b))) if not isinstance(a, np.ndarray) \
            else np.array_equal(a, b)
    except (TypeError, ValueError):
        return a is b


def _as_tuple(args):
    if isinstance(args, Tensor):
        return (args,)
    if isinstance(args, (tuple, list)):
        return tuple(args)
    raise TypeError(f"args must be a Tensor or a tuple of Tensors, got {type(args).__name__}")


def _axes_of(spec):
    """dynamic_axes' per-input value: {axis: name} or [axes] → {axis: name}."""
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(k): f"dim_{int(k)}" for k in spec}


def _grown(tensor, axes):
    """The input one element longer on each dynamic axis (its last slice repeated)."""
    array = host_array(tensor)
    for axis in axes:
        tail = np.take(array, [-1], axis=axis) if array.shape[axis] else \
            np.zeros_like(np.take(array, [0] if array.shape[axis] else [], axis=axis))
        array = np.concatenate([array, tail], axis=axis)
    return Tensor._wrap(np.ascontiguousarray(array)).to(tensor.device)


def _value_info(helper, name, array, axes):
    dims = [axes.get(i, int(s)) for i, s in enumerate(array.shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(array.dtype),
                                         dims)


def export(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=False,
           input_names=None, output_names=None, opset_version=None, dynamic_axes=None):
    """Export ``model`` to the ONNX file ``f`` (a path or a binary file object), tracing one
    forward pass on ``args`` (a Tensor or a tuple of them; ``kwargs`` are passed too but
    are not graph inputs) — torch.onnx.export's TorchScript-tracer form.

    ``input_names``/``output_names`` name the graph's inputs and outputs (defaults
    ``input``/``output``, numbered when there are several); ``dynamic_axes`` maps a name
    to ``{axis: symbolic name}`` or a list of axes that may change size at run time;
    ``opset_version`` defaults to 17 (the oldest with LayerNormalization, and the
    minimum). Weights are stored in the file (``export_params=True``; False is not
    supported). ``verbose`` prints the graph. The model runs in eval mode during the
    trace and gets its mode back. Ops without a translation raise
    ``UnsupportedOperatorError`` naming the op. Returns None."""
    onnx = _onnx()
    if not export_params:
        raise ValueError("minigrad.onnx.export: export_params=False (weights as graph inputs) "
                         "is not supported; the weights are always stored in the file")
    if f is None:
        raise TypeError("export() needs f, a file path or a binary file object")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset_version must be in [{MIN_OPSET}, {newest}] (the installed "
                         f"onnx's newest), got {opset}")
    inputs = _as_tuple(args)
    if not all(isinstance(t, Tensor) for t in inputs):
        raise TypeError("every element of args must be a Tensor")
    input_names = list(input_names) if input_names else \
        (["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))])
    if len(input_names) != len(inputs):
        raise ValueError(f"{len(input_names)} input_names for {len(inputs)} inputs")
    dynamic = {k: _axes_of(v) for k, v in (dynamic_axes or {}).items()}

    trace, outputs = trace_forward(model, inputs, kwargs)
    output_names = list(output_names) if output_names else \
        (["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))])
    if len(output_names) != len(outputs):
        raise ValueError(f"{len(output_names)} output_names for the model's {len(outputs)} "
                         "outputs")
    unknown = set(dynamic) - set(input_names) - set(output_names)
    if unknown:
        raise ValueError(f"dynamic_axes names {sorted(unknown)}, which are neither inputs "
                         f"{input_names} nor outputs {output_names}")
    alt_records = None
    if any(name in dynamic for name in input_names):
        grown = tuple(_grown(t, dynamic.get(n, {})) for t, n in zip(inputs, input_names))
        alt_trace, _ = trace_forward(model, grown, kwargs)
        alt_records = alt_trace.records
        if len(alt_records) != len(trace.records):
            raise RuntimeError("minigrad.onnx.export: the forward pass records "
                               f"{len(trace.records)} ops, but {len(alt_records)} when a "
                               "dynamic axis changes size; export with static shapes")

    names = {id(t): n for t, n in zip(inputs, input_names)}
    builder = GraphBuilder(onnx, opset, names)
    builder._traced_arrays = [host_array(t) for t in inputs]
    state = list(getattr(model, "named_parameters", lambda: [])()) + \
        list(getattr(model, "named_buffers", lambda: [])())
    for name, tensor in state:
        if tensor is not None:
            builder.state.setdefault(id(tensor), name)
    for index, record in enumerate(trace.records):
        builder.add(record, alt_records[index] if alt_records is not None else None)

    graph_outputs = []
    for tensor, name in zip(outputs, output_names):
        source = builder.names.get(id(tensor))
        if source is None:
            raise RuntimeError(f"minigrad.onnx.export: output {name!r} was not produced by a "
                               "traced op")
        builder.nodes.append(onnx.helper.make_node("Identity", [source], [name]))
        graph_outputs.append(_value_info(onnx.helper, name, host_array(tensor),
                                         dynamic.get(name, {})))
    graph_inputs = [_value_info(onnx.helper, n, host_array(t), dynamic.get(n, {}))
                    for t, n in zip(inputs, input_names)]
    graph = onnx.helper.make_graph(builder.nodes, type(model).__name__, graph_inputs,
                                   graph_outputs, builder.initializers)
    proto = onnx.helper.make_model(graph, producer_name="minigrad",
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 10)   # onnxruntime reads IR ≤ 10
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if isinstance(f, (str, os.PathLike)):
        onnx.save_model(proto, os.fspath(f))
    elif isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        raise TypeError(f"f must be a path or a binary file object, got {type(f).__name__}")
