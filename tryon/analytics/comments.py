"""Comments understood: a viewer's comment → its language, the products, kinds and shades it
mentions, and whether it asks the host something.

>>> analyzer = CommentAnalyzer(Catalog.load())
>>> analyzer.analyze("c'est dispo en rouge, le Velvet Matte ?")
CommentAnalysis(language='fr', products=('velvet-matte-lipstick',), kinds=('lipstick',),
                shades=(('velvet-matte-lipstick', 'ruby-red'),), question=True)

Everything the analysis knows about products comes from the catalog (kinds' names and synonyms in
:mod:`tryon.catalog.kinds`, colours in :mod:`tryon.catalog.colours`, each product's ``names`` and
``synonyms``); :mod:`tryon.analytics.lexicon` holds the languages' grammar words. The parts:
:mod:`.text` (units, jieba), :mod:`.mentions`, :mod:`.questions`, :mod:`.language`.

A kind mentioned alone ("the lipstick", "口红") pins no product: ``kinds`` says it and the caller
resolves it (the server: the product now showing). ``products`` are those a name, a brand or a
shade name pins; their kinds are in ``kinds`` too.

Speed: a comment takes a few tens of microseconds once warm. The first use loads jieba's
dictionary (about a second) and the language model (about three): :meth:`CommentAnalyzer.warm_up`
does it up front; both loads are once, under a lock, safe from any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tryon.analytics import language as lang
from tryon.analytics.mentions import PROPER, MentionIndex
from tryon.analytics.questions import is_question
from tryon.analytics.text import HanSegmenter, normalise, units
from tryon.catalog import Catalog

MAX_CHARS = 500
"""Longer comments are cut to this many characters before analysis (the pages send at most 200)."""


@dataclass(frozen=True)
class CommentAnalysis:
    """What one comment says: its language (``None`` when it has no words: emoji, digits), the
    products it pins, the kinds it names, the shades (product, shade id) it names or whose colour
    it names, and whether it is a question for the host."""

    language: str | None
    products: tuple[str, ...]
    kinds: tuple[str, ...]
    shades: tuple[tuple[str, str], ...]
    question: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "products": list(self.products),
            "kinds": list(self.kinds),
            "shades": [{"product": p, "shade": s} for p, s in self.shades],
            "question": self.question,
        }


class CommentAnalyzer:
    """Analyses comments against one catalog; build once, share between threads."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = MentionIndex(catalog)
        self.segmenter = HanSegmenter(self.index.han_words)

    def warm_up(self) -> None:
        """Load jieba's dictionary and the language model now rather than on the first comment."""
        self.segmenter.load()
        lang.warm_up()

    def analyze(self, text: str) -> CommentAnalysis:
        normal = normalise(text[:MAX_CHARS])
        found = units(normal, self.segmenter)
        matches = self.index.scan(found)
        names = [range(m.start, m.end) for m in matches if any(ref.type in PROPER for ref in m.refs)]
        language = lang.detect(found, names)
        mentions = self.index.resolve(matches)
        return CommentAnalysis(
            language=language,
            products=mentions.products,
            kinds=mentions.kinds,
            shades=mentions.shades,
            question=is_question(normal, found, language, names),
        )
