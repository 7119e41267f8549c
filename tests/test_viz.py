"""minigrad.viz: DOT text of the graph behind a tensor, and rendering through Graphviz."""
import os
import re
import shutil
import stat
import time

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import viz


def _mlp_loss():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = F.cross_entropy(model(mg.randn(5, 4)), mg.tensor([0, 1, 0, 1, 1]))
    return model, loss


def _labels(dot):
    return [m.replace("\\n", "\n") for m in re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)]


def test_mlp_loss_graph_labels_and_shapes():
    model, loss = _mlp_loss()
    dot = viz.to_dot(loss, params=dict(model.named_parameters()))
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    labels = _labels(dot)
    for op in ("Linear", "Relu", "CrossEntropy"):
        assert op in labels
    assert labels.count("Linear") == 2         # each nn.Linear is one fused node
    # parameters: named, with shape, dtype and flags
    assert "0.weight\n(3, 4) float32\nleaf, requires_grad=True" in labels
    assert "2.bias\n(2,) float32\nleaf, requires_grad=True" in labels
    # intermediates from output_meta, and the loss itself
    assert "(5, 3) float32\nnon-leaf, requires_grad=True" in labels
    assert "output\n() float32\nnon-leaf, requires_grad=True" in labels
    # the input batch needs no gradient: not part of the backward graph
    assert not any(label.startswith("(5, 4)") for label in labels)


def test_edges_follow_next_edges():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    w = mg.tensor(np.ones((3, 4)), requires_grad=True)
    y = (x @ w).sum()
    dot = viz.to_dot(y)
    ids = dict((label, node) for node, label in
               re.findall(r'(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot))
    matmul = ids["MatMul"]
    x_node = ids["(2, 3) float64\\nleaf, requires_grad=True"]
    w_node = ids["(3, 4) float64\\nleaf, requires_grad=True"]
    assert f'{x_node} -> {matmul} [label="0"];' in dot
    assert f'{w_node} -> {matmul} [label="1"];' in dot
    out = ids["(2, 4) float64\\nnon-leaf, requires_grad=True"]
    assert f"{matmul} -> {out};" in dot


def test_shared_subexpression_drawn_once():
    x = mg.randn(3, requires_grad=True)
    h = x.exp()
    dot = viz.to_dot((h * h + h).sum())
    assert _labels(dot).count("Exp") == 1
    assert _labels(dot).count("(3,) float32\nleaf, requires_grad=True") == 1


def test_leaf_and_no_grad_tensors():
    x = mg.randn(2, requires_grad=True)
    assert "output\n(2,) float32\nleaf, requires_grad=True" in _labels(viz.to_dot(x))
    c = mg.randn(2)
    assert "output\n(2,) float32\nleaf, requires_grad=False" in _labels(viz.to_dot(c))


def test_show_saved_and_freed():
    x = mg.randn(4, requires_grad=True)
    y = mg.sigmoid(x * mg.randn(4)).sum()
    dot = viz.to_dot(y, show_saved=True)
    assert 'label="saved"' in dot
    assert any(label.startswith("saved\n(4,) float32") for label in _labels(dot))
    assert 'label="saved"' not in viz.to_dot(y)
    y.backward()
    assert any("(saved freed)" in label for label in _labels(viz.to_dot(y, show_saved=True)))


def test_multi_output_node_has_every_slot():
    x = mg.randn(3, 4, requires_grad=True)
    values, indices = x.max(dim=1)
    dot = viz.to_dot(values.sum())
    labels = _labels(dot)
    assert "(3,) int64\nnon-leaf, requires_grad=False" in labels


def test_ten_thousand_op_chain_is_fast_and_not_recursive():
    x = mg.randn(3, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    start = time.perf_counter()
    dot = viz.to_dot(y, show_saved=True)
    assert time.perf_counter() - start < 5.0
    assert _labels(dot).count("Mul") == 10_000
    assert dot.count(" -> ") >= 20_000


def test_quotes_in_names_are_escaped():
    x = mg.randn(2, requires_grad=True)
    dot = viz.to_dot((x * 2).sum(), params={'a "quoted" \\ name': x})
    assert 'a \\"quoted\\" \\\\ name' in dot


def test_render_without_dot_raises_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, loss = _mlp_loss()
    with pytest.raises(RuntimeError, match=r"Graphviz 'dot' executable.*apt-get install graphviz"):
        viz.render(loss, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


def test_render_rejects_unknown_format(tmp_path):
    _, loss = _mlp_loss()
    with pytest.raises(ValueError, match="svg' or 'png"):
        viz.render(loss, tmp_path / "g.pdf", format="pdf")


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in for dot")
def test_render_pipes_dot_text_to_dot(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\n# args: -Tformat -o path; copy stdin there with the format\n'
                    'echo "$1" > "$3"; cat >> "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake) if name == "dot" else None)
    _, loss = _mlp_loss()
    out = viz.render(loss, tmp_path / "g.png")
    text = (tmp_path / "g.png").read_text()
    assert out == tmp_path / "g.png"
    assert text.startswith("-Tpng\ndigraph minigrad {") and "CrossEntropy" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_real_graphviz(tmp_path):
    _, loss = _mlp_loss()
    svg = viz.render(loss, tmp_path / "g.svg", show_saved=True)
    assert "<svg" in (tmp_path / "g.svg").read_text()
    viz.render(loss, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg == tmp_path / "g.svg"
