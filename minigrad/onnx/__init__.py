"""``minigrad.onnx`` (``torch.onnx``): ``export(model, args, f, input_names=,
output_names=, dynamic_axes=, opset_version=)`` writes an ONNX file from one traced
forward pass (``tracing.py``: a tracer in ``Function.apply`` records each op;
``symbolic.py``: each op's ONNX nodes; ``export.py``: the graph). Needs the ``onnx``
package (``pip install 'minigrad[onnx]'``, which also brings onnxruntime to run the file).
"""
from .export import DEFAULT_OPSET, export
from .symbolic import UnsupportedOperatorError
from .tracing import Trace
from ..autograd import function as _function

__all__ = ["export", "DEFAULT_OPSET", "is_in_onnx_export", "UnsupportedOperatorError"]


def is_in_onnx_export():
    """Whether an export's trace is running (a forward pass may check it, as in PyTorch)."""
    return any(isinstance(t, Trace) for t in _function._tracers)
