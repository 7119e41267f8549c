"""``DistributedDataParallel`` (``torch.nn.parallel.DistributedDataParallel``): one model
replica per process; each process runs its share of the batch, and backward leaves the
gradients averaged over all processes, so every replica takes the same optimizer step.

* At construction, parameters and buffers are broadcast from rank 0 (all replicas start
  equal), and each parameter gets the reducer's gradient hook (``reducer.py``: buckets,
  reduced while backward runs).
* ``forward`` first broadcasts rank 0's buffers (``broadcast_buffers=True``: BatchNorm's
  running statistics follow rank 0, as in PyTorch), then calls the module and, when
  gradients will be reduced, arms the reducer.
* BatchNorm inside DDP normalises with each rank's own batch statistics (PyTorch's DDP
  does the same; ``SyncBatchNorm`` is not part of minigrad).
* ``no_sync()``: backward passes inside accumulate local gradients with no communication;
  the first backward after it averages the accumulated sums.
* ``state_dict`` keys carry the ``module.`` prefix, as PyTorch's (the wrapped module is
  ``self.module``); save ``ddp.module.state_dict()`` for a checkpoint any world size loads.
"""
import contextlib

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..module import Module
from .data_parallel import _to_device
from .reducer import FIRST_BUCKET_BYTES, Reducer, tensors_in

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """``DistributedDataParallel(module, device_ids=None, output_device=None, dim=0,
    broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
    find_unused_parameters=False, check_reduction=False, gradient_as_bucket_view=False,
    static_graph=False)`` (see the module docstring). ``bucket_cap_mb``: bucket size in
    MiB (None: 25, PyTorch's default)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        dist.process_group.check_group(process_group)
        params = []
        for p in module.parameters():
            if p.requires_grad and all(p is not q for q in params):
                params.append(p)
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        if device_ids is not None and len(device_ids) != 1:
            raise ValueError(f"device_ids can only be None or contain a single element, got "
                             f"{device_ids}")
        self.module = module
        self.device_ids = device_ids
        self.device = params[0].device
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = process_group
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._sync_module_states()
        first = FIRST_BUCKET_BYTES if bucket_cap_mb is None and not static_graph else None
        self.reducer = Reducer(params, self.bucket_bytes_cap, find_unused_parameters, first)

    def _sync_module_states(self):
        """Rank 0's parameters and buffers, to every rank."""
        tensors = [*self.module.parameters(), *self.module.buffers()]
        self._broadcast_from_rank0(tensors)

    @staticmethod
    def _broadcast_from_rank0(tensors):
        if dist.get_world_size() == 1 or not tensors:
            return
        with no_grad():
            for t in tensors:
                dist.broadcast(t.detach(), 0)

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._broadcast_from_rank0(list(self.module.buffers()))
        if self.device_ids is not None:
            inputs, kwargs = _to_device(inputs, self.device), _to_device(kwargs, self.device)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare_for_backward(tensors_in(output))
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside this block accumulate gradients locally
        without communication."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
