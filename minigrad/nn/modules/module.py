"""``nn.modules.module`` (PyTorch's path to ``Module``): ``Module`` and the hooks common
to every module (``register_module_forward_hook`` and kin), defined in ``nn/module.py`` and ``nn/module_hooks.py``."""
from ..module import Module
from ..module_hooks import (register_module_forward_pre_hook, register_module_forward_hook,
                            register_module_full_backward_pre_hook,
                            register_module_full_backward_hook)

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook"]
