"""The collectives on tensors, with PyTorch's names and arguments: ``all_reduce``,
``broadcast``, ``all_gather``, ``reduce_scatter``, ``barrier``. Each changes its tensors
in place (and bumps their version, as an in-place op does) and returns None, or a
``Work`` with ``async_op=True`` whose ``wait()`` finishes it.

This layer hands the backend what it can move: a contiguous array (a non-contiguous
tensor is reduced in a contiguous copy that is written back when the work finishes), of
a dtype MPI reduces (float16 is reduced in float32, bool as uint8 with MAX/MIN for
SUM/PRODUCT, i.e. OR/AND). The mpi backend takes CPU tensors, nccl CUDA tensors.
"""
import numpy as np

from ..tensor import Tensor
from .process_group import check_group
from .reduce_op import ReduceOp, check_op
from .work import CompletedWork

__all__ = ["all_reduce", "broadcast", "all_gather", "reduce_scatter", "barrier",
           "broadcast_object_list"]


def _check_tensor(tensor, backend, what):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    on_cuda = tensor.device.type == "cuda"
    if backend.name == "mpi" and on_cuda:
        raise RuntimeError(f"{what}: the mpi backend takes CPU tensors, got one on "
                           f"{tensor.device} (use backend='nccl')")
    if backend.name == "nccl" and not on_cuda:
        raise RuntimeError(f"{what}: the nccl backend takes CUDA tensors, got one on "
                           f"{tensor.device}")


def _reducible(xp, array, op):
    """(buffer, op, write_back): a contiguous buffer of a dtype MPI/NCCL reduce."""
    kind = array.dtype
    if kind == np.bool_:
        buffer = xp.ascontiguousarray(array).astype(np.uint8)
        op = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.AVG: ReduceOp.MAX,
              ReduceOp.PRODUCT: ReduceOp.MIN}.get(op, op)
    elif kind == np.float16 and xp is np:
        buffer = array.astype(np.float32)
    elif array.flags.c_contiguous:
        return array, op, None
    else:
        buffer = xp.ascontiguousarray(array)

    def write_back():
        array[...] = buffer.astype(array.dtype)
    return buffer, op, write_back


def _bump(*tensors):
    for t in tensors:
        t._version_counter.value += 1


def _finish(work, async_op, after=None):
    """Chain ``after`` onto ``work`` and either return it or wait for it."""
    if after is not None:
        inner = work._finish

        def both():
            if inner is not None:
                inner()
            after()
        work._finish = both
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's ``tensor`` becomes the reduction (``op``) of all ranks' tensors."""
    backend = check_group(group)
    _check_tensor(tensor, backend, "all_reduce")
    buffer, op, write_back = _reducible(tensor.xp, tensor.array, check_op(op))
    _bump(tensor)
    return _finish(backend.all_reduce(buffer, op, async_op), async_op, write_back)


def broadcast(tensor, src, group=None, async_op=False):
    """Every rank's ``tensor`` becomes rank ``src``'s."""
    backend = check_group(group)
    _check_tensor(tensor, backend, "broadcast")
    if not 0 <= src < backend.size:
        raise ValueError(f"broadcast: src={src} is not a rank of a group of size {backend.size}")
    array = tensor.array
    buffer = array if array.flags.c_contiguous else array.copy()

    def write_back():
        array[...] = buffer
    _bump(tensor)
    return _finish(backend.broadcast(buffer, src, async_op), async_op,
                   None if buffer is array else write_back)


def _check_world_list(name, list_name, tensors, like, like_role, backend):
    """``tensors`` must be world-size many tensors of ``like``'s shape and dtype."""
    if len(tensors) != backend.size:
        raise RuntimeError(f"{name}: {list_name} has {len(tensors)} tensors, expected "
                           f"{backend.size} (the world size)")
    for i, t in enumerate(tensors):
        _check_tensor(t, backend, name)
        if tuple(t.shape) != tuple(like.shape) or t.dtype != like.dtype:
            raise RuntimeError(f"{name}: {list_name}[{i}] has shape {list(t.shape)} and dtype "
                               f"{t.dtype}, expected {list(like.shape)} and {like.dtype} (the "
                               f"{like_role}'s)")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` becomes rank r's ``tensor`` (a list of world-size tensors of
    ``tensor``'s shape and dtype)."""
    backend = check_group(group)
    _check_tensor(tensor, backend, "all_gather")
    _check_world_list("all_gather", "tensor_list", tensor_list, tensor, "input", backend)
    array = tensor.array
    xp = tensor.xp
    source = xp.ascontiguousarray(array)
    gathered = xp.empty((backend.size, *array.shape), dtype=array.dtype)

    def write_back():
        for r, out in enumerate(tensor_list):
            out.array[...] = gathered[r]
    _bump(*tensor_list)
    work = backend.all_gather(gathered, source, async_op)
    work.keep = (source,)
    return _finish(work, async_op, write_back)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Rank r's ``output`` becomes the reduction over ranks of their ``input_list[r]``."""
    backend = check_group(group)
    _check_tensor(output, backend, "reduce_scatter")
    _check_world_list("reduce_scatter", "input_list", input_list, output, "output", backend)
    xp = output.xp
    stacked = xp.stack([t.array for t in input_list])
    stacked, op, _ = _reducible(xp, stacked, check_op(op))
    result = xp.empty(output.shape, dtype=stacked.dtype)

    def write_back():
        output.array[...] = result.astype(output.dtype)
    _bump(output)
    work = backend.reduce_scatter(result, stacked, op, async_op)
    work.keep = (stacked,)
    return _finish(work, async_op, write_back)


def barrier(group=None, async_op=False, device_ids=None):
    """Return once every rank has called ``barrier``."""
    backend = check_group(group)
    if backend.size == 1:
        return CompletedWork() if async_op else None
    return _finish(backend.barrier(async_op), async_op)


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Every rank's ``object_list`` (a list of picklable objects, the same length on every
    rank) becomes rank ``src``'s, in place."""
    backend = check_group(group)
    received = backend.broadcast_object(list(object_list), src)
    if len(received) != len(object_list):
        raise RuntimeError(f"broadcast_object_list: rank {src} sent {len(received)} objects, "
                           f"this rank's list holds {len(object_list)}")
    object_list[:] = received
