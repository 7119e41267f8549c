"""``nn.parallel`` (``torch.nn.parallel``): ``DataParallel``. ``DistributedDataParallel`` is
outside minigrad's subset (no process groups)."""
from .data_parallel import DataParallel

__all__ = ["DataParallel"]
