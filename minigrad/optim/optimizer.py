"""``Optimizer``: the base class of SGD, Adam, AdamW and RMSprop.

An optimizer holds

* ``param_groups`` — a list of dicts, each with ``"params"`` (a list of tensors) and one
  value per hyper-parameter (``lr``, ``momentum``, ...); a group that leaves one out takes
  the constructor's value (``defaults``). Groups let one model train with several learning
  rates: ``SGD([{"params": body}, {"params": head, "lr": 1e-2}], lr=1e-3)``;
* ``state`` — per parameter (keyed by the tensor itself), whatever the rule carries from
  step to step (momentum buffers, Adam's moments, the step count).

``step()`` reads each parameter's ``.grad`` and updates the parameter in place under
``no_grad``: the same tensor objects keep their identity, so a module's parameters and the
optimizer never drift apart. Parameters with no gradient are skipped.

Two implementations of every rule, chosen per group by PyTorch's flags:

* the *array* path (default; ``foreach=None/True`` or ``fused=True``): ``_array_step``
  updates each parameter with a handful of whole-array xp ufuncs written into the
  parameter, its state and two reusable scratch buffers (``out=``), with no Tensor
  wrapping, no autograd bookkeeping and no temporaries, then bumps the parameter's version
  once, as one in-place op would. This is PyTorch's ``foreach``/``fused`` idea in numpy
  terms; it runs unchanged on CuPy arrays. Parameters keep their own arrays: one
  flattened buffer per dtype (each ufunc called once for all parameters) measured no
  faster on the seed MLP (Adam's arithmetic 264 µs vs 271–280 µs per step), since the
  gradients must then be gathered into it and the update scattered back, and six calls
  per op cost little next to 235k elements. On the GPU, where each call is a kernel
  launch, Adam does flatten (one launch per group and dtype, ``adam.py``);
* the *reference* path (``foreach=False``, PyTorch's per-tensor for-loop):
  ``_reference_step`` writes the same rule with Tensor in-place ops, the readable form
  and the oracle the tests hold the array path to (the same ufuncs in the same order, so
  the two agree bit for bit).

``differentiable=True`` (an update recorded by autograd) and ``capturable=True`` (CUDA
graph capture) have no minigrad counterpart and raise ``NotImplementedError``.

``state_dict()`` uses PyTorch's layout, with parameters replaced by their position across
all groups, so it is independent of object identity and loads into a fresh optimizer built
over the same parameters in the same order::

    {"state": {0: {"momentum_buffer": tensor}, ...},
     "param_groups": [{"lr": 0.1, ..., "params": [0, 1]}, {"lr": 0.01, ..., "params": [2]}]}
"""
import copy
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from ..nn.module import _reset_grad


class _RequiredParameter:
    """Marks a hyper-parameter with no default (every group must give it)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    return f"minigrad.{type(obj).__name__}" if isinstance(obj, Tensor) else type(obj).__name__


def check_hyperparameter(name, value, low=0.0, high=None, label=None, nan_ok=False):
    """PyTorch's constructor checks: ``ValueError("Invalid learning rate: -0.1")``. NaN is
    refused (PyTorch writes ``not 0.0 <= lr``) except where PyTorch writes ``lr < 0.0``
    (SGD: ``nan_ok``)."""
    if nan_ok and value != value:
        return
    if not low <= value or (high is not None and not value < high):
        raise ValueError(f"Invalid {label or name}: {value}")


def check_implementation_flags(name, foreach=None, fused=None, capturable=False,
                               differentiable=False):
    """PyTorch's implementation switches: ``foreach``/``fused`` pick the path (see the module
    docstring); the other two are refused rather than silently ignored."""
    if foreach and fused:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError(f"minigrad's {name} has no differentiable mode: its updates "
                                  "run under no_grad and are not recorded by autograd")
    if capturable:
        raise NotImplementedError(f"minigrad's {name} has no capturable mode: there is no CUDA "
                                  "graph capture, and the step count is read on the host")


def uses_reference_path(group):
    """``foreach=False`` (and no ``fused``) asks for PyTorch's per-tensor loop: Tensor ops."""
    return group.get("foreach") is False and not group.get("fused")


def scaled(xp, x, alpha, out):
    """``x·alpha`` into ``out``, or ``x`` itself when alpha is 1: the rounding of the
    Tensor path's ``add_(x, alpha=alpha)``, which multiplies only when alpha ≠ 1."""
    return x if alpha == 1 else xp.multiply(x, alpha, out=out)


def effective_grad(xp, param, grad, maximize, weight_decay, out, tmp):
    """``g = ±grad + λ·θ`` (λ = weight_decay, − when maximize), written into ``out``;
    ``grad`` itself (never written: it may be shared with other leaves) when neither
    applies. The sum is ``g + (θ·λ)``, the Tensor path's order of rounding."""
    if maximize:
        grad = xp.negative(grad, out=out)
    if weight_decay != 0:
        xp.multiply(param, weight_decay, out=tmp)
        grad = xp.add(grad, tmp, out=out)
    return grad


def bump_versions(*tensors):
    """What one in-place op does to each tensor it writes: raise its version once, so a
    graph that saved the old value refuses to backpropagate through it."""
    for tensor in tensors:
        tensor._version_counter.value += 1


def step_count_dtype():
    """PyTorch keeps step counts in float32, or float64 when that is the default dtype."""
    return dtypes.float64 if dtypes.get_default_dtype() == dtypes.float64 else dtypes.float32


class Optimizer:
    """Base class (see the module docstring). Subclasses pass their hyper-parameter
    ``defaults`` and implement ``step(closure=None)`` with ``@no_grad()``."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch_buffers = {}   # the array path's work space, see _scratch
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group (a dict with ``"params"``); missing hyper-parameters come from
        ``defaults``. A parameter may belong to one group only."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        # Named parameters (``model.named_parameters()``) are split into names and tensors.
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):
            param_group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        param_group["params"] = params
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error", stacklevel=3)
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Drop (default) or zero the gradient of every parameter."""
        for group in self.param_groups:
            for param in group["params"]:
                _reset_grad(param, set_to_none)

    def step(self, closure=None):
        """One update of every group: evaluate ``closure`` (with grad on), then, under
        ``no_grad``, ``_array_step(group)`` or ``_reference_step(group)`` (module docstring).
        A subclass implements both, or overrides ``step`` itself."""
        loss = self._evaluate(closure)
        # An overflowing update is the caller's to detect (PyTorch is silent), not numpy's
        # to warn about.
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):
            for group in self.param_groups:
                if uses_reference_path(group):
                    self._reference_step(group)
                else:
                    self._array_step(group)
        return loss

    def _array_step(self, group):
        raise NotImplementedError

    def _reference_step(self, group):
        raise NotImplementedError

    def _scratch(self, xp, array, slot):
        """An uninitialised array shaped like ``array``: a view of a flat buffer kept per
        (slot, array type, device, dtype) and grown to the largest parameter. Reusing it
        spares each step the allocation, and the page faults of first touching a fresh
        large buffer, that a temporary per op would cost; two slots suffice for every rule."""
        buffers = self._scratch_buffers
        key = (slot, type(array), str(getattr(array, "device", "")), array.dtype)
        buffer = buffers.get(key)
        if buffer is None or buffer.size < array.size:
            buffer = buffers[key] = xp.empty(array.size, dtype=array.dtype)
        return buffer[:array.size].reshape(array.shape)

    @staticmethod
    def _evaluate(closure):
        """Run ``closure`` (which recomputes the loss and calls backward) with grad on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _params_with_grad(group):
        """(param, grad) for the group's parameters that have a gradient."""
        for param in group["params"]:
            if param.grad is not None:
                yield param, param.grad

    def _params_with_state(self, group):
        """(param, grad, state) for the group's parameters that have a gradient, each state
        made by the optimizer's ``_init_state(param, state, group)`` on first use."""
        for param, grad in self._params_with_grad(group):
            state = self.state[param]
            if not state:
                self._init_state(param, state, group)
            yield param, grad, state

    # ------------------------------------------------------------------ persistence
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Like PyTorch's, the state values are the live tensors (save or copy them to keep a
        snapshot); indices number the parameters across groups in order."""
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index_of[id(p)] if isinstance(p, Tensor) else p: v for p, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-parameter state from ``state_dict()`` output.

        Group count and sizes must match. State tensors are copied and cast to their
        parameter's dtype and device (the step count keeps its own dtype), so the loaded
        optimizer never aliases the dictionary it was given."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(self.param_groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"])
               for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                if key != "step":
                    value = value.to(device=param.device,
                                     dtype=param.dtype if param.is_floating_point() else None)
                return value.detach().clone()
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = cast(param, value)
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            # A checkpoint written before a hyper-parameter existed (``fused``, say) takes
            # the constructor's value for it, as PyTorch's __setstate__ does.
            for name, value in self.defaults.items():
                saved.setdefault(name, value)
            new_groups.append(saved)
        self.state, self.param_groups = state, new_groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)

