"""The registry, ``run_all``, the command line and docs/textbook.md (generated from the items)."""
import io
import os
import subprocess
import sys

from minigrad.textbook import ITEMS, WorkedItem, run_all, to_markdown
from minigrad.textbook.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_registry_holds_the_six_items():
    assert list(ITEMS) == ["dense_delta_rule", "one_two_one_network", "attention",
                           "convolution", "adam", "softmax_cross_entropy"]
    for key, item in ITEMS.items():
        assert isinstance(item, WorkedItem) and item.key == key
        assert item.printed and item.error and item.derivation and item.example


def test_run_all_prints_every_item():
    out = io.StringIO()
    worst = run_all(derivation=True, file=out)
    text = out.getvalue()
    assert set(worst) == set(ITEMS) and max(worst.values()) < 1e-12
    for item in ITEMS.values():
        assert item.title in text
    lines = text.splitlines()
    for heading in ("printed form:", "what is wrong:", "correct derivation:",
                    "the printed form, evaluated:"):
        assert lines.count(heading) == len(ITEMS)
    assert text.count("max |hand − autograd|") == len(ITEMS)


def test_command_line(capsys):
    assert main(["--item", "attention"]) == 0
    out = capsys.readouterr().out
    assert "Scaled dot-product attention" in out and "dense" not in out


def test_python_dash_m_runs():
    result = subprocess.run([sys.executable, "-m", "minigrad.textbook", "--item", "adam"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "max |hand − autograd| per item: adam" in result.stdout


def test_docs_page_is_generated_from_the_items():
    with open(os.path.join(ROOT, "docs", "textbook.md"), encoding="utf-8") as f:
        page = f.read()
    assert page == to_markdown(), ("docs/textbook.md is stale: regenerate it with "
                                   "`python -m minigrad.textbook --markdown > docs/textbook.md`")


def test_examples_in_the_docs_run():
    for item in ITEMS.values():
        exec(compile(item.example, f"<example {item.key}>", "exec"), {"print": lambda *a: None})
