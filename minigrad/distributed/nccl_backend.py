"""The ``"nccl"`` backend: collectives on CUDA (CuPy) arrays through ``cupy.cuda.nccl``.

The communicator needs one NCCL unique id shared by all ranks: rank 0 makes it and MPI
(mpi4py's ``COMM_WORLD``, so the job is started by ``mpirun``) broadcasts it. Each rank
uses the GPU ``local_rank % device_count`` (``LOCAL_RANK``, or Open MPI's / MPICH's
local-rank variable). Collectives are queued on a private stream, ordered after the work
already queued on the current stream; ``Work`` completes when an event recorded after the
collective has fired, and ``wait`` makes the current stream wait for it.

NOT RUN: this file has never run (the machine it was written on has no GPU); see
docs/distributed.md.
"""
from .reduce_op import ReduceOp, divide_in_place
from .work import Work

__all__ = ["NCCLBackend"]

_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
           "int32": "NCCL_INT32", "int64": "NCCL_INT64", "uint8": "NCCL_UINT8",
           "int8": "NCCL_INT8", "bool": "NCCL_UINT8"}
_OPS = {ReduceOp.SUM: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD", ReduceOp.MIN: "NCCL_MIN",
        ReduceOp.MAX: "NCCL_MAX", ReduceOp.AVG: "NCCL_SUM"}


class NCCLBackend:
    """One NCCL communicator over ``size`` ranks (this one is ``rank``). Every collective is
    queued on the stream (``async_op`` only decides whether the caller waits, in
    collectives.py)."""

    name = "nccl"

    def __init__(self, rank, size, local_rank, timeout):
        import cupy
        from cupy.cuda import nccl
        from mpi4py import MPI
        self.cupy, self.nccl, self.timeout = cupy, nccl, timeout
        self.rank, self.size = rank, size
        cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount()).use()
        unique_id = MPI.COMM_WORLD.bcast(nccl.get_unique_id() if rank == 0 else None, root=0)
        self.comm = nccl.NcclCommunicator(size, unique_id, rank)
        self.mpi_comm = MPI.COMM_WORLD
        self.stream = cupy.cuda.Stream(non_blocking=True)

    def _dtype(self, array):
        return getattr(self.nccl, _DTYPES[array.dtype.name])

    def _launch(self, what, call, finish=None):
        """Run ``call(stream_ptr)`` on the private stream after the current stream's work."""
        cupy = self.cupy
        self.stream.wait_event(cupy.cuda.get_current_stream().record())
        call(self.stream.ptr)
        done = self.stream.record()

        def finish_on_current_stream():
            cupy.cuda.get_current_stream().wait_event(done)
            if finish is not None:
                finish()
        return Work(lambda: done.done, finish_on_current_stream, self.timeout,
                    f"{what} (rank {self.rank} of {self.size}, nccl backend)", self._abort)

    def _abort(self):
        self.comm.abort()

    def _average(self, array, op):
        if op is not ReduceOp.AVG:
            return None

        return lambda: divide_in_place(self.cupy, array, self.size)

    def all_reduce(self, array, op, async_op=True):
        ptr, n, dtype = array.data.ptr, array.size, self._dtype(array)
        return self._launch("all_reduce", lambda s: self.comm.allReduce(
            ptr, ptr, n, dtype, getattr(self.nccl, _OPS[op]), s), self._average(array, op))

    def broadcast(self, array, src, async_op=True):
        ptr, n, dtype = array.data.ptr, array.size, self._dtype(array)
        return self._launch("broadcast", lambda s: self.comm.broadcast(ptr, ptr, n, dtype, src, s))

    def all_gather(self, out, array, async_op=True):
        n, dtype = array.size, self._dtype(array)
        return self._launch("all_gather", lambda s: self.comm.allGather(
            array.data.ptr, out.data.ptr, n, dtype, s))

    def reduce_scatter(self, out, stacked, op, async_op=True):
        n, dtype = out.size, self._dtype(out)
        return self._launch("reduce_scatter", lambda s: self.comm.reduceScatter(
            stacked.data.ptr, out.data.ptr, n, dtype, getattr(self.nccl, _OPS[op]), s),
            self._average(out, op))

    def broadcast_object(self, obj, src):
        """``src``'s Python object on every rank, over MPI (the bootstrap channel)."""
        return self.mpi_comm.bcast(obj, root=src)

    def barrier(self, async_op=True):
        token = self.cupy.zeros(1, dtype=self.cupy.float32)
        work = self.all_reduce(token, ReduceOp.SUM)
        work.token = token
        return work

    def close(self):
        self.stream.synchronize()
        self.comm.destroy()
