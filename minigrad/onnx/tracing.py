"""Recording one forward pass as a list of Function applications (the tracer behind
``minigrad.onnx.export``).

Why record applications rather than walk ``grad_fn`` from the output: the autograd graph
holds only what backward needs. It drops every op whose inputs need no gradient (integer
token ids, a buffer such as BatchNorm's running mean), and a node keeps its saved tensors,
not its non-tensor arguments (a convolution's stride and padding). A tracer installed in
``Function.apply`` (``minigrad.autograd.function._tracers``) sees each op exactly as it was
called: its class, every argument and its outputs, under ``no_grad`` too.

A ``Trace`` keeps every recorded tensor alive, so ``id(tensor)`` names one value for the
whole trace.
"""
import numpy as np

from ..autograd import function as function_module
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["Trace", "OpRecord", "trace_forward"]


class OpRecord:
    """One Function application: ``cls``, its ``args``/``kwargs`` as passed, its
    ``outputs`` (a tuple of Tensors)."""
    __slots__ = ("cls", "args", "kwargs", "outputs")

    def __init__(self, cls, args, kwargs, outputs):
        self.cls, self.args, self.kwargs, self.outputs = cls, args, kwargs, outputs

    def tensors(self):
        return [a for a in self.args if isinstance(a, Tensor)]


class Trace:
    """The tracer pushed on ``function._tracers`` during one forward pass."""

    def __init__(self):
        self.records = []
        self.paused = 0

    def record(self, cls, args, kwargs, outputs):
        self.records.append(OpRecord(cls, tuple(args), dict(kwargs), tuple(outputs)))

    def __enter__(self):
        function_module._tracers.append(self)
        return self

    def __exit__(self, *exc):
        function_module._tracers.remove(self)
        return False


def _flatten_outputs(output):
    """The tensors of a model's output (a Tensor, or nested tuples/lists; None skipped)."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _flatten_outputs(item)]
    if output is None:
        return []
    raise TypeError(f"minigrad.onnx.export: the model returned a {type(output).__name__}; "
                    "only Tensors and tuples/lists of them can be exported")


def trace_forward(model, inputs, kwargs=None):
    """Run ``model(*inputs, **kwargs)`` once in eval mode without gradients and return
    ``(trace, output tensors)``; the model's train/eval mode is restored."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad(), Trace() as trace:
            output = model(*inputs, **(kwargs or {}))
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    return trace, _flatten_outputs(output)


def host_array(tensor):
    """A Tensor's values as a host numpy array."""
    array = tensor.array
    return array.get() if hasattr(array, "get") else np.asarray(array)
