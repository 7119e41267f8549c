"""Real PyTorch programs run unchanged with ``torch`` resolving to minigrad.

``alias_torch`` makes ``import torch[.x.y]`` load ``minigrad[.x.y]`` and runs a program file;
``run`` fetches the programs (into the git-ignored ``_fetched/``), runs each with minigrad
and with PyTorch, and writes ``benchmarks/results/programs/*.json`` and ``docs/programs.md``.
``tv_shim/torchvision`` stands in for torchvision's data loading only (see its docstring).
"""
