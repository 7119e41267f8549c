"""``minigrad.distributed`` (``torch.distributed``): a process group over MPI (CPU
tensors, mpi4py) or NCCL (CUDA tensors, ``cupy.cuda.nccl``) and the collectives on it.

Files: ``process_group.py`` (init/destroy, rank and size, the launcher's environment),
``collectives.py`` (all_reduce, broadcast, all_gather, reduce_scatter, barrier on
tensors), ``reduce_op.py`` (ReduceOp), ``work.py`` (the async handle, with the timeout
that turns a dead peer into an error), ``mpi_backend.py`` and ``nccl_backend.py`` (the
engines), ``run.py`` (``python -m minigrad.distributed.run -n 2 script.py``, a wrapper
around mpirun). ``DistributedDataParallel`` is in ``minigrad.nn.parallel``,
``DistributedSampler`` in ``minigrad.utils.data``. See docs/distributed.md.
"""
from .reduce_op import ReduceOp
from .work import Work
from .process_group import (init_process_group, destroy_process_group, is_initialized,
                            is_available, is_mpi_available, is_nccl_available, get_rank,
                            get_world_size, get_backend, group, GroupMember, Backend,
                            default_pg_timeout)
from .collectives import (all_reduce, broadcast, all_gather, reduce_scatter, barrier,
                          broadcast_object_list)

__all__ = ["ReduceOp", "Work", "init_process_group", "destroy_process_group",
           "is_initialized", "is_available", "is_mpi_available", "is_nccl_available",
           "get_rank", "get_world_size", "get_backend", "group", "GroupMember", "Backend",
           "default_pg_timeout", "all_reduce", "broadcast", "all_gather", "reduce_scatter",
           "barrier", "broadcast_object_list"]
