"""Automatic mixed precision: ``autocast`` and the per-op casting policies it applies.

Inside ``with minigrad.autocast("cpu", dtype=minigrad.bfloat16):`` the ops on PyTorch's
autocast lists cast their floating arguments before running, exactly as PyTorch's autocast
dispatch does (``aten/src/ATen/autocast_mode.cpp``):

* **lower precision** (matmul, linear, conv, attention, ...): every floating argument that
  is not float64 is cast to the autocast dtype, so the op runs (and returns) in it;
* **float32** (losses and, on CUDA, softmax, norms, reductions, exp/log/pow, ...): every
  half-width argument is cast to float32;
* **promote** (CUDA: addcmul, cross, dot, tensordot, ...): mixed floating arguments are
  cast to the widest one among them.

Ops on neither list run in whatever dtype their inputs have (a bfloat16 activation stays
bfloat16 through gelu, dropout, ...). The lists differ between the devices, so an op
looks up the policy of the device its tensors are on: ``OPS["cpu"]`` and ``OPS["cuda"]``
below hold PyTorch 2.x's lists restricted to the ops minigrad has. The casts are ordinary
differentiable ``to`` calls: gradients flow back through them into the parameters' own
dtype (float32 grads for float32 parameters). The state is thread-local, like PyTorch's.
Not done: PyTorch's cast cache (a float32 weight used by several ops inside one region is
cast once there; here once per op; the values and gradients are the same).
"""
import functools
import threading
import warnings

from .. import dtypes
from ..tensor import Tensor

_state = threading.local()
# How many autocast switches are on in any thread: the decorated ops' one-load fast path.
_ACTIVE = [0]
_DEFAULTS = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
_ALLOWED = {"cpu": (dtypes.bfloat16, dtypes.float16), "cuda": (dtypes.float16, dtypes.bfloat16)}

# PyTorch's autocast op lists (torch 2.x, autocast_mode.cpp), the ops minigrad has.
_LOWER_CPU = {"conv1d", "conv2d", "conv3d", "bmm", "mm", "vecdot", "baddbmm", "addmm",
              "addbmm", "linear", "matmul", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "prelu", "scaled_dot_product_attention",
              "einsum"}  # einsum: PyTorch's CPU einsum is bmm underneath, so it is lowered too
_FP32_CPU = {"avg_pool3d", "binary_cross_entropy", "grid_sample", "prod", "quantile",
             "nanquantile", "cdist", "trace", "cholesky", "inverse", "pinverse", "max_pool3d",
             "adaptive_avg_pool3d", "mse_loss", "cosine_embedding_loss", "nll_loss",
             "hinge_embedding_loss", "poisson_nll_loss", "smooth_l1_loss", "cross_entropy",
             "l1_loss", "huber_loss", "margin_ranking_loss", "soft_margin_loss",
             "triplet_margin_loss", "multi_margin_loss", "ctc_loss", "kl_div",
             "multilabel_margin_loss", "binary_cross_entropy_with_logits"}
_LOWER_CUDA = {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "prelu", "addmm", "addmv", "addr", "matmul", "einsum", "mm",
               "mv", "vecdot", "linear", "addbmm", "baddbmm", "bmm", "chain_matmul",
               "multi_dot", "scaled_dot_product_attention"}
_FP32_CUDA = {"acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2",
              "log1p", "reciprocal", "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm",
              "group_norm", "cosine_similarity", "poisson_nll_loss", "cosine_embedding_loss",
              "nll_loss", "hinge_embedding_loss", "kl_div", "l1_loss", "smooth_l1_loss",
              "huber_loss", "mse_loss", "margin_ranking_loss", "multilabel_margin_loss",
              "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
              "binary_cross_entropy_with_logits", "dist", "pdist", "cdist", "renorm",
              "logsumexp", "interpolate", "softmax", "log_softmax", "sum", "prod", "cumsum",
              "cumprod", "norm", "vector_norm", "matrix_norm",
              "cross_entropy"}  # cross_entropy is log_softmax + nll_loss there: both float32
_PROMOTE_CUDA = {"addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot",
                 "tensordot", "scatter_add", "grid_sample"}
OPS = {"cpu": {**{n: "fp32" for n in _FP32_CPU}, **{n: "lower" for n in _LOWER_CPU}},
       "cuda": {**{n: "promote" for n in _PROMOTE_CUDA}, **{n: "fp32" for n in _FP32_CUDA},
                **{n: "lower" for n in _LOWER_CUDA}}}


def _table():
    table = getattr(_state, "table", None)
    if table is None:
        table = _state.table = {"cpu": [False, _DEFAULTS["cpu"]],
                                "cuda": [False, _DEFAULTS["cuda"]]}
        _state.inside = False
    return table


def _device_type(device_type):
    if device_type not in _DEFAULTS:
        raise RuntimeError(f"User specified an unsupported autocast device_type "
                           f"'{device_type}'; minigrad supports 'cpu' and 'cuda'")
    return device_type


def is_autocast_available(device_type):
    return device_type in _DEFAULTS


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (no argument: 'cuda', as PyTorch)."""
    return _table()[_device_type(device_type or "cuda")][0]


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:     # PyTorch's older one-argument form means CUDA
        device_type, enabled = "cuda", device_type
    entry = _table()[_device_type(device_type)]
    _ACTIVE[0] += bool(enabled) - entry[0]
    entry[0] = bool(enabled)


def get_autocast_dtype(device_type):
    return _table()[_device_type(device_type)][1]


def set_autocast_dtype(device_type, dtype):
    _table()[_device_type(device_type)][1] = dtypes.as_dtype(dtype)


def is_autocast_cpu_enabled():
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype():
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype():
    return get_autocast_dtype("cuda")


def is_autocast_cache_enabled():
    return getattr(_state, "cache", True)


def set_autocast_cache_enabled(enabled):
    _state.cache = bool(enabled)


def clear_autocast_cache():
    """PyTorch frees its cast cache here; minigrad keeps none (see the module docstring)."""


class autocast:
    """PyTorch's ``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``:
    a context manager (and decorator) turning mixed precision on (or, with
    ``enabled=False``, off) for one device type; regions nest and restore on exit."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device_type(device_type)
        self.fast_dtype = dtypes.as_dtype(dtype) if dtype is not None else \
            get_autocast_dtype(device_type)
        self._enabled = bool(enabled)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else \
            bool(cache_enabled)
        if self._enabled and self.fast_dtype not in _ALLOWED[self.device]:
            names = " and ".join(f"minigrad.{d}" for d in _ALLOWED[self.device])
            warnings.warn(f"In {self.device.upper()} autocast, but the target dtype "
                          f"minigrad.{self.fast_dtype} is not supported. Disabling autocast.\n"
                          f"{self.device.upper()} Autocast only supports dtypes of {names} "
                          f"currently.")
            self._enabled = False

    def __enter__(self):
        entry = _table()[self.device]
        self._previous = (entry[0], entry[1], is_autocast_cache_enabled())
        _ACTIVE[0] += self._enabled - entry[0]
        entry[0], entry[1] = self._enabled, self.fast_dtype
        _state.cache = self._cache_enabled
        return self

    def __exit__(self, *exc):
        entry = _table()[self.device]
        _ACTIVE[0] += self._previous[0] - entry[0]
        entry[0], entry[1], _state.cache = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)
        return decorated


def _tensors(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (t for t in a if isinstance(t, Tensor))


def _cast(value, rule):
    if isinstance(value, Tensor):
        return rule(value)
    if isinstance(value, (list, tuple)) and any(isinstance(t, Tensor) for t in value):
        return type(value)(rule(t) if isinstance(t, Tensor) else t for t in value)
    return value


def autocast_op(name):
    """Decorate the public op ``name`` so that, inside an autocast region of its tensors'
    device, its arguments are cast by that device's policy for ``name`` (``OPS``); the op
    then runs with autocast off, as PyTorch redispatches below its autocast layer."""
    def decorate(op):
        @functools.wraps(op)
        def autocasting(*args, **kwargs):
            if not _ACTIVE[0]:
                return op(*args, **kwargs)
            table = getattr(_state, "table", None)
            if table is None or _state.inside or not (table["cpu"][0] or table["cuda"][0]):
                return op(*args, **kwargs)
            tensors = list(_tensors(args, kwargs))
            device = "cuda" if any(t.device.type == "cuda" for t in tensors) else "cpu"
            enabled, low = table[device]
            policy = OPS[device].get(name)
            if not enabled or policy is None:
                return op(*args, **kwargs)
            if policy == "lower":
                target = low
            elif policy == "fp32":
                target = dtypes.float32
            else:   # promote: the widest floating dtype among the arguments
                floats = [t.dtype for t in tensors if t.dtype.kind in "fV"]
                target = floats[0] if floats else None
                for dtype in floats[1:]:
                    target = dtypes.promote_types(target, dtype)
                if target is None or target == dtypes.float64:
                    return op(*args, **kwargs)

            def rule(t):
                eligible = t.dtype.kind in "fV" and t.dtype != dtypes.float64
                return t.to(target) if eligible and t.dtype != target else t
            args = [_cast(a, rule) for a in args]
            kwargs = {k: _cast(v, rule) for k, v in kwargs.items()}
            _state.inside = True
            try:
                return op(*args, **kwargs)
            finally:
                _state.inside = False
        autocasting.__wrapped_op__ = op
        return autocasting
    return decorate
