"""A comment's text as units to match: Latin words folded (case, accents, plurals) and Chinese
characters grouped into words by jieba (:class:`HanSegmenter`).

:func:`units` is how both a comment and a catalog phrase become a sequence of :class:`Unit`: one
per Latin word (``"Lèvres"`` → ``"levre"``) and one per Han character, each Han character knowing
whether it starts or ends a jieba word. A phrase matches a comment where its units equal a run of
the comment's units that starts and ends on word boundaries, so ``红`` (red) is found in ``红的``
but not in ``网红`` (an influencer) nor ``口红`` (lipstick), while ``飞行员墨镜`` is found whether
jieba keeps it whole or cuts it in two. The catalog's Chinese words are added to the segmenter's
dictionary so they come out as words.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"(?P<han>[{HAN}]+)|(?P<word>[^\W_{HAN}]+)|(?P<stop>[.!?;:…。！？；\n]+)")
_CLAUSE_BREAK = re.compile(rf"[^\w\s'{HAN}-]")
"""Punctuation or an emoji between two tokens starts a new clause (commas and emoji included)."""
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "‘": "'", "`": "'"})
HAN_WORD_FREQ = 50_000
"""Frequency given to the catalog's Chinese words in jieba's dictionary: high enough that they
come out whole (jieba's common words have a few thousand)."""


def normalise(text: str) -> str:
    """NFKC (full-width ``？`` → ``?``, full-width letters → ASCII), case folded, curly quotes
    straightened, ligatures spelled out; accents kept."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_LIGATURES)


def strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def fold_word(word: str) -> str:
    """A Latin word without accents and plural ending: how catalog words and comments compare
    (``"lèvres"`` → ``"levre"``, ``"watches"`` → ``"watch"``, ``"chapeaux"`` → ``"chapeau"``)."""
    bare = strip_accents(word)
    if len(bare) > 3:
        if bare.endswith(("shes", "ches", "xes", "sses")):
            return bare[:-2]
        if bare.endswith(("eaux", "eux")):
            return bare[:-1]
        if (
            bare.endswith("s")
            and not bare.endswith(("ss", "is"))
            and not (bare.endswith("us") and len(bare) < 5)
        ):
            return bare[:-1]
    return bare


@dataclass(frozen=True, slots=True)
class Unit:
    """One Latin word (``key`` folded) or one Han character, with its place in the text."""

    key: str
    text: str
    """The word as written (case folded, accents kept); the character for Han."""
    bare: str
    """``text`` without accents (plurals kept): what grammar words compare with."""
    han: bool
    starts: bool
    """Starts a word (always for Latin words)."""
    ends: bool
    clause: int
    """Which clause of the comment (split at punctuation and emoji)."""
    word: int
    """Index of the word (a Latin word, or the jieba word the character belongs to)."""


class HanSegmenter:
    """jieba with the catalog's Chinese words added, loaded once on first use (about a second),
    under a lock: :meth:`load` is safe to call from any thread, and :meth:`cut` after it only reads.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._words = tuple(sorted(set(words)))
        self._lock = threading.Lock()
        self._tokenizer: Any = None

    @property
    def loaded(self) -> bool:
        return self._tokenizer is not None

    def load(self) -> None:
        """Load jieba's dictionary and add the words (once; later calls return at once)."""
        if self._tokenizer is not None:
            return
        with self._lock:
            if self._tokenizer is not None:
                return
            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in self._words:
                tokenizer.add_word(word, HAN_WORD_FREQ)
            self._tokenizer = tokenizer

    def cut(self, run: str) -> list[str]:
        """A run of Han characters cut into words."""
        if len(run) == 1:
            return [run]
        self.load()
        return [w for w in self._tokenizer.cut(run, HMM=True) if w]


def units(text: str, segmenter: HanSegmenter | None = None) -> list[Unit]:
    """``text`` (raw or already :func:`normalise`\\d) as units; without a segmenter each Han
    character is its own word (fine for catalog phrases, whose edges are all that matter)."""
    text = normalise(text)
    out: list[Unit] = []
    clause = 0
    word = 0
    last_end = 0
    for m in _TOKEN.finditer(text):
        if m.group("stop") is not None:
            clause += 1
            last_end = m.end()
            continue
        if out and _CLAUSE_BREAK.search(text, last_end, m.start()):
            clause += 1
        last_end = m.end()
        run = m.group()
        if m.group("word") is not None:
            out.append(Unit(fold_word(run), run, strip_accents(run), False, True, True, clause, word))
            word += 1
            continue
        pieces = segmenter.cut(run) if segmenter is not None else list(run)
        for piece in pieces:
            for i, ch in enumerate(piece):
                out.append(Unit(ch, ch, ch, True, i == 0, i == len(piece) - 1, clause, word))
            word += 1
    return out


def phrase_key(phrase: str) -> tuple[str, ...]:
    """A catalog phrase as the unit keys a comment must show (``"Rouge à lèvres"`` →
    ``("rouge", "a", "levre")``, ``"口红"`` → ``("口", "红")``)."""
    return tuple(u.key for u in units(phrase))
