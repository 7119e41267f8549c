"""Activation checkpointing: PyTorch's ``torch.utils.checkpoint.checkpoint`` and
``checkpoint_sequential``.

``checkpoint(fn, *args, use_reentrant=False)`` runs ``fn`` recording its graph as usual, but
inside ``autograd.graph.saved_tensors_hooks`` whose pack hook keeps only an index in place
of every tensor an op saves for backward: the region's activations are freed as soon as
the forward moves on. The first time backward unpacks one of them, the region is run
again (with grad on, from detached copies of its inputs, with the random state the
forward saw, so dropout masks repeat) and every saved tensor of that rerun is collected in
order; unpack ``i`` returns the ``i``-th. Gradients are exactly those of the plain run.
That is PyTorch's non-reentrant design, and ``use_reentrant=True`` (PyTorch's default
when the argument is left out, with its warning) uses the same machinery with the
reentrant variant's rules: no keyword arguments, and when no input tensor requires grad
the output requires none either (PyTorch warns that gradients will be None).

What is not freed: arrays an op keeps as plain attributes rather than saved tensors
(dropout's mask, softmax's output in some kernels) stay alive as without checkpointing.
"""
import contextlib
import warnings

from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..autograd.graph import saved_tensors_hooks
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]


def noop_context_fn():
    """PyTorch's default ``context_fn``: no extra contexts around forward and recompute."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def _detached(value):
    if isinstance(value, Tensor):
        return value.detach().requires_grad_(value.requires_grad)
    return value


class _Region:
    """One checkpointed call: what a rerun needs, and the rerun's saved tensors."""

    def __init__(self, function, args, kwargs, rng_state):
        self.function, self.args, self.kwargs, self.rng_state = function, args, kwargs, rng_state
        self.count = 0
        self.recomputed = None

    def pack(self, tensor):
        index = self.count
        self.count += 1
        return index

    def unpack(self, index):
        if self.recomputed is None:
            self._recompute()
        if index >= len(self.recomputed):
            raise RuntimeError("torch.utils.checkpoint: the recomputed forward saved fewer "
                               f"tensors ({len(self.recomputed)}) than the original forward "
                               f"({self.count}): the checkpointed function is not "
                               "deterministic")
        return self.recomputed[index]

    def _recompute(self):
        kept = []

        def keep(tensor):
            kept.append(tensor)
            return tensor
        current = get_rng_state() if self.rng_state is not None else None
        try:
            if self.rng_state is not None:
                set_rng_state(self.rng_state)
            args = [_detached(a) for a in self.args]
            kwargs = {k: _detached(v) for k, v in self.kwargs.items()}
            with enable_grad(), saved_tensors_hooks(keep, lambda t: t):
                self.function(*args, **kwargs)
        finally:
            if current is not None:
                set_rng_state(current)
        self.recomputed = kept
        self.function = self.args = self.kwargs = None     # a rerun happens once


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its activations for backward; they are
    recomputed when backward needs them (see the module docstring). ``preserve_rng_state``
    replays the random state so dropout masks match. ``context_fn`` and ``debug`` are
    accepted with their defaults only; ``determinism_check`` may be 'default' or 'none' (no
    check is made either way)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Starting in PyTorch 2.9, calling checkpoint without "
                      "use_reentrant will raise an exception. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if context_fn is not noop_context_fn:
        raise NotImplementedError("minigrad's checkpoint supports only the default context_fn")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    if use_reentrant and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None")
        with no_grad():
            return function(*args)
    region = _Region(function, args, kwargs, get_rng_state() if preserve_rng_state else None)
    with saved_tensors_hooks(region.pack, region.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or a list of modules/functions) in ``segments``
    chunks, checkpointing every chunk but the last (PyTorch's split)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
                      "parameter should be passed explicitly. In version 2.9 we will raise an "
                      "exception if use_reentrant is not passed. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
