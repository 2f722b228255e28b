"""What a comment mentions: products, brands, kinds, shades and colours, in any of the catalog's
languages, from words the catalog gives (:mod:`tryon.catalog.kinds`, :mod:`tryon.catalog.colours`,
``names`` and ``synonyms`` in ``product.json``).

:class:`MentionIndex` holds every catalog phrase as units (:func:`tryon.analytics.text.phrase_key`)
with what it refers to; :meth:`MentionIndex.scan` finds them in a comment, longest first, left to
right; :meth:`MentionIndex.resolve` turns them into products, kinds and shades:

* a product's name (English, its ``names``, its ``synonyms``, or a run of words of its name that
  no other product has and that says more than a kind, colour or finish: "velvet matte") pins it;
* a brand, a phrase several products share, or a shade name pins a product when, with the kinds
  the comment names, they leave exactly one ("Verrine's lipstick", "Gold Leaf", "玫瑰金的手链");
* a kind alone ("the lipstick") or a colour ("in red?") pins nothing: the kind is reported, and
  the shades of that colour among the products in question.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tryon.analytics.lexicon import AMBIGUOUS, DETERMINERS, NAME_FILLERS
from tryon.analytics.text import HAN, Unit, phrase_key
from tryon.catalog import Catalog
from tryon.catalog.colours import COLOURS, shade_colours
from tryon.catalog.kinds import REGISTRY, kind_words

PRODUCT, BRAND, KIND, SHADE, COLOUR = "product", "brand", "kind", "shade", "colour"
PROPER = frozenset({PRODUCT, BRAND, SHADE})
"""References that are names (not words of a language): language detection leaves them out."""

Key = tuple[str, ...]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ref:
    """What a phrase refers to: a product, a product's brand, a kind, a shade or a colour."""

    type: str
    id: str
    shade: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    refs: frozenset[Ref]


@dataclass(frozen=True, slots=True)
class Mentions:
    products: tuple[str, ...]
    kinds: tuple[str, ...]
    shades: tuple[tuple[str, str], ...]


def _ngrams(key: Key) -> Iterable[Key]:
    for n in range(2, len(key)):
        for i in range(len(key) - n + 1):
            yield key[i : i + n]


class MentionIndex:
    """Every phrase of one catalog, and how to find them in a comment."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.terms: dict[Key, set[Ref]] = defaultdict(set)
        self.han_words: set[str] = set()
        for kind, words in kind_words().items():
            for locale_words in words.values():
                for word in locale_words:
                    self._add(word, Ref(KIND, kind))
        colour_terms: dict[str, list[Key]] = defaultdict(list)
        for colour in COLOURS:
            for locale_words in colour.words.values():
                for word in locale_words:
                    colour_terms[colour.id].append(self._add(word, Ref(COLOUR, colour.id)))
        for product in catalog:
            own = Ref(PRODUCT, product.id)
            for name in (product.name, *product.names.values(), *product.synonyms):
                self._add(name, own)
            self._add(product.brand, Ref(BRAND, product.id))
            for variant in product.variants:
                self._add(variant.name, Ref(SHADE, product.id, variant.id))
        self._add_name_parts(catalog)
        # A colour whose name is a whole shade's name names that shade in every language
        # ("玫瑰金" the shades called "Rose Gold"); its other words do not ("rose" is not "Rosé").
        for colour in COLOURS:
            canonical = phrase_key(colour.words["en"][0])
            shades = {r for r in self.terms.get(canonical, set()) if r.type == SHADE}
            for key in colour_terms[colour.id]:
                self.terms[key] |= shades
        self.by_first: dict[str, list[Key]] = defaultdict(list)
        for key in sorted(self.terms, key=len, reverse=True):
            self.by_first[key[0]].append(key)
        self._generic = self._generic_words()
        self.kinds_of = {p.id: p.kind for p in catalog}

    def _add(self, phrase: str, ref: Ref) -> Key:
        key = phrase_key(phrase)
        if key:
            self.terms[key].add(ref)
            self.han_words.update(run for run in _han_runs(phrase))
        return key

    @staticmethod
    def _generic_words() -> frozenset[str]:
        words = set(NAME_FILLERS)
        for locale_words in (w for ws in kind_words().values() for w in ws.values()):
            for word in locale_words:
                words.update(phrase_key(word))
        for colour in COLOURS:
            for word in (w for ws in colour.words.values() for w in ws):
                words.update(phrase_key(word))
        for spec in REGISTRY.values():
            words.update(spec.finishes)
        return frozenset(words)

    def _add_name_parts(self, catalog: Catalog) -> None:
        """Runs of two words or more of a product's English or French name that no other
        product's name has, and with a word of its own (not only kind, colour, finish words)."""
        generic = self._generic_words()
        owners: dict[Key, set[str]] = defaultdict(set)
        for product in catalog:
            for name in (product.name, product.names.get("fr", "")):
                if name and not any(run for run in _han_runs(name)):
                    for gram in _ngrams(phrase_key(name)):
                        owners[gram].add(product.id)
        for gram, ids in owners.items():
            if gram[0] in NAME_FILLERS or gram[-1] in NAME_FILLERS:
                continue
            if len(ids) == 1 and any(word not in generic for word in gram):
                self.terms[gram].add(Ref(PRODUCT, next(iter(ids))))

    def scan(self, units: Sequence[Unit]) -> list[Match]:
        """The catalog phrases in a comment's units, not overlapping: the longest phrase starting
        at each word, then the longest of those first (on a tie the later one: "en or rose" is
        rose gold, not gold then pink), in text order."""
        candidates: list[Match] = []
        n = len(units)
        for i, unit in enumerate(units):
            if not unit.starts:
                continue
            for key in self.by_first.get(unit.key, ()):
                m = len(key)
                if i + m > n or not units[i + m - 1].ends:
                    continue
                if any(units[i + k].key != key[k] for k in range(1, m)):
                    continue
                if m == 1 and unit.key in AMBIGUOUS and not self._as_noun(units, i, candidates):
                    continue
                candidates.append(Match(i, i + m, frozenset(self.terms[key])))
                break
        taken = [False] * n
        out: list[Match] = []
        for match in sorted(candidates, key=lambda c: (c.start - c.end, -c.start)):
            if not any(taken[match.start : match.end]):
                taken[match.start : match.end] = [True] * (match.end - match.start)
                out.append(match)
        return sorted(out, key=lambda c: c.start)

    @staticmethod
    def _as_noun(units: Sequence[Unit], i: int, before: list[Match]) -> bool:
        """An ambiguous word ("watch", "montre", "top") names a kind after a determiner or a number,
        or right after another catalog phrase ("the watch", "la montre", "3 polishes", "gold watch")."""
        if i == 0:
            return False
        if any(m.end == i for m in before):
            return True
        before_word = units[i - 1]
        determined = before_word.bare in DETERMINERS or before_word.key.isdigit()
        return determined and before_word.clause == units[i].clause

    def resolve(self, matches: Sequence[Match]) -> Mentions:
        pinned: list[str] = []
        kinds: list[str] = []
        narrowing: list[set[str]] = []
        shade_sets: list[set[tuple[str, str]]] = []
        colours: list[str] = []
        for match in matches:
            by_type: dict[str, list[Ref]] = defaultdict(list)
            for ref in match.refs:
                by_type[ref.type].append(ref)
            named = {r.id for r in by_type[PRODUCT]}
            if len(named) == 1:
                _push(pinned, next(iter(named)))
            elif named:
                narrowing.append(named)
            if by_type[BRAND]:
                narrowing.append({r.id for r in by_type[BRAND]})
            for ref in sorted(by_type[KIND], key=lambda r: r.id):
                _push(kinds, ref.id)
            if by_type[SHADE]:
                shade_sets.append({(r.id, r.shade) for r in by_type[SHADE]})
            for ref in sorted(by_type[COLOUR], key=lambda r: r.id):
                _push(colours, ref.id)
        context = {pid for pid, kind in self.kinds_of.items() if not kinds or kind in kinds}
        candidates = set(context)
        for ids in narrowing:
            candidates &= ids
        if narrowing and len(candidates) == 1:
            _push(pinned, next(iter(candidates)))
        for pairs in shade_sets:
            owners = {pid for pid, _ in pairs}
            if owners & set(pinned):
                continue
            narrowed = owners & candidates
            if len(narrowed) == 1:
                _push(pinned, next(iter(narrowed)))
        scope = set(pinned) if pinned else candidates
        shades: list[tuple[str, str]] = []
        for pairs in shade_sets:
            for pair in sorted(pairs):
                if pair[0] in scope:
                    _push(shades, pair)
        for colour in colours:
            for pid in sorted(scope):
                for variant in self.catalog.get(pid).variants:
                    if colour in shade_colours(variant.name):
                        _push(shades, (pid, variant.id))
        for pid in pinned:
            _push(kinds, self.kinds_of[pid])
        return Mentions(tuple(pinned), tuple(kinds), tuple(shades))


def _push(items: list[T], item: T) -> None:
    if item not in items:
        items.append(item)


_HAN_RUN = re.compile(f"[{HAN}]+")


def _han_runs(text: str) -> list[str]:
    return _HAN_RUN.findall(text)
