"""A user's own ``kernels.py``, ``models/`` or ``benchmarks/`` beside their script must not
change what minigrad imports or runs.

The repository's folders ``kernels/``, ``models/`` and ``benchmarks/`` install under the
import names ``minigrad_kernels``, ``minigrad_models`` and ``minigrad_benchmarks`` (see
``setup.py``), so the names a user's project is likely to use are left to the user. Each
case runs in a fresh interpreter whose working directory (first on ``sys.path``) holds
booby-trapped stand-ins that fail loudly if anything imports them.
"""
import subprocess
import sys
import textwrap

import pytest

TRAP = "raise ImportError('the user\\'s own {name} was imported by minigrad')\n"
USER_KERNELS = "def matmul(*args):\n    raise AssertionError('user kernels.matmul called')\n"


@pytest.fixture
def user_folder(tmp_path):
    """A working directory holding a user's kernels.py, models/ and benchmarks/."""
    (tmp_path / "kernels.py").write_text(USER_KERNELS)
    for package in ("models", "benchmarks"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(TRAP.format(name=package))
    return tmp_path


def run_python(folder, *args, timeout=120):
    return subprocess.run([sys.executable, *args], cwd=folder, capture_output=True, text=True,
                          timeout=timeout)


def test_import_and_matmul_ignore_user_modules(user_folder):
    code = textwrap.dedent("""
        import sys
        import minigrad as mg
        x = mg.ones(2, 3, requires_grad=True)
        y = (x @ x.T).sum()
        y.backward()
        assert y.item() == 12.0 and x.grad.sum().item() == 24.0
        own = sys.modules['minigrad_kernels'].__file__
        assert 'kernels' not in sys.modules or sys.modules['kernels'].__file__ != own
        print('ok', own)
    """)
    result = run_python(user_folder, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")


def test_script_beside_user_kernels(user_folder):
    (user_folder / "train.py").write_text(textwrap.dedent("""
        import kernels                    # the user's own module, next to the script
        import minigrad as mg
        a, b = mg.randn(4, 5), mg.randn(5, 3)
        assert (a @ b).shape == (4, 3)
        assert kernels.matmul.__module__ == 'kernels'
        print('ok')
    """))
    result = run_python(user_folder, "train.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_cli_help_runs_beside_user_packages(user_folder):
    result = run_python(user_folder, "-m", "minigrad", "--help")
    assert result.returncode == 0, result.stderr
    assert "train MODEL" in result.stdout


@pytest.mark.network
def test_cli_trains_beside_user_packages(user_folder):
    result = run_python(user_folder, "-m", "minigrad", "train", "mlp", "--epochs", "1",
                        "--subset", "256", "--out", str(user_folder / "run"), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "test accuracy:" in result.stdout
