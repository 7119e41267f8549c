"""``minigrad.use_deterministic_algorithms`` and its two queries (PyTorch's names).

minigrad has no pairs of fast-nondeterministic and slow-deterministic kernels to choose
between (its CPU kernels give the same bits for the same inputs), so the mode changes no
kernel; it is recorded so programs that set and query it run unchanged.
"""
__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled"]

_mode = False
_warn_only = False


def use_deterministic_algorithms(mode, *, warn_only=False):
    global _mode, _warn_only
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not "
                        f"{type(mode).__name__}")
    _mode, _warn_only = mode, bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _mode


def is_deterministic_algorithms_warn_only_enabled():
    return _warn_only
