"""Is a comment a question for the host? A question mark (``?`` or ``？``), or the question forms
of its language: English wh-words, an auxiliary before its subject ("does it…", "can you…"),
"any…"; French interrogatives anywhere ("c'est combien", "quelle taille"), "est-ce que",
inversions ("peut-on", "y a-t-il"), "ça existe en…"; Chinese particles (吗, 么), interrogatives
(多少, 几, 什么, 哪…), A-not-A (有没有, 粘不粘) and choices (A还是B). A bare request for what a
viewer needs to buy (price, link, size: "price pls", "le lien svp", "求链接") counts too.
Exclamations are not questions: "what a colour!", "how cute", "怎么这么好看", "太好看了".
"""

from __future__ import annotations

from collections.abc import Sequence

from tryon.analytics import lexicon as lx
from tryon.analytics.text import Unit


def is_question(text: str, units: Sequence[Unit], language: str | None, names: Sequence[range] = ()) -> bool:
    """``text``: the comment normalised (:func:`tryon.analytics.text.normalise`); ``units`` its
    units; ``names``: unit ranges that are catalog names (a subject after "is": "is Ruby Red…")."""
    if "?" in text:
        return True
    latin = [u for u in units if not u.han]
    if any(u.han for u in units) and _zh(text):
        return True
    if language == "fr":
        return _fr(text, latin)
    if language == "en" or language is None:
        return _en(latin, units, names)
    return False


def _clauses(units: Sequence[Unit]) -> list[list[Unit]]:
    out: dict[int, list[Unit]] = {}
    for unit in units:
        out.setdefault(unit.clause, []).append(unit)
    return list(out.values())


def _info_request(latin: Sequence[Unit]) -> bool:
    words = [u.bare for u in latin]
    return (
        0 < len(words) <= 4
        and any(w in lx.INFO_NOUNS for w in words)
        and all(w in lx.INFO_NOUNS or w in lx.POLITE for w in words)
    )


def _en(latin: Sequence[Unit], units: Sequence[Unit], names: Sequence[range]) -> bool:
    if _info_request(latin):
        return True
    name_starts = {r.start for r in names}
    for clause in _clauses(latin):
        words = [u.bare for u in clause]
        k = 0
        while k < len(words) - 1 and words[k] in lx.EN_FILLERS:
            k += 1
        first = words[k] if k < len(words) else ""
        second = words[k + 1] if k + 1 < len(words) else ""
        if first in lx.EN_WH:
            if first == "what" and second in ("a", "an"):
                continue
            if first == "how" and second in lx.EN_EXCLAIM_AFTER_HOW:
                continue
            return True
        if first in lx.EN_ANY and second:
            return True
        if first in lx.EN_AUX and second:
            subject_is_name = k + 1 < len(clause) and units.index(clause[k + 1]) in name_starts
            if second in lx.EN_SUBJECTS or subject_is_name:
                return True
        if any(tuple(words[-len(tag) :]) == tag for tag in lx.EN_TAGS if len(words) > len(tag) + 1):
            return True
    return False


def _has(words: Sequence[str], seq: tuple[str, ...]) -> bool:
    n = len(seq)
    return any(tuple(words[i : i + n]) == seq for i in range(len(words) - n + 1))


def _fr(text: str, latin: Sequence[Unit]) -> bool:
    if lx.FR_INVERSION.search(text) or lx.FR_WHERE.search(text) or _info_request(latin):
        return True
    words = [u.bare for u in latin]
    if any(w in lx.FR_WH for w in words) or any(_has(words, seq) for seq in lx.FR_SEQUENCES):
        return True
    for clause in _clauses(latin):
        cw = [u.bare for u in clause]
        for start in lx.FR_CLAUSE_STARTS:
            n = len(start)
            if tuple(cw[:n]) == start and (len(cw) == n or cw[n] not in lx.FR_NOT_ASKING):
                return True
        if any(w in lx.FR_AVAILABILITY for w in cw):
            return True
        if any(tuple(cw[-len(tag) :]) == tag for tag in lx.FR_TAGS if len(cw) > len(tag)):
            return True
    return False


def _zh(text: str) -> bool:
    if lx.ZH_PARTICLES.search(text) or lx.ZH_ASK_FOR.search(text):
        return True
    exclaiming = text.rstrip().endswith("!") or lx.ZH_EXCLAIM.search(text) is not None
    if not exclaiming and (lx.ZH_WH.search(text) or lx.ZH_A_NOT_A.search(text) or lx.ZH_CHOICE.search(text)):
        return True
    for clause in text.replace("，", ",").split(","):
        before, ne, after = clause.strip().partition(lx.ZH_NE)
        if ne and len(before) <= lx.ZH_NE_MAX_BEFORE and not after.strip(" 啊呀哦~"):
            return True
    return False
