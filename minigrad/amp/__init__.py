"""``minigrad.amp``: automatic mixed precision, PyTorch's ``torch.amp`` (``autocast``,
``GradScaler``) and its helpers."""
from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler, OptState

__all__ = ["autocast", "GradScaler", "OptState", "is_autocast_available"]
