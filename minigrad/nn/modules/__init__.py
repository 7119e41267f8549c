"""The layer modules of ``minigrad.nn``, one family per file (each a thin Module around the
``nn.functional`` form, with PyTorch's constructor arguments, parameter names and shapes,
default initialisation and ``extra_repr``)."""
from . import (activation, conv, dropout, linear, loss, loss_more, normalization, padding,
               pooling, sparse, upsampling)
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .loss_more import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403

__all__ = [name for module in (activation, conv, dropout, linear, loss, loss_more, normalization,
                               padding, pooling, sparse, upsampling)
           for name in module.__all__]

from . import attention, rnn, rnn_cell, transformer  # noqa: E402
from .attention import *  # noqa: E402,F401,F403
from .rnn import *  # noqa: E402,F401,F403
from .rnn_cell import *  # noqa: E402,F401,F403
from .transformer import *  # noqa: E402,F401,F403
__all__ += attention.__all__ + rnn.__all__ + rnn_cell.__all__ + transformer.__all__

# PyTorch's module paths for classes defined elsewhere (``nn.modules.container.Sequential``,
# ``nn.modules.module.Module``, ``nn.modules.batchnorm``, ``nn.modules.flatten``).
from . import batchnorm, container, flatten, module, utils  # noqa: E402,F401
