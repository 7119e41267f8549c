"""minigrad.nn: modules (``Module``, containers, layers, losses), ``Parameter``, weight
initialisation (``nn.init``), the functional forms (``nn.functional``) and parameter
utilities (``nn.utils``), with PyTorch's names, signatures and state_dict layouts.

Reading order: ``parameter.py`` (a Tensor that is learned), ``module.py`` (the tree of
parameters, buffers and submodules), ``state_dict.py`` (loading weights, all or nothing),
``containers.py``, ``init.py``, then ``functional/`` and the layers in ``modules/``.
"""
from .parameter import Parameter
from .module import Module
from .containers import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from . import init, utils

from . import functional
from .modules import *  # noqa: F401,F403
from . import parallel
from .parallel import DataParallel
