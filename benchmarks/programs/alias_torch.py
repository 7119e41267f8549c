"""Run a PyTorch program unchanged with ``torch`` resolving to minigrad.

    python -m minigrad_benchmarks.programs.alias_torch [--backend minigrad|torch] \
        program.py [program args...]

With ``--backend minigrad`` (the default) a ``sys.meta_path`` finder maps every module
name ``torch`` / ``torch.x.y`` to ``minigrad`` / ``minigrad.x.y``: ``import torch``,
``import torch.nn as nn``, ``from torch.utils.data import DataLoader`` all give minigrad's
modules (the very same module objects, so ``torch.nn is minigrad.nn``). A ``torch.x`` that
minigrad lacks raises ``ModuleNotFoundError`` naming both. With ``--backend torch`` nothing is
aliased and the real PyTorch runs the same file, for comparison.

In both modes ``tv_shim/`` goes first on ``sys.path``: its ``torchvision`` replaces only
torchvision's data loading (datasets from ``minigrad.datasets``, a minimal ``transforms``,
``utils.save_image``) and loads torchvision's own ``resnet.py`` for ``models.resnet18``.

The program then runs with ``runpy.run_path(program, run_name="__main__")``, its folder
first on ``sys.path`` and ``sys.argv = [program, *args]``, exactly as ``python program.py``.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
from contextlib import contextmanager

__all__ = ["TorchAliasFinder", "install", "uninstall", "aliased", "run_program", "main"]

SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tv_shim")


def _target(fullname: str) -> str | None:
    """``torch`` -> ``minigrad``, ``torch.a.b`` -> ``minigrad.a.b``; other names -> None."""
    if fullname == "torch":
        return "minigrad"
    if fullname.startswith("torch."):
        return "minigrad" + fullname[len("torch"):]
    return None


class _ExistingModuleLoader(importlib.abc.Loader):
    """Hands back an already imported module (minigrad's) under the ``torch`` name."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass   # minigrad's module has already run its code


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """A meta-path finder that resolves ``torch[.x.y]`` to ``minigrad[.x.y]``."""

    def find_spec(self, fullname, path=None, target=None):
        name = _target(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is not None and (err.name == name or name.startswith(err.name + ".")):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} (minigrad has no {err.name!r})",
                    name=fullname) from None
            raise
        return importlib.machinery.ModuleSpec(fullname, _ExistingModuleLoader(module),
                                              is_package=hasattr(module, "__path__"))


_FINDER = TorchAliasFinder()


def _torch_names():
    return [n for n in sys.modules if n == "torch" or n.startswith("torch.")]


def install() -> None:
    """Make ``torch`` resolve to minigrad from now on in this process."""
    for name in _torch_names():      # a real torch imported earlier must not be found
        del sys.modules[name]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Remove the finder and the ``torch*`` entries it created."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in _torch_names():
        if getattr(sys.modules[name], "__name__", "").startswith("minigrad"):
            del sys.modules[name]


@contextmanager
def aliased():
    """``with aliased(): import torch`` gives minigrad; real ``torch*`` modules that
    were imported before are put back afterwards."""
    saved = {n: sys.modules[n] for n in _torch_names()}
    install()
    try:
        yield
    finally:
        uninstall()
        sys.modules.update(saved)


def run_program(program: str, args: list[str], backend: str = "minigrad",
                module: bool = False) -> None:
    """Run ``program`` as ``__main__`` with ``args``, ``torch`` per ``backend``; with
    ``module=True`` ``program`` is a module name, run like ``python -m program``."""
    if backend not in ("minigrad", "torch"):
        raise ValueError(f"backend must be 'minigrad' or 'torch', got {backend!r}")
    if backend == "minigrad":
        install()
    if SHIM_DIR not in sys.path:
        sys.path.insert(0, SHIM_DIR)
    if module:
        sys.path.insert(0, os.getcwd())
        sys.argv = [program, *args]
        runpy.run_module(program, run_name="__main__", alter_sys=True)
        return
    program = os.path.abspath(program)
    sys.path.insert(0, os.path.dirname(program))
    sys.argv = [program, *args]
    runpy.run_path(program, run_name="__main__")


def main(argv: list[str] | None = None) -> None:
    """``[--backend B] program.py args...`` or ``[--backend B] -m module args...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    backend = "minigrad"
    if argv[:1] == ["--backend"]:
        backend, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--backend="):
        backend, argv = argv[0].split("=", 1)[1], argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    if argv[0] == "-m":
        run_program(argv[1], argv[2:], backend, module=True)
    else:
        run_program(argv[0], argv[1:], backend)


if __name__ == "__main__":
    main()
