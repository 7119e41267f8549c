"""Grad mode: whether new operations are recorded for backward.

``no_grad`` and ``enable_grad`` work as context managers and as decorators, like PyTorch's.
"""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def set_grad_enabled_flag(flag):
    _state.enabled = bool(flag)


class _GradModeContext:
    _target = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        set_grad_enabled_flag(self._target)
        return self

    def __exit__(self, *exc):
        set_grad_enabled_flag(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Operations inside record no graph: results have ``requires_grad=False``."""
    _target = False


class enable_grad(_GradModeContext):
    """Re-enables recording inside a ``no_grad`` block."""
    _target = True


class set_grad_enabled(_GradModeContext):
    """``with set_grad_enabled(False): ...`` or call it as a function to set the mode."""

    def __init__(self, mode):
        self._target = bool(mode)
        self._previous = is_grad_enabled()
        set_grad_enabled_flag(mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        raise TypeError("set_grad_enabled is not usable as a decorator without arguments")
