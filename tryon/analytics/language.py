"""Which language a comment is in: ``"zh"`` when its Chinese words outnumber its other words,
else py3langid restricted to the languages the analysis speaks; a text of one to three words (or
one the detector is unsure of) is decided by its common words and accents when they say.

The detector's model takes about three seconds to load: it is loaded once per process, on first
use or by :func:`warm_up`, under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from tryon.analytics import lexicon as lx
from tryon.analytics.text import Unit

LANGUAGES = ("en", "fr", "zh")
"""Languages comments are understood in."""
LATIN_LANGUAGES = ("en", "fr")
SHORT = 3
"""Texts of at most this many words are decided by their common words when those say."""
SURE = 0.9

_lock = threading.Lock()
_identifier: Any = None


def warm_up() -> None:
    """Load the language detector's model (once per process; later calls return at once)."""
    global _identifier
    if _identifier is not None:
        return
    with _lock:
        if _identifier is not None:
            return
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(LATIN_LANGUAGES))
        _identifier = identifier


def _classify(text: str) -> tuple[str, float]:
    warm_up()
    language, probability = _identifier.classify(text)
    return str(language), float(probability)


def _votes(words: Sequence[Unit], raw: str) -> tuple[int, int]:
    en = sum(u.bare in lx.EN_WORDS for u in words)
    fr = sum(u.bare in lx.FR_WORDS for u in words) + len(lx.FR_ACCENTS.findall(raw))
    return en, fr


def detect(units: Sequence[Unit], names: Sequence[range]) -> str | None:
    """The comment's language from its units; ``names``: unit ranges that are catalog names
    (brands, products, shades), which belong to no language and are left out when others remain."""
    in_name = {i for r in names for i in r}
    han_words = len({u.word for u in units if u.han})
    latin = [u for i, u in enumerate(units) if not u.han and not u.key.isdigit()]
    own = [u for i, u in enumerate(units) if not u.han and not u.key.isdigit() and i not in in_name]
    if han_words and han_words >= len(own):
        return "zh"
    words = own or latin
    if not words:
        return None
    raw = " ".join(u.text for u in words)
    if not any(c.isalpha() for c in raw):
        return None
    language, probability = _classify(raw)
    if len(words) <= SHORT or probability < SURE:
        en, fr = _votes(words, raw)
        if en != fr:
            return "en" if en > fr else "fr"
    return language
