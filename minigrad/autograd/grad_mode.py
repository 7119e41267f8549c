"""Grad mode: whether new operations are recorded for backward.

``no_grad``, ``enable_grad`` and ``inference_mode`` work as context managers and as
decorators, like PyTorch's.
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


def is_inference_mode_enabled():
    return getattr(_state, "inference", False)


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode(mode=True)``: no graph is recorded inside (minigrad has no
    separate inference tensors, so it is ``no_grad`` plus the flag
    ``is_inference_mode_enabled`` reports); ``inference_mode(False)`` records again. Usable
    as ``@inference_mode``, ``@inference_mode()`` and ``with inference_mode():``."""

    def __new__(cls, mode=True):
        if callable(mode):                   # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = (is_grad_enabled(), is_inference_mode_enabled())
        # As c10::InferenceMode(mode): grad mode becomes ``not mode`` (so inference_mode(False)
        # re-enables recording even inside no_grad), the flag becomes ``mode``.
        set_grad_enabled_flag(not self.mode)
        _state.inference = self.mode
        return self

    def __exit__(self, *exc):
        set_grad_enabled_flag(self._previous[0])
        _state.inference = self._previous[1]
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper

