"""``nn.parallel`` (``torch.nn.parallel``): ``DataParallel`` (one device, see
data_parallel.py) and ``DistributedDataParallel`` (one process per replica over
``minigrad.distributed``; distributed.py, its bucketed gradient reducer in reducer.py)."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel
from . import data_parallel, distributed

__all__ = ["DataParallel", "DistributedDataParallel"]
