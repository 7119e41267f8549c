"""``minigrad.onnx`` (``torch.onnx``): importable, so programs that import it at the top run;
exporting a model to ONNX is planned (issue 13) and not yet implemented."""
__all__ = ["export", "is_in_onnx_export"]


def export(model, args=(), f=None, *unused_args, **unused_kwargs):
    """Planned (issue 13): raises NotImplementedError."""
    raise NotImplementedError("minigrad.onnx.export: exporting a model to ONNX is not "
                              "implemented yet; it is planned (issue 13). Save the weights with "
                              "minigrad.save(model.state_dict(), f) instead.")


def is_in_onnx_export():
    """Whether an ONNX export is running: never, in minigrad."""
    return False
