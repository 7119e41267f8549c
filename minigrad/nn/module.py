"""``nn.Module``: the base class of every layer and model.

A Module is a tree. Each node owns three ordered tables, filled by plain attribute
assignment (``__setattr__`` routes by the value's type):

    self.w = Parameter(...)        → _parameters["w"]   (trained; in state_dict)
    self.register_buffer("m", t)   → _buffers["m"]      (not trained; in state_dict unless
                                                         persistent=False)
    self.fc = Linear(...)          → _modules["fc"]     (a child; its entries get "fc." keys)

Everything else about a Module is a walk over that tree: ``named_parameters`` yields
``"fc.weight"``-style dotted names in registration order (depth first, own entries before
children's, the order of ``torch.nn.Module``), ``state_dict`` is that walk over parameters
and persistent buffers, and ``load_state_dict`` is its inverse. Because names, order and
shapes match PyTorch's for the same structure, weights move between the two as
``{name: array}``.

``load_state_dict`` is transactional: every key and shape is checked before the first
value is copied, so an error leaves the module exactly as it was.
"""
import itertools
from collections import OrderedDict

from .. import dtypes
from ..tensor import Tensor
from ..ops.conversion import parse_to_arguments
from ..autograd.grad_mode import no_grad
from .module_hooks import HOOK_TABLES, ModuleHooks, global_hooks_in_use
from .parameter import Parameter
from .state_dict import load_state


def _typename(obj):
    if isinstance(obj, Tensor):
        return f"minigrad.{type(obj).__name__}"
    return type(obj).__name__


def _addindent(text, spaces):
    """Indent every line but the first (how nested reprs line up under their "(name): ")."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(module, kind, name, registered):
    """PyTorch's checks on the name of a new parameter, buffer or submodule of ``module``:
    a non-empty string without dots, not already an attribute outside ``registered``."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\", got: {name}")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    if hasattr(module, name) and name not in registered:
        raise KeyError(f"attribute '{name}' already exists")


class Module(ModuleHooks):
    """Base class for all neural network modules (see the module docstring).

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and submodules
    as attributes, and define ``forward``; calling the module runs ``forward``.
    """

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments "
                            f"{args or ''}{kwargs or ''}")
        # object.__setattr__: our own __setattr__ needs these tables to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        for table in HOOK_TABLES:
            object.__setattr__(self, table, OrderedDict())
        object.__setattr__(self, "_is_full_backward_hook", None)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if (d.get("_forward_hooks") or d.get("_forward_pre_hooks") or d.get("_backward_hooks")
                or d.get("_backward_pre_hooks") or global_hooks_in_use()):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def register_parameter(self, name, param):
        """Add a parameter (or ``None``, a declared-but-absent slot such as ``bias=False``)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, "parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(minigrad.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             "function of another Tensor, compute the value in the forward() "
                             "method.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not trained (running statistics, masks).

        ``persistent=False`` keeps it out of ``state_dict`` (PyTorch's rule)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, "buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(minigrad Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or ``None``) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name(self, "module", name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The module at dotted path ``target`` ("" is self)."""
        module = self
        for item in target.split(".") if target else ():
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def __setattr__(self, name, value):
        def remove_from(*tables):
            for table in tables:
                if name in table:
                    if isinstance(table, dict):
                        del table[name]
                    else:
                        table.discard(name)

        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(minigrad.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(minigrad.nn.Module or None expected)")
            d["_modules"][name] = value
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(minigrad.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails; read the tables through __dict__ so a
        # half-built object (copy, unpickling) cannot recurse into __getattr__ again.
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            entries = d.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = itertools.chain(dir(type(self)), self.__dict__, self._parameters,
                               self._modules, self._buffers)
        return sorted({k for k in keys if not k[0].isdigit()})

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for self and every descendant, depth first, each module
        once unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, table, prefix, recurse, remove_duplicate):
        """(dotted name, entry) over one table of self (and descendants if ``recurse``);
        a tensor shared by two modules (tied weights) is reported once by default."""
        seen = set()
        walk = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in walk:
            for name, value in getattr(module, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # ------------------------------------------------------------------ state dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An OrderedDict ``{dotted name: tensor}`` of parameters and persistent buffers.

        Values are detached tensors sharing the module's arrays (so saving is cheap and a
        later in-place update shows through), or the Parameters themselves with
        ``keep_vars=True``. A module reached under two names appears under both, as in
        PyTorch."""
        if args:
            raise TypeError("state_dict() takes destination, prefix and keep_vars as keyword "
                            "arguments")
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy ``state_dict`` (values: Tensors or numpy arrays) into this module's
        parameters and buffers, casting to their dtypes and devices; everything is checked
        before anything is copied (see ``state_dict.load_state``). Returns
        ``(missing_keys, unexpected_keys)``."""
        return load_state(self, state_dict, strict=strict, assign=assign)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode=True):
        """Set training mode on this module and every descendant (Dropout and BatchNorm
        read ``self.training``)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)     # through train(), so a subclass's override is honoured
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Drop (default) or zero every parameter's ``.grad``."""
        for param in self.parameters():
            _reset_grad(param, set_to_none)

    # ------------------------------------------------------------------ conversion
    def _apply(self, fn):
        """Replace every parameter's and buffer's values with ``fn(tensor)``.

        Parameters are converted in place (the same Parameter object gets the new array),
        so an optimizer built before ``model.to(...)`` still holds the live parameters;
        buffers are replaced by the new tensors. Gradients follow their parameters."""
        for module in self.children():
            module._apply(fn)
        with no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                param.array = fn(param).array
                if param.grad is not None:
                    param.grad.array = fn(param.grad).array
            for name, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[name] = fn(buf)
        return self

    def apply(self, fn):
        """Call ``fn`` on every descendant, then on self (``model.apply(init_weights)``)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)``; a dtype
        converts only floating-point parameters and buffers (integer counters stay)."""
        device, dtype, _ = parse_to_arguments(args, kwargs, allow_copy=False)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if not dtypes.is_floating(dtype):
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                                f"desired dtype={dtype}")
        return self._apply(lambda t: t.to(device=device,
                                          dtype=dtype if t.is_floating_point() else None))

    def _cast_floating(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self._cast_floating(dtypes.float32)

    def double(self):
        return self._cast_floating(dtypes.float64)

    def half(self):
        return self._cast_floating(dtypes.float16)

    def bfloat16(self):
        return self._cast_floating(dtypes.bfloat16)

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None):
        return self._apply(lambda t: t.cuda(device))

    # ------------------------------------------------------------------ printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside this module's parentheses (``in_features=2, ...``)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _reset_grad(param, set_to_none):
    """Shared by Module.zero_grad and Optimizer.zero_grad."""
    if param.grad is None:
        return
    if set_to_none:
        param.grad = None
    else:
        # A fresh zero array rather than an in-place write: the engine may hand one
        # gradient array to several leaves, or a read-only broadcast view.
        grad = param.grad
        if grad.grad_fn is not None:
            grad = param.grad = grad.detach()
        grad.array = grad.xp.zeros_like(grad.array)
