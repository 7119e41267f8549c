"""Module hooks, PyTorch's: forward pre-hooks and forward hooks (``with_kwargs``,
``always_call``, ``prepend``), full backward hooks and pre-hooks (an identity node around the
module's tensors, ``autograd/hooks.py:BackwardHook``), the deprecated non-full
``register_backward_hook`` (a hook on the output's ``grad_fn``), and the global hooks every
module runs (``nn.modules.module.register_module_forward_hook`` and kin).

``ModuleHooks`` is a mixin of ``nn.Module``: ``Module.__call__`` takes the plain path unless a
hook table of the module, or a global one, is non-empty.
"""
import warnings
from collections import OrderedDict

from ..tensor import Tensor
from ..autograd.handle import RemovableHandle
from ..autograd.hooks import BackwardHook


class ModuleHooks:
    """The hook half of ``nn.Module`` (tables made by ``Module.__init__``)."""

    def _call_with_hooks(self, args, kwargs):
        """``__call__`` with hooks, in PyTorch's order: forward pre-hooks (may replace the
        arguments), the backward hooks' identity node on the tensor arguments, forward,
        forward hooks (may replace the output), the identity node on the outputs (full
        backward hooks) or a hook on the output's grad_fn (``register_backward_hook``)."""
        for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        full_hooks, non_full_hooks = self._get_backward_hooks()
        pre_hooks = [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]
        backward_hook = None
        if full_hooks or pre_hooks:
            backward_hook = BackwardHook(self, full_hooks, pre_hooks)
            args = backward_hook.setup_input_hook(args)
        called = set()
        try:
            result = self.forward(*args, **kwargs)
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if (hook_id in self._forward_hooks_always_called
                        or hook_id in _global_forward_hooks_always_called):
                    called.add(hook_id)
                if (hook_id in self._forward_hooks_with_kwargs
                        or hook_id in _global_forward_hooks_with_kwargs):
                    hook_result = hook(self, args, kwargs, result)
                else:
                    hook_result = hook(self, args, result)
                if hook_result is not None:
                    result = hook_result
        except Exception:
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                always = (hook_id in self._forward_hooks_always_called
                          or hook_id in _global_forward_hooks_always_called)
                if always and hook_id not in called:
                    try:
                        if (hook_id in self._forward_hooks_with_kwargs
                                or hook_id in _global_forward_hooks_with_kwargs):
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception as e:
                        warnings.warn(f"global module forward hook with ``always_call=True`` "
                                      f"raised an exception that was silenced as another error "
                                      f"was raised in forward: {e}")
            raise
        if backward_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a Tensor "
                              f"or a tuple of Tensors but received {type(result)}")
            result = backward_hook.setup_output_hook(result)
        if non_full_hooks:
            var = result
            while not isinstance(var, Tensor):
                var = (next(v for v in var.values() if isinstance(v, Tensor))
                       if isinstance(var, dict) else var[0])
            if var.grad_fn is not None:
                for hook in non_full_hooks:
                    var.grad_fn.register_hook(_WrappedBackwardHook(hook, self))
                _warn_non_full_backward_hook(args, result, var.grad_fn)
        return result

    def _get_backward_hooks(self):
        full = [*_global_backward_hooks.values()] if _global_is_full_backward_hook else []
        non_full = [*_global_backward_hooks.values()] if _global_is_full_backward_hook is False else []
        if self._is_full_backward_hook is True:
            full += self._backward_hooks.values()
        elif self._is_full_backward_hook is False:
            non_full += self._backward_hooks.values()
        return full, non_full

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` before ``forward``, returning None or new ``args`` (a
        single value is wrapped in a tuple); with ``with_kwargs``,
        ``hook(module, args, kwargs)`` returning None or ``(args, kwargs)``."""
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        _insert(self._forward_pre_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """``hook(module, args, output)`` after ``forward``, returning None or a new output
        (``hook(module, args, kwargs, output)`` with ``with_kwargs``); ``always_call`` runs
        it (with output None) even when forward raises."""
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs,
                                             self._forward_hooks_always_called])
        _insert(self._forward_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` when the gradients of the module's outputs are
        known, returning None or a replacement ``grad_output`` (a tuple)."""
        handle = RemovableHandle(self._backward_pre_hooks)
        _insert(self._backward_pre_hooks, handle.id, hook, prepend)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional arguments are known (None for non-tensor arguments and for tensors
        not requiring grad), returning None or a replacement ``grad_input``."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        _insert(self._backward_hooks, handle.id, hook, prepend)
        return handle

    def register_backward_hook(self, hook):
        """Deprecated (PyTorch's "non-full" hook): ``hook(module, grad_input, grad_output)``
        registered on the ``grad_fn`` of the module's (first) output, so ``grad_input`` is
        the gradient of that last operation's inputs, which is the module's input only for
        a module of one operation. Use ``register_full_backward_hook``."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = False
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle


HOOK_TABLES = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks",
                "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs")

# Hooks on every module (``nn.modules.module.register_module_forward_hook`` and kin).
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_is_full_backward_hook = None
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()


def global_hooks_in_use():
    return bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks
                or _global_backward_pre_hooks)


def _insert(table, key, hook, prepend):
    table[key] = hook
    if prepend:
        table.move_to_end(key, last=False)


class _WrappedBackwardHook:
    """A module's non-full backward hook as a node hook: ``hook(module, grad_input,
    grad_output)`` from the node's ``(grad_inputs, grad_outputs)``."""

    def __init__(self, hook, module):
        self.hook, self.module = hook, module
        self.__name__ = getattr(hook, "__name__", type(hook).__name__)

    def __call__(self, grad_inputs, grad_outputs):
        return self.hook(self.module, grad_inputs, grad_outputs)


def _warn_non_full_backward_hook(inputs, result, grad_fn):
    """PyTorch's FutureWarning when a non-full backward hook's ``grad_input`` is not the
    module's input gradient (the module is more than one node, or its inputs are leaves)."""
    results = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(results, tuple) and all(isinstance(r, Tensor) for r in results)
            and all(isinstance(i, Tensor) for i in inputs)):
        warnings.warn("Using non-full backward hooks on a Module that does not take and return "
                      "Tensors or tuples of Tensors is deprecated and will be removed in future "
                      "versions. Please use register_full_backward_hook to get the documented "
                      "behavior.", FutureWarning)
        return
    out_nodes = {r.grad_fn for r in results if r.grad_fn is not None}
    input_nodes = {i.grad_fn for i in inputs if i.grad_fn is not None}
    next_nodes = {edge.node for edge in grad_fn.next_edges if edge is not None}
    if out_nodes != {grad_fn} or input_nodes != next_nodes:
        warnings.warn("Using a non-full backward hook when the forward contains multiple "
                      "autograd Nodes is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_input. Please use "
                      "register_full_backward_hook to get the documented behavior.",
                      FutureWarning)


def register_module_forward_pre_hook(hook):
    """A forward pre-hook common to all modules (runs before each module's own)."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """A forward hook common to all modules (runs before each module's own)."""
    handle = RemovableHandle(_global_forward_hooks,
                             extra_dict=[_global_forward_hooks_always_called,
                                         _global_forward_hooks_with_kwargs])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook):
    """A backward pre-hook common to all modules."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook):
    """A full backward hook common to all modules."""
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is False:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    _global_is_full_backward_hook = True
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle
