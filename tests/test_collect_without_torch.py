"""torch is the tests' oracle, never a dependency: with torch unimportable every test file
still collects (torch-dependent tests skip at run time), in a subprocess whose PYTHONPATH
puts first a ``torch`` package that raises ImportError."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env_without_torch(tmp_path):
    blocker = tmp_path / "torch"
    blocker.mkdir()
    (blocker / "__init__.py").write_text('raise ImportError("torch is blocked for this test")\n')
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), ROOT, env.get("PYTHONPATH", "")])
    return env


def test_every_test_file_collects_without_torch(tmp_path):
    env = _env_without_torch(tmp_path)
    probe = subprocess.run([sys.executable, "-c", "import torch"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "torch is blocked" in probe.stderr   # the blocker works
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                             "-p", "no:cacheprovider", "tests"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "error" not in summary.lower(), summary
    assert " collected" in summary and int(summary.split("/")[0].split()[0]) > 1000, summary
