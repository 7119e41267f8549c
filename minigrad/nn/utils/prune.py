"""``nn.utils.prune``: PyTorch's pruning, with its names and semantics.

Pruning parameter ``name`` of a module replaces it by three things (PyTorch's layout, so
state_dict keys match ``torch.nn.utils.prune``)::

    module.<name>_orig   the trained values, still an nn.Parameter (the optimizer updates it)
    module.<name>_mask   a buffer of 0/1 in the parameter's dtype (saved in state_dict)
    module.<name>        a plain attribute, <name>_orig · <name>_mask, recomputed by a
                         forward pre-hook (the pruning method itself) before every forward

so the gradient of a pruned weight is ``∂L/∂orig = mask ⊙ ∂L/∂w``: pruned entries get no
gradient and stay pruned through fine-tuning. ``remove(module, name)`` makes it permanent:
``<name>`` becomes an nn.Parameter again holding ``orig · mask`` (the zeros stay as plain
values), and ``_orig``, ``_mask`` and the hook go.

Methods (``amount``: a float in [0, 1], the share to prune, rounded as
``round(amount · size)``; or an int, a count):

* ``l1_unstructured`` — zero the ``amount`` entries of smallest |w| (or of smallest
  ``importance_scores``);
* ``random_unstructured`` — zero ``amount`` entries chosen uniformly at random (minigrad's
  generator: ``manual_seed`` makes it reproducible);
* ``ln_structured(amount, n, dim)`` / ``random_structured(amount, dim)`` — zero whole slices
  along ``dim`` (rows of a Linear weight for ``dim=0``, output channels of a conv): those of
  smallest L``n`` norm (``n`` as ``torch.norm``'s ``p``: 1, 2, ``float('inf')``, ``'fro'``…),
  or random ones;
* ``global_unstructured(parameters, pruning_method, **kwargs)`` — one threshold over the
  concatenation of several parameters ``[(module, name), …]`` (each gets a
  ``custom_from_mask``);
* ``identity`` (a mask of ones), ``custom_from_mask(module, name, mask)``.

Pruning the same parameter again composes like PyTorch's ``PruningContainer``: the new
method prunes only among the entries (unstructured) or slices (structured) still alive, so
``l1_unstructured(m, "weight", 0.5)`` twice leaves 25% of the weights, and an int amount
counts entries of the surviving part.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

from ... import creation
from ...ops.norms import norm as _norm
from ...tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask",
           "identity", "random_unstructured", "l1_unstructured", "random_structured",
           "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _clone(t):
    return Tensor._wrap(t.xp.array(t.array, copy=True))


def _zero_at(mask, flat_indices):
    """A copy of ``mask`` with the entries at ``flat_indices`` (C order) set to 0."""
    array = mask.xp.array(mask.array, copy=True)
    array.reshape(-1)[flat_indices] = 0
    return Tensor._wrap(array)


def _smallest(scores, k, largest=False):
    """Flat indices of the ``k`` smallest (largest) entries of ``scores`` (an array)."""
    flat = -scores.reshape(-1) if largest else scores.reshape(-1)
    try:
        order = flat.argsort(kind="stable")     # ties: the lower index first
    except TypeError:                           # CuPy's argsort has no kind (it is stable)
        order = flat.argsort()
    return order[:k]


class BasePruningMethod(ABC):
    """A pruning method: ``compute_mask`` gives the new mask; an instance is also the
    forward pre-hook that recomputes ``module.<name> = <name>_orig · <name>_mask``."""

    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask for tensor ``t`` given the mask it already has (``default_mask``)."""

    def apply_mask(self, module):
        """``<name>_orig · <name>_mask``, differentiable with respect to ``_orig``."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, composing with any pruning
        already applied to it (PyTorch's ``BasePruningMethod.apply``)."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise AssertionError(f"importance_scores should have the same shape as "
                                     f"parameter {name} of {module}, got "
                                     f"{tuple(importance_scores.shape)} vs {tuple(orig.shape)}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = creation.ones_like(orig)
        else:
            default_mask = _clone(getattr(module, name + "_mask"))
        try:
            mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if not isinstance(method, PruningContainer):
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` with this method's mask applied (no module involved)."""
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(t.shape):
                raise AssertionError("importance_scores should have the same shape as tensor "
                                     f"t, got {tuple(importance_scores.shape)} vs "
                                     f"{tuple(t.shape)}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else creation.ones_like(t)
        return t * self.compute_mask(importance_scores.detach(), default_mask=default_mask)

    def remove(self, module):
        """Make the pruning permanent: ``<name>`` is the Parameter ``_orig`` holding
        ``orig · mask``; ``_orig`` and ``_mask`` are deleted."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be "
                                 "removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _composite_method(cls, module, name, *args, **kwargs):
    """The hook to install: the new method alone, or in a PruningContainer after the
    method(s) already pruning ``name`` (whose hook is taken off the module)."""
    old_method, hooks_to_remove = None, []
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            old_method = hook
            hooks_to_remove.append(key)
    if len(hooks_to_remove) > 1:
        raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} "
                             f"of module {module}. Use a PruningContainer.")
    for key in hooks_to_remove:
        del module._forward_pre_hooks[key]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        method = old_method
    elif old_method is not None:
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        method = container
    return method


class PruningContainer(BasePruningMethod):
    """The sequence of methods applied to one parameter. Its mask is the last method's
    mask computed on the part the earlier ones left (entries where the mask is 1 for
    unstructured methods, slices with any non-zero for structured ones), inside the old
    mask."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        xp, n_dims = t.xp, t.dim()
        if method.PRUNING_TYPE == "unstructured":
            alive = xp.nonzero(mask.array.reshape(-1) == 1)[0]
            part = method.compute_mask(Tensor._wrap(t.array.reshape(-1)[alive]),
                                       default_mask=Tensor._wrap(mask.array.reshape(-1)[alive]))
            new = xp.array(mask.array, copy=True)
            new.reshape(-1)[alive] = part.array.astype(new.dtype)
            return Tensor._wrap(new)
        if method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     "have the attribute `dim` defined.")
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            others = tuple(d for d in range(n_dims) if d != dim)
            keep = xp.nonzero(mask.array.sum(axis=others) != 0)[0]
            slc = (slice(None),) * dim + (keep,)
            part = method.compute_mask(Tensor._wrap(t.array[slc]),
                                       default_mask=Tensor._wrap(mask.array[slc]))
            new = xp.array(mask.array, copy=True)
            new[slc] = part.array.astype(new.dtype)
            return Tensor._wrap(new)
        if method.PRUNING_TYPE == "global":
            return method.compute_mask(t, default_mask=mask).to(dtype=mask.dtype)
        raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")

    def __repr__(self):
        return f"PruningContainer({', '.join(map(repr, self._pruning_methods))})"


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays as it was (ones at first)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Zero ``amount`` entries chosen uniformly at random (minigrad's generator)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _entries_to_prune(self.amount, t.numel())
        if k == 0:
            return _clone(default_mask)
        prob = creation.rand(tuple(t.shape), device=t.device)
        return _zero_at(default_mask, _smallest(prob.array, k, largest=True))

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zero the ``amount`` entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _entries_to_prune(self.amount, t.numel())
        if k == 0:
            return _clone(default_mask)
        return _zero_at(default_mask, _smallest(t.xp.abs(t.array), k))

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _slice_mask(t, dim, kept):
    """Zeros shaped like ``t`` with ones on the slices ``kept`` (indices) along ``dim``."""
    mask = t.xp.zeros(t.shape, dtype=t.array.dtype)
    mask[(slice(None),) * (dim % t.dim()) + (kept,)] = 1
    return mask


class RandomStructured(BasePruningMethod):
    """Zero ``amount`` random slices along ``dim``."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _entries_to_prune(self.amount, size)
        if k == 0:
            return default_mask
        prob = creation.rand(size, device=t.device).array
        kept = t.xp.sort(_smallest(prob, size - k, largest=True))
        return Tensor._wrap(_slice_mask(t, self.dim, kept)
                            * default_mask.array.astype(t.array.dtype))

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zero the ``amount`` slices along ``dim`` of smallest L``n`` norm (``n`` is
    ``torch.norm``'s ``p``)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _entries_to_prune(self.amount, size)
        if k == 0:
            return default_mask
        dim = self.dim % t.dim()
        norms = _norm(t, p=self.n, dim=[d for d in range(t.dim()) if d != dim]).array
        kept = _smallest(norms, size - k, largest=True)
        return Tensor._wrap(_slice_mask(t, dim, kept) * default_mask.array.astype(t.array.dtype))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """A mask given by the caller, multiplied into the existing one."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError(f"default_mask shape {tuple(default_mask.shape)} must match "
                                 f"self.mask shape {tuple(self.mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Prune ``module.<name>`` with a mask of ones (sets up ``_orig``/``_mask``)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Zero ``amount`` random entries of ``module.<name>``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Zero the ``amount`` entries of ``module.<name>`` of smallest |value| (or score)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Zero ``amount`` random slices of ``module.<name>`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Zero the ``amount`` slices along ``dim`` of smallest L``n`` norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` with the given 0/1 ``mask``."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the concatenation of ``parameters`` (``[(module, name), …]``) with one
    unstructured ``pruning_method(**kwargs)`` (e.g. ``L1Unstructured, amount=0.8``: the
    80% smallest |w| over all of them), then give each its slice as a custom mask."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    tensors = [importance_scores.get((m, n), getattr(m, n)).detach() for m, n in parameters]
    masks = [getattr(m, n + "_mask", None) for m, n in parameters]
    masks = [mask if mask is not None else creation.ones_like(t) for mask, t in zip(masks, tensors)]
    xp = tensors[0].xp
    scores = Tensor._wrap(xp.concatenate([t.array.reshape(-1) for t in tensors]))
    default = Tensor._wrap(xp.concatenate([m.array.reshape(-1).astype(scores.array.dtype)
                                           for m in masks]))
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final = container.compute_mask(scores, default).array
    pointer = 0
    for (module, name), t in zip(parameters, tensors):
        count = t.numel()
        piece = Tensor._wrap(final[pointer:pointer + count].reshape(t.shape))
        custom_from_mask(module, name, mask=piece)
        pointer += count


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent (see ``BasePruningMethod.remove``);
    ValueError if it is not pruned."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module):
    """Whether any submodule of ``module`` carries a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for _, sub in module.named_modules() for hook in sub._forward_pre_hooks.values())


def _validate_pruning_amount_init(amount):
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _entries_to_prune(amount, size):
    """How many of ``size`` entries (or channels) ``amount`` prunes, checked against ``size``."""
    k = _compute_nparams_toprune(amount, size)
    _validate_pruning_amount(k, size)
    return k


def _validate_pruning_amount(amount, tensor_size):
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t):
    if t.dim() <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {tuple(t.shape)} with {t.dim()} dims")


def _validate_pruning_dim(t, dim):
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _compute_nparams_toprune(amount, tensor_size):
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)
