"""minigrad.nn: modules (``Module``, containers, layers, losses), ``Parameter``, weight
initialisation (``nn.init``), the functional forms (``nn.functional``) and parameter
utilities (``nn.utils``), with PyTorch's names, signatures and state_dict layouts.

Reading order: ``parameter.py`` (a Tensor that is learned), ``module.py`` (the tree of
parameters, buffers and submodules), ``state_dict.py`` (loading weights, all or nothing),
``containers.py``, ``init.py``, then ``functional/`` and the layers in ``modules/``.
"""
from .parameter import Parameter
from .module import Module
from .containers import Sequential, ModuleList, ModuleDict
from . import init, utils

try:  # TEMPORARY while nn.functional is being written
    from . import functional
except ModuleNotFoundError as _e:
    if _e.name != f"{__name__}.functional":
        raise

try:  # TEMPORARY while the layer modules are being written
    from .modules import *  # noqa: F401,F403
except ModuleNotFoundError as _e:
    if _e.name != f"{__name__}.modules":
        raise
