"""``minigrad.backends.cudnn``: minigrad's GPU path is CuPy with its own kernels, not cuDNN,
so ``is_available()`` is False. ``enabled``, ``benchmark``, ``deterministic`` and
``allow_tf32`` are plain flags with PyTorch's defaults that programs may set; no minigrad
kernel reads them (minigrad's kernels do not autotune, and run without TF32)."""
__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    """The cuDNN version in use: None (not used)."""
    return None
