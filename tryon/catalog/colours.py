"""Colour words in each locale, and which shades they name.

A viewer asks "does it come in red?", "c'est dispo en rouge ?", "有红色的吗": each colour here
lists its words per locale (:data:`~tryon.catalog.kinds.LOCALES`). The English words are also how
a shade's name says its colour: a variant whose name has one of them as a word ("Classic Red",
"Ruby Red", "Red Tartan") is a shade of that colour (:func:`shade_colours`). Words are written as
viewers write them, singular; comment analysis folds case, accents and plurals.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tryon.catalog.kinds import LOCALES


@dataclass(frozen=True)
class Colour:
    """A colour: its id and its words per locale (English first: the words shade names use)."""

    id: str
    words: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        if set(self.words) != set(LOCALES) or any(not ws for ws in self.words.values()):
            raise ValueError(f"colour {self.id!r}: expected words in each of {', '.join(LOCALES)}")


def _colour(id: str, en: str, fr: str, zh: str) -> Colour:
    return Colour(
        id,
        MappingProxyType(
            {"en": tuple(en.split("|")), "fr": tuple(fr.split("|")), "zh": tuple(zh.split("|"))}
        ),
    )


COLOURS: tuple[Colour, ...] = (
    _colour("red", "red|cherry|ruby|scarlet|crimson", "rouge|rubis|cerise", "红|红色|大红|正红"),
    _colour("pink", "pink|rose|rosé|fuchsia|peony", "rose|fuchsia|rosé", "粉|粉色|粉红|粉红色|玫红|玫红色"),
    _colour("nude", "nude|beige|sand", "nude|beige|sable", "裸色|米色|肉色|奶茶色"),
    _colour("coral", "coral", "corail", "珊瑚色|珊瑚"),
    _colour(
        "orange",
        "orange|peach|apricot|terracotta",
        "orange|pêche|abricot|terracotta",
        "橘色|橙色|蜜桃色|桃色",
    ),
    _colour("purple", "purple|plum|lilac|mauve|violet", "violet|prune|lilas|mauve", "紫|紫色|香芋色"),
    _colour(
        "brown",
        "brown|caramel|cocoa|chestnut|cinnamon|brunette|espresso|havana|camel|tan|taupe",
        "marron|brun|caramel|chocolat|camel|taupe",
        "棕|棕色|咖啡色|焦糖色|驼色",
    ),
    _colour("black", "black|noir|onyx|jet|carbon", "noir|noire", "黑|黑色"),
    _colour("white", "white|ivory|porcelain", "blanc|blanche|ivoire", "白|白色|象牙白"),
    _colour("grey", "grey|gray|charcoal|smoke", "gris|grise|anthracite", "灰|灰色"),
    _colour(
        "blue",
        "blue|navy|sapphire|lapis|azure",
        "bleu|bleue|bleu marine|marine",
        "蓝|蓝色|藏青|藏青色|深蓝|深蓝色",
    ),
    _colour("green", "green|olive|sage|forest", "vert|verte|kaki|olive", "绿|绿色|墨绿|墨绿色"),
    _colour("rose_gold", "rose gold", "or rose", "玫瑰金"),
    _colour("gold", "gold|golden", "doré|dorée|en or|or jaune", "金|金色"),
    _colour("silver", "silver|steel", "argent|argenté|argentée", "银|银色"),
    _colour("yellow", "yellow", "jaune", "黄|黄色"),
    _colour("burgundy", "burgundy|bordeaux|wine|oxblood", "bordeaux|lie de vin", "酒红|酒红色"),
    _colour("champagne", "champagne", "champagne", "香槟色|香槟"),
    _colour("bronze", "bronze", "bronze", "古铜色"),
)
"""Every colour comment analysis recognises."""

COLOURS_BY_ID: Mapping[str, Colour] = MappingProxyType({c.id: c for c in COLOURS})

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case and accents folded (``"Rosé"`` → ``"rose"``): how shade names and colour words compare."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def shade_colours(shade_name: str) -> tuple[str, ...]:
    """The colours a shade's name says it is, in :data:`COLOURS` order: each colour with an English
    word among the name's words, longer words first and each name word counted once
    (``"Rose Gold"`` → ``("rose_gold",)``, not pink; ``"Gold / Brown"`` → ``("brown", "gold")``)."""
    words = _WORD.findall(fold(shade_name))
    taken = [False] * len(words)
    found: set[str] = set()
    for phrase, colour in _EN_PHRASES:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) == phrase and not any(taken[i : i + n]):
                taken[i : i + n] = [True] * n
                found.add(colour)
    return tuple(c.id for c in COLOURS if c.id in found)


_EN_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    sorted(
        ((tuple(_WORD.findall(fold(w))), c.id) for c in COLOURS for w in c.words["en"]),
        key=lambda item: -len(item[0]),
    )
)
