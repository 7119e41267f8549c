"""Gradient hooks: user functions the backward engine calls on gradients as they pass.

Three places a hook can sit, as in PyTorch:

* on a **tensor** (``t.register_hook(fn)``): ``fn(grad)`` sees the complete gradient of
  ``t`` before it is used (before it flows into ``t``'s producer, is captured by
  ``autograd.grad``, or is accumulated into a leaf's ``.grad``) and may return a
  replacement of the same shape. A non-leaf's hooks live on its producer node (per output
  slot), a leaf's on the leaf itself (its ``AccumulateGrad`` node is created lazily);
* on a **leaf after accumulation** (``t.register_post_accumulate_grad_hook(fn)``):
  ``fn(t)`` runs once ``t.grad`` holds the new sum (``backward`` only);
* on a **graph node** (``y.grad_fn.register_prehook(fn)`` / ``register_hook(fn)``):
  ``fn(grad_outputs)`` before the node's backward may replace its output gradients;
  ``fn(grad_inputs, grad_outputs)`` after it may replace its input gradients.

A node or leaf without hooks has ``_hooks`` None, and the engine's only cost is reading
that one attribute per visited node. ``BackwardHookFunction`` and ``BackwardHook`` build
``nn.Module``'s full backward hooks out of the node hooks (PyTorch's
``torch.utils.hooks.BackwardHook``).
"""
import warnings

from ..tensor import Tensor
from .handle import RemovableHandle, new_table
from .function import Function, hooks_of
from .grad_mode import is_grad_enabled

__all__ = ["register_hook", "register_post_accumulate_grad_hook", "run_node_with_hooks",
           "BackwardHook"]


def register_hook(self, hook):
    """``Tensor.register_hook``: call ``hook(grad)`` with this tensor's gradient whenever it
    is computed; a non-None return value replaces the gradient. Returns a handle whose
    ``remove()`` unregisters it."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    owner = self if self.grad_fn is None else self.grad_fn
    slot = 0 if self.grad_fn is None else self._output_slot
    table = hooks_of(owner).tensor_pre.setdefault(slot, new_table())
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def register_post_accumulate_grad_hook(self, hook):
    """``Tensor.register_post_accumulate_grad_hook``: call ``hook(tensor)`` after a
    ``backward`` has accumulated into this leaf's ``.grad``."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    table = hooks_of(self).post_accumulate
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def _hook_name(hook):
    return getattr(hook, "__name__", type(hook).__name__)


def _check_same_shape(hook, old, new):
    if not isinstance(new, Tensor):
        raise TypeError(f"hook '{_hook_name(hook)}' returned a {type(new).__name__}; expected "
                        "a Tensor or None")
    if new.array.shape != old.array.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value "
                           f"(from {list(old.shape)} to {list(new.shape)})")


def _replace_all(hook, old, new, what):
    new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
    if len(new) != len(old):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of "
                           f"values (got {len(new)}, but expected {len(old)}) for {what}")
    for o, n in zip(old, new):
        if o is not None and n is not None:
            _check_same_shape(hook, o, n)
    return list(new)


def run_node_with_hooks(node, hooks, grads, front_end):
    """Visit ``node`` as the engine would, with its hooks around the visit: tensor hooks
    and node pre-hooks on the output gradients, node post-hooks on the input gradients."""
    grads = list(grads)
    for slot, table in hooks.tensor_pre.items():
        for hook in list(table.values()):
            grad = grads[slot]
            if grad is None:
                break
            result = hook(grad)
            if result is not None:
                _check_same_shape(hook, grad, result)
                grads[slot] = result
    for hook in list(hooks.pre.values()):
        result = hook(tuple(grads))
        if result is not None:
            grads = _replace_all(hook, grads, result, "grad_outputs")
    input_grads = front_end.visit(node, grads)
    if input_grads is not None and hooks.post:
        grad_outputs = tuple(grads)
        for hook in list(hooks.post.values()):
            result = hook(tuple(input_grads), grad_outputs)
            if result is not None:
                input_grads = _replace_all(hook, input_grads, result, "grad_inputs")
    return input_grads


# ---------------------------------------------------------------------- module backward hooks
class BackwardHookFunction(Function):
    """Identity on its inputs (the same arrays); a node a module's backward hooks attach
    to. forward: outᵢ = xᵢ (an input not requiring grad gives a non-differentiable output);
    backward: dxᵢ = doutᵢ, a missing doutᵢ of a float output as zeros (PyTorch's
    materialized gradients, which the module's ``grad_input`` shows)."""

    def forward(self, *tensors):
        self.mark_non_differentiable(*[i for i, t in enumerate(tensors) if not t.requires_grad])
        return tuple(t.array for t in tensors)

    def backward(self, *grads):
        return grads


class BackwardHookOutputFunction(BackwardHookFunction):
    """The identity node on a module's outputs: a missing output gradient stays None, so
    ``grad_output`` shows None for an output that received no gradient."""

    _materialize_grads = False


class BackwardHook:
    """One module call's full backward hooks (PyTorch's ``BackwardHook``): identity nodes on
    the tensor arguments and the tensor outputs; the output node records ``grad_output``
    (after the backward pre-hooks), the input node calls
    ``hook(module, grad_input, grad_output)`` and may replace ``grad_input``."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_tensors_index = None

    @staticmethod
    def _wrap(values, node_hook, function):
        """Pass the tensors among ``values`` through one identity node whose post-hook is
        ``node_hook``; returns (new values, indices of the tensors) or (values, None)."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in index]
        from_grad = [t for t in tensors if t.requires_grad]
        if not from_grad or not is_grad_enabled():
            return values, None
        outs = function.apply(*tensors)
        values = list(values)
        for i, out in zip(index, outs):
            values[i] = out
        node = next(o.grad_fn for o in outs if o.grad_fn is not None)
        node.register_hook(node_hook)
        return values, index

    @staticmethod
    def _pack(index, values, size):
        result = [None] * size
        for i, v in zip(index, values):
            result[i] = v
        return tuple(result)

    def setup_input_hook(self, args):
        self.n_inputs = len(args)

        def hook(grad_inputs, _):
            if self.grad_outputs is None:
                return None
            result = self._pack(self.input_tensors_index, grad_inputs, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, result, self.grad_outputs)
                if out is None:
                    continue
                out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
                if len(out) != len(result):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                       f"got {len(out)}, but expected {len(result)}")
                result = out
            self.grad_outputs = None
            return tuple(result[i] for i in self.input_tensors_index)

        args, self.input_tensors_index = self._wrap(args, hook, BackwardHookFunction)
        return tuple(args)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        values = (result,) if single else result
        if not isinstance(values, tuple):
            return result
        n_outputs = len(values)
        index_box = []

        def hook(grad_inputs, _):
            # The identity node's input gradients are the module's output gradients.
            self.grad_outputs = self._pack(index_box[0], grad_inputs, n_outputs)
            for pre_hook in self.user_pre_hooks:
                out = pre_hook(self.module, self.grad_outputs)
                if out is None:
                    continue
                out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
                if len(out) != n_outputs:
                    raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(out)}, but expected {n_outputs}")
                self.grad_outputs = out
            local = self.grad_outputs
            if self.input_tensors_index is None and self.user_hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients. See "
                              "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                              "#torch.nn.Module.register_full_backward_hook for more details.")
                grad_inputs_none = (None,) * self.n_inputs
                for user_hook in self.user_hooks:
                    res = user_hook(self.module, grad_inputs_none, self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple)
                                                and all(r is None for r in res)):
                        raise RuntimeError("Backward hook for Modules where no input requires "
                                           "gradient should always return None or None for all "
                                           "gradients.")
                self.grad_outputs = None
            return tuple(local[i] for i in index_box[0])

        values, index = self._wrap(values, hook, BackwardHookOutputFunction)
        if index is None:
            return result
        index_box.append(index)
        return values[0] if single else tuple(values)
