"""minigrad: a from-scratch reverse-mode autograd engine over numpy (and CuPy) arrays whose
public API is a faithful subset of PyTorch's (docs/api_contract.md): ``import minigrad as torch``.

Reading order: ``tensor.py`` (the Tensor), ``autograd/function.py`` (one op = one Function),
``autograd/engine.py`` (the backward pass), ``ops/`` (the op catalogue, one family per file),
then ``nn/``, ``optim/`` and the compute layer in the top-level ``kernels`` package.
"""
from . import dtypes
from .dtypes import (float16, bfloat16, float32, float64, int8, uint8, int16, int32, int64, bool_ as bool,
                     get_default_dtype, set_default_dtype)
from .device import Device as device, cuda_is_available
from .tensor import Tensor, Size
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                                  inference_mode, is_inference_mode_enabled)
from .threads import set_num_threads, get_num_threads
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,
                       ones_like, empty_like, full_like, randn, rand, randn_like, rand_like,
                       randint, randperm, arange, linspace, eye, manual_seed, is_tensor,
                       get_rng_state, set_rng_state)
from . import random
from .random import Generator, default_generator, seed, initial_seed
from . import ops
from .ops import *  # noqa: F401,F403  (the functional forms: mg.exp, mg.cat, ...)
from . import autograd
from . import linalg
from .tensor_types import (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor,
                           IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor)
from . import tensor_methods
tensor_methods.bind(Tensor)   # Tensor's operators and op methods, from one table

# PyTorch's short dtype aliases (bound here, after everything that needs Python's own
# float/int/bool names has been imported).
half = float16
float = float32
double = float64
short = int16
int = int32
long = int64
from . import cuda, cpu  # noqa: E402

from .version import __version__  # noqa: E402
from . import version  # noqa: E402
from .type_info import (finfo, iinfo, promote_types, result_type, can_cast,  # noqa: E402
                        is_floating_point, is_nonzero, numel, dtype,
                        set_float32_matmul_precision, get_float32_matmul_precision)
from .printing import set_printoptions, get_printoptions  # noqa: E402

# Checkpoints and the packages built on the tensor core (imported last: they use all of it).
from .serialization import save, load  # noqa: E402
from . import nn, optim, utils  # noqa: E402
from . import serialization  # noqa: E402
from . import accelerator, ao, backends, distributed, distributions, onnx, sparse  # noqa: E402
from . import amp  # noqa: E402
from .amp.autocast_mode import (autocast, is_autocast_enabled,  # noqa: E402
                                set_autocast_enabled, get_autocast_dtype, set_autocast_dtype,
                                is_autocast_cpu_enabled, get_autocast_cpu_dtype,
                                get_autocast_gpu_dtype, is_autocast_cache_enabled,
                                set_autocast_cache_enabled, clear_autocast_cache)
from .determinism import (use_deterministic_algorithms,  # noqa: E402
                          are_deterministic_algorithms_enabled,
                          is_deterministic_algorithms_warn_only_enabled)
