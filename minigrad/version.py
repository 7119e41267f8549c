"""``torch.version``: minigrad's version, and ``cuda`` (None: minigrad is not built against a
CUDA toolkit; its GPU path is CuPy's)."""
__version__ = "0.1.0"
cuda = None
debug = False
