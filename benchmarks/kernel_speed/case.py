"""One timed kernel call: its catalogue name, the arguments, and PyTorch's twin."""
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class KernelCase:
    """``name`` is the catalogue name (``"conv2d_forward"``); ``label`` says the size
    (``"64×32×28×28, 3×3"``); ``args``/``kwargs`` are numpy arrays and plain values as
    the entry point takes them; ``torch_fn(torch, *torch_args)`` computes the same with
    PyTorch (None when PyTorch has no twin), ``torch_args(torch)`` building its inputs
    (default: ``torch.from_numpy`` of each array argument, other arguments as they are)."""
    name: str
    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    torch_fn: Optional[Callable] = None
    torch_args: Optional[Callable] = None
