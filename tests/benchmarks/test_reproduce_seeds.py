"""benchmarks/reproduce_seeds.py's transformer experiment: the word vocabulary and pair
encoding, and a seconds-long run at a tiny size on a hand-made text (no download) in which
minigrad and the PyTorch twin must follow one trajectory, plus its row in the table."""
import functools
import json

import numpy as np
import pytest

from minigrad.datasets import Shakespeare
from minigrad_benchmarks import reproduce_seeds as rs
from minigrad_benchmarks.reproduction_table import write_table
from minigrad_models.registry import get_spec

try:    # torch is the oracle, not a dependency: without it the run test skips
    import torch  # noqa: F401
except ImportError:
    torch = None


def test_words_split_punctuation_and_keep_inner_apostrophes():
    assert rs.words("O'er the hills, I'll go: 'tis 2 far!") == [
        "o'er", "the", "hills", ",", "i'll", "go", ":", "'", "tis", "2", "far", "!"]


def test_word_vocabulary_is_specials_then_most_frequent():
    pairs = [("a b a", "c a"), ("b d", "a")]
    assert rs.word_vocabulary(pairs, 6) == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b"]
    assert len(rs.word_vocabulary(pairs, 100)) == 4 + 4       # fewer words than asked


def test_word_pair_arrays_layout():
    stoi = {w: i for i, w in enumerate(["<pad>", "<bos>", "<eos>", "<unk>", "to", "be", ","])}
    src, tgt_in, tgt_out = rs.word_pair_arrays([("To be, or not", "to be")], stoi, 4)
    np.testing.assert_array_equal(src, [[4, 5, 6, 3]])              # cut to 4, "or" → unk
    np.testing.assert_array_equal(tgt_in, [[1, 4, 5, 0, 0]])        # bos + line, padded
    np.testing.assert_array_equal(tgt_out, [[4, 5, 2, 0, 0]])       # line + eos, padded


def _play(path):
    rng = np.random.default_rng(0)
    vocab = "to be or not that is the question whether tis nobler in mind suffer".split()
    speeches = []
    for i in range(80):
        lines = [" ".join(rng.choice(vocab, rng.integers(2, 7))).capitalize() + rng.choice([",", ".", "!"])
                 for _ in range(3)]
        speeches.append(f"SPEAKER{i % 3}:\n" + "\n".join(lines))
    (path / "input.txt").write_text("\n\n".join(speeches) + "\n")


@pytest.mark.skipif(torch is None, reason="needs torch (the oracle)")
def test_tiny_transformer_run_matches_torch_and_fills_its_row(tmp_path, monkeypatch):
    _play(tmp_path)
    monkeypatch.setattr(rs, "Shakespeare", functools.partial(Shakespeare, root=tmp_path))
    result = rs.run_seq2seq("transformer", get_spec("transformer"), epochs=2, seed=0, pairs=48,
                            eval_pairs=16, max_len=6, vocab_size=12,
                            size={"d_model": 16, "nhead": 2, "num_layers": 1,
                                  "dim_feedforward": 32})
    setup = result["setup"]
    assert setup["vocab_size"] == 12 and setup["train_pairs"] == 48 and setup["test_pairs"] == 16
    assert setup["model"]["dropout"] == 0.0 and 0 < setup["test_unk_rate"] < 1
    mg_hist, pt_hist = result["history"]["minigrad"], result["history"]["pytorch"]
    assert [r["epoch"] for r in mg_hist] == [1, 2]
    for ours, theirs in zip(mg_hist, pt_hist):
        for key in ("train_loss", "test_loss", "test_accuracy"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-6), key
        assert 0 <= ours["test_accuracy"] <= 1 and ours["seconds"] > 0
    assert mg_hist[1]["train_loss"] < mg_hist[0]["train_loss"]            # it learns
    # chance level at 12 symbols is ln 12 ≈ 2.48; the first step starts near it
    assert setup["first_step_loss"]["minigrad"] == pytest.approx(np.log(12), rel=0.3)

    result.update(experiment="transformer", recipe=get_spec("transformer").recipe, threads="1",
                  wall_seconds=1.0, command="python -m benchmarks.reproduce_seeds transformer")
    results = tmp_path / "results"
    results.mkdir()
    (results / "transformer.json").write_text(json.dumps(result))
    text = write_table(str(results), str(tmp_path / "reproduction.md"))
    row = next(line for line in text.splitlines() if "| transformer |" in line)
    assert f"token acc {mg_hist[-1]['test_accuracy']:.2%}" in row
    assert "48 line pairs of ≤ 6 words, vocab 12" in row
    assert f"{mg_hist[0]['train_loss']:.4f} → " in row
