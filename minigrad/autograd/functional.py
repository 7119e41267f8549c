"""``autograd.grad``: gradients of outputs with respect to chosen inputs, returned rather
than accumulated into ``.grad``."""
from .engine import run_backward


def seed_gradient(output, gradient, index=0):
    """The gradient backward starts from for ``output``: ones for a one-element output when
    none is given, else ``gradient`` as a tensor of the output's shape (checked)."""
    from ..tensor import Tensor
    if not output.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                               f"(output {index} has shape {tuple(output.shape)})")
        return Tensor._wrap(output.xp.ones(output.data.shape, dtype=output.dtype))
    if not isinstance(gradient, Tensor):
        gradient = Tensor._wrap(output.xp.asarray(gradient, dtype=output.dtype))
    if gradient.data.shape != output.data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{index}] has a shape of "
                           f"{tuple(gradient.shape)} and output[{index}] has a shape of "
                           f"{tuple(output.shape)}.")
    return gradient


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, is_grads_batched=False, materialize_grads=False):
    """Σ_i (∂outputs_i/∂inputs)ᵀ grad_outputs_i for each input, as a tuple of Tensors.

    ``grad_outputs`` defaults to ones for scalar outputs; ``retain_graph`` defaults to
    ``create_graph``; an input the outputs do not depend on raises unless ``allow_unused``
    (then its entry is None, or zeros with ``materialize_grads``)."""
    from ..tensor import Tensor
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported by minigrad")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} "
                           f"grad_outputs for {len(outputs)} outputs")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = [seed_gradient(out, g, i) for i, (out, g) in enumerate(zip(outputs, grad_outputs))]
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(list(outputs), seeds, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=inputs, allow_unused=allow_unused or materialize_grads)
    if materialize_grads:
        result = tuple(Tensor._wrap(t.xp.zeros_like(t.data)) if g is None else g
                       for g, t in zip(result, inputs))
    return result
