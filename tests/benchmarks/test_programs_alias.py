"""The ``torch`` -> minigrad alias that runs real PyTorch programs unchanged
(benchmarks/programs/alias_torch.py). The program runs in a fresh interpreter, as the
runner does, so the alias never touches this test process's modules."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import minigrad
from minigrad_benchmarks.programs import alias_torch

PROGRAM = textwrap.dedent("""
    import json, sys
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset
    import minigrad
    assert torch is minigrad and nn is minigrad.nn and F is minigrad.nn.functional
    torch.manual_seed(0)
    lin = nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1., -2., 3.], [0.5, 0., -1.]]))
        lin.bias.copy_(torch.tensor([0.25, -0.75]))
    x = torch.tensor([[1., 2., 3.], [-1., 0., 2.]])
    loss = F.mse_loss(lin(x), torch.zeros(2, 2))
    loss.backward()
    batches = [b[0].shape[0] for b in DataLoader(TensorDataset(x), batch_size=1)]
    try:
        import torch.no_such_module
        missing = None
    except ModuleNotFoundError as err:
        missing = str(err)
    json.dump({"argv": sys.argv[1:], "loss": loss.item(), "wgrad": lin.weight.grad.tolist(),
               "bgrad": lin.bias.grad.tolist(), "batches": batches, "missing": missing},
              open(sys.argv[1], "w"))
""")


def _run(tmp_path, backend="minigrad"):
    prog, out = tmp_path / "prog.py", tmp_path / "out.json"
    prog.write_text(PROGRAM)
    proc = subprocess.run(
        [sys.executable, "-m", "minigrad_benchmarks.programs.alias_torch",
         "--backend", backend, str(prog), str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_program_runs_through_the_alias_and_matches_minigrad(tmp_path):
    got = _run(tmp_path)
    # the same computation written against minigrad directly
    lin = minigrad.nn.Linear(3, 2)
    with minigrad.no_grad():
        lin.weight.copy_(minigrad.tensor([[1., -2., 3.], [0.5, 0., -1.]]))
        lin.bias.copy_(minigrad.tensor([0.25, -0.75]))
    x = minigrad.tensor([[1., 2., 3.], [-1., 0., 2.]])
    loss = minigrad.nn.functional.mse_loss(lin(x), minigrad.zeros(2, 2))
    loss.backward()
    assert got["argv"] == [str(tmp_path / "out.json")]
    np.testing.assert_allclose(got["loss"], loss.item(), rtol=1e-6)
    np.testing.assert_allclose(got["wgrad"], lin.weight.grad.tolist(), rtol=1e-6)
    np.testing.assert_allclose(got["bgrad"], lin.bias.grad.tolist(), rtol=1e-6)
    # and the numbers themselves (y = xW^T + b; loss = mean(y^2); dL/db = mean over rows)
    y = np.array([[1., 2., 3.], [-1., 0., 2.]]) @ np.array([[1., -2., 3.], [.5, 0., -1.]]).T
    y += [0.25, -0.75]
    np.testing.assert_allclose(got["loss"], np.mean(y ** 2), rtol=1e-6)
    np.testing.assert_allclose(got["bgrad"], (2 * y / y.size).sum(0), rtol=1e-6)
    assert got["batches"] == [1, 1]
    assert "torch.no_such_module" in got["missing"] and "minigrad" in got["missing"]


def test_aliased_context_restores_modules():
    before = {n: m for n, m in sys.modules.items() if n == "torch" or n.startswith("torch.")}
    with alias_torch.aliased():
        import torch
        import torch.nn
        assert torch is minigrad and torch.nn is minigrad.nn
        assert sys.modules["torch.nn"] is minigrad.nn
    after = {n: m for n, m in sys.modules.items() if n == "torch" or n.startswith("torch.")}
    assert after == before
    assert alias_torch._FINDER not in sys.meta_path


def test_target_names():
    assert alias_torch._target("torch") == "minigrad"
    assert alias_torch._target("torch.nn.functional") == "minigrad.nn.functional"
    assert alias_torch._target("torchvision") is None
    assert alias_torch._target("torchaudio.x") is None
