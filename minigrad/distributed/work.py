"""``Work``: the handle an ``async_op=True`` collective returns (PyTorch's
``torch.distributed.Work``). ``wait()`` blocks until the collective is done on this rank,
then runs its finishing step (copying a result into the tensor, dividing for AVG); it
raises ``RuntimeError`` after the process group's ``timeout`` instead of hanging when a
peer never joins."""
import time

__all__ = ["Work", "CompletedWork"]


class Work:
    """One collective in flight. ``test`` is a callable returning True once the transfer has
    completed (it also drives the transport's progress); ``finish`` runs once after that.
    ``what`` names the collective in the timeout message; ``on_timeout`` (if given) runs
    before the timeout error is raised (the backend marks itself broken)."""

    def __init__(self, test, finish, timeout, what, on_timeout=None):
        self._test, self._finish, self._timeout, self._what = test, finish, timeout, what
        self._on_timeout = on_timeout
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
        """Block until done; RuntimeError after ``timeout`` (a timedelta or seconds; the
        group's timeout by default). Polls with a back-off that starts at zero, so a fast
        collective costs no sleep and an oversubscribed machine is not spun on."""
        if self._done:
            return True
        limit = self._timeout if timeout is None else timeout
        limit = limit.total_seconds() if hasattr(limit, "total_seconds") else float(limit)
        deadline = self._started + limit
        pause, polls = 0.0, 0
        while not self._test():
            if time.monotonic() > deadline:
                if self._on_timeout is not None:
                    self._on_timeout()
                raise RuntimeError(
                    f"minigrad.distributed: {self._what} timed out after {limit:.1f} s waiting "
                    "for the other ranks (a rank died, hung, or called a different collective)")
            polls += 1
            if polls > 200:
                pause = min(max(pause * 2, 1e-5), 1e-3)
                time.sleep(pause)
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
