"""``Work``: the handle an ``async_op=True`` collective returns (PyTorch's
``torch.distributed.Work``). ``wait()`` blocks until the collective is done on this rank,
then runs its finishing step (copying a result into the tensor, dividing for AVG). A
collective that a peer never joins does not hang: after the process group's ``timeout``
``wait`` raises ``RuntimeError`` naming the collective."""
import time

__all__ = ["Work", "CompletedWork", "timeout_message"]


def timeout_message(what, seconds):
    return (f"minigrad.distributed: {what} timed out after {seconds:.1f} s waiting for the "
            "other ranks (a rank died, hung, or called a different collective)")


def _seconds(limit):
    return limit.total_seconds() if hasattr(limit, "total_seconds") else float(limit)


class Work:
    """One collective in flight. ``test()`` returns True once it has completed (and drives
    the transport's progress); ``finish`` runs once after that. ``block(seconds, what)``,
    if given, waits the backend's own way (the mpi backend: on its communication thread's
    completion event) and raises RuntimeError after ``seconds``; without it ``wait`` polls
    ``test`` and raises RuntimeError at the deadline, after calling ``on_timeout``."""

    def __init__(self, test, finish, timeout, what, on_timeout=None, block=None):
        self._test, self._finish, self._timeout, self._what = test, finish, timeout, what
        self._on_timeout, self._block = on_timeout, block
        self._done = False
        self._started = time.monotonic()

    def is_completed(self):
        """True once the collective has finished (never blocks)."""
        if not self._done and self._test():
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()

    def wait(self, timeout=None):
        """Block until done (``timeout``: a timedelta or seconds; the group's by default)."""
        if self._done:
            return True
        limit = _seconds(self._timeout if timeout is None else timeout)
        if self._block is not None:
            self._block(limit, self._what)
        else:
            deadline = self._started + limit
            while not self._test():
                if time.monotonic() > deadline:
                    if self._on_timeout is not None:
                        self._on_timeout()
                    raise RuntimeError(timeout_message(self._what, limit))
                time.sleep(0)          # yield the core: ranks may outnumber cores
        self._complete()
        return True

    def result(self):
        self.wait()
        return []


class CompletedWork(Work):
    """A collective that finished when it was called (one rank, or a blocking transport)."""

    def __init__(self):
        super().__init__(lambda: True, None, 0.0, "a completed collective")
        self._done = True
