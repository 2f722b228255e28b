"""Comments understood (:mod:`tryon.analytics.comments`): measured on labelled comments, and the
tricky cases one by one.

The measure: ``tests/data/comments.jsonl`` (191 comments in English, French and Chinese, written
before the analyzer; the products' ``synonyms`` were written after it and some with it in view,
so its numbers are optimistic) and ``tests/data/comments_holdout.jsonl`` (66, written after the
analyzer's first draft). The holdout's first run scored every precision 1.0; mention recall en
0.964, fr 0.880, zh 1.0; question recall en 1.0, fr 0.667, zh 1.0; languages all right. Four
general fixes followed (overlapping phrases: "en or rose" is rose gold; French availability and
intonation questions without "?"; a number before an ambiguous noun, "3 polishes"; -ches/-shes
plurals): since then it is no longer blind. Each line is ``{"text", "language",
"products", "kinds", "question"}``: the products a name, brand or shade name pins, the kinds the
comment names (with the pinned products' kinds), and whether it asks the host something
(interrogative form, question mark, or a bare request for price, link or size; requests to do
something, "try the red one", are not questions). Precision and recall of the (product, kind)
mentions and of questions, and language accuracy, per language, are printed and kept >= 0.9.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tryon.analytics.comments import CommentAnalysis, CommentAnalyzer
from tryon.catalog import Catalog
from tryon.cli.main import main

DATA = Path(__file__).resolve().parent / "data"
SETS = ("comments.jsonl", "comments_holdout.jsonl")
LANGUAGES = ("en", "fr", "zh")
FLOOR = 0.9


@pytest.fixture(scope="module")
def analyzer() -> CommentAnalyzer:
    return CommentAnalyzer(Catalog.load())


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line]


def report(capsys: pytest.CaptureFixture[str], lines: list[str]) -> None:
    """Shown even when pytest captures output."""
    with capsys.disabled():
        sys.stdout.write("\n".join(lines) + "\n")


@dataclass
class Score:
    n: int = 0
    language_right: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("tp", "fp", "fn", "qtp", "qfp", "qfn"), 0)
    )

    def add(self, row: dict[str, Any], got: CommentAnalysis) -> None:
        self.n += 1
        self.language_right += got.language == row["language"]
        gold = {("product", p) for p in row["products"]} | {("kind", k) for k in row["kinds"]}
        found = {("product", p) for p in got.products} | {("kind", k) for k in got.kinds}
        c = self.counts
        c["tp"] += len(gold & found)
        c["fp"] += len(found - gold)
        c["fn"] += len(gold - found)
        c["qtp"] += row["question"] and got.question
        c["qfp"] += not row["question"] and got.question
        c["qfn"] += row["question"] and not got.question

    def numbers(self) -> dict[str, float]:
        c = self.counts

        def ratio(a: int, b: int) -> float:
            return a / b if b else 1.0

        return {
            "mention precision": ratio(c["tp"], c["tp"] + c["fp"]),
            "mention recall": ratio(c["tp"], c["tp"] + c["fn"]),
            "question precision": ratio(c["qtp"], c["qtp"] + c["qfp"]),
            "question recall": ratio(c["qtp"], c["qtp"] + c["qfn"]),
            "language accuracy": ratio(self.language_right, self.n),
        }


@pytest.mark.parametrize("name", SETS)
def test_precision_recall_and_language_accuracy_per_language(
    analyzer: CommentAnalyzer, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = {lang: Score() for lang in (*LANGUAGES, None)}
    misses = []
    for row in rows(name):
        got = analyzer.analyze(row["text"])
        scores[row["language"]].add(row, got)
        wanted = (row["language"], set(row["products"]), set(row["kinds"]), row["question"])
        if (got.language, set(got.products), set(got.kinds), got.question) != wanted:
            misses.append(f"  {row['text']!r}: got {got}")
    lines = [f"\n{name}:"]
    for lang in LANGUAGES:
        numbers = scores[lang].numbers()
        lines.append(
            f"  {lang} ({scores[lang].n:3d}): " + ", ".join(f"{k} {v:.3f}" for k, v in numbers.items())
        )
    report(capsys, [*lines, "  misses:", *misses])
    assert all(scores[lang].n >= (50 if name == SETS[0] else 20) for lang in LANGUAGES)
    for lang in LANGUAGES:
        for what, value in scores[lang].numbers().items():
            assert value >= FLOOR, f"{name}: {lang} {what} {value:.3f} < {FLOOR}"
    assert scores[None].language_right == scores[None].n  # no words: no language


def test_fast_after_warm_up(analyzer: CommentAnalyzer, capsys: pytest.CaptureFixture[str]) -> None:
    analyzer.warm_up()
    texts = [row["text"] for row in rows(SETS[0])]
    times = []
    for text in texts:
        start = time.perf_counter()
        analyzer.analyze(text)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    report(capsys, [f"\ncomment analysis: median {median * 1e6:.0f} us, max {max(times) * 1e6:.0f} us"])
    assert median < 1e-3


def test_loads_lazily_once_and_is_safe_from_many_threads() -> None:
    fresh = CommentAnalyzer(Catalog.load())
    assert not fresh.segmenter.loaded
    texts = [row["text"] for row in rows(SETS[0])][::4]
    results: dict[int, list[CommentAnalysis]] = {}
    barrier = threading.Barrier(6)

    def work(n: int) -> None:
        barrier.wait()
        results[n] = [fresh.analyze(t) for t in texts]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fresh.segmenter.loaded
    assert all(results[n] == results[0] for n in results)
    assert results[0] == [fresh.analyze(t) for t in texts]


def a(analyzer: CommentAnalyzer, text: str) -> CommentAnalysis:
    return analyzer.analyze(text)


@pytest.mark.parametrize(
    ("text", "kinds", "products"),
    [
        ("watch out for fake sellers", (), ()),  # a verb
        ("is the watch strap leather", ("watch",), ()),
        ("montre-nous la couleur stp", (), ()),  # "show us"
        ("la montre est trop belle", ("watch",), ()),
        ("c'est top !!", (), ()),  # "great"
        ("the top is so cute", ("top",), ()),
        ("just bought 3 polishes", ("nails",), ()),
        ("ROUGE A LEVRES", ("lipstick",), ()),  # case and accents folded
        ("les boucles d’oreilles", ("earrings",), ()),  # curly apostrophe, plural
        ("the lipstick", ("lipstick",), ()),  # a kind pins no product
        ("Verrine's lipstick", ("lipstick",), ("starlight-metallic-lipstick",)),  # brand + kind: one
        ("I love Maison Lumière", (), ()),  # a brand of four products pins none
        ("Pink Peony 试一下", ("lipstick",), ("cream-luxe-lipstick",)),  # a shade only one product has
        ("eyeshadow in Gold Leaf?", ("eyeshadow",), ("midnight-shimmer-eyeshadow",)),
        ("that rose gold though", (), ()),  # a shade many products have
        ("i felt the same lol", (), ()),  # a word of a name ("Bowery Felt Fedora") alone pins nothing
        ("the felt fedora", ("hat",), ("bowery-felt-fedora",)),
        ("飞行员墨镜多少钱", ("sunglasses",), ("riviera-aviator-sunglasses",)),
        ("网红款口红", ("lipstick",), ()),
    ],
)
def test_mentions(
    analyzer: CommentAnalyzer, text: str, kinds: tuple[str, ...], products: tuple[str, ...]
) -> None:
    got = a(analyzer, text)
    assert (got.kinds, got.products) == (kinds, products)


def test_colours_name_the_shades_of_the_products_in_question(analyzer: CommentAnalyzer) -> None:
    red = a(analyzer, "does the lipstick come in red?")
    assert red.products == ()
    assert red.kinds == ("lipstick",)
    assert set(red.shades) == {
        ("cream-luxe-lipstick", "classic-red"),
        ("satin-kiss-lipstick", "cherry-satin"),  # cherry is a red
        ("velvet-matte-lipstick", "ruby-red"),
    }
    assert a(analyzer, "le rouge à lèvres").shades == ()  # "rouge" here is no colour
    assert ("velvet-matte-lipstick", "ruby-red") in a(analyzer, "le rouge est sublime").shades
    assert a(analyzer, "网红款").shades == ()  # 红 inside a word is no colour
    assert ("holiday-fair-isle-pyjama-top-adult", "red") in a(analyzer, "有红的吗").shades
    # "en or rose": rose gold, not gold then pink; among bracelets only one has it.
    bangle = a(analyzer, "le jonc existe en or rose")
    assert bangle.products == ("halo-polished-bangle",)
    assert bangle.shades == (("halo-polished-bangle", "rose-gold"),)
    beanie = a(analyzer, "love the beanie in cherry")
    assert beanie.products == ("north-rib-beanie",)
    assert beanie.shades == (("north-rib-beanie", "cherry"),)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("does it come in red", True),
        ("Do you ship to Canada", True),
        ("is Ruby Red long lasting", True),  # aux + a shade's name as subject
        ("price pls", True),
        ("hi! what shade is that", True),
        ("I love it!", False),
        ("how cute!!", False),
        ("what a colour", False),
        ("try the black one", False),
        ("c'est dispo en 38 ?", True),
        ("c'est combien", True),
        ("Y a-t-il une promo", True),
        ("Peut-on essayer", True),
        ("Est-ce que le gloss colle", True),
        ("où est le lien", True),
        ("le lien svp", True),
        ("j'adore", False),
        ("vous avez trop de goût", False),
        ("montre-nous la couleur", False),
        ("有大码吗？", True),
        ("有大码吗", True),
        ("多少钱", True),
        ("唇彩粘不粘", True),
        ("红色好看还是粉色好看", True),
        ("求链接", True),
        ("太好看了", False),
        ("怎么这么好看", False),
        ("这是什么神仙颜色啊！", False),
        ("太贵了吧", False),
        ("？", True),
    ],
)
def test_questions(analyzer: CommentAnalyzer, text: str, question: bool) -> None:
    assert a(analyzer, text).question is question


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ptdr", "fr"),
        ("merci 🙏", "fr"),
        ("HOW MUCH", "en"),
        ("❤️❤️❤️", None),
        ("666", None),
        ("那个 lipstick 多少钱", "zh"),  # mixed: the majority
        ("I love 口红 so much", "en"),
        ("Velvet Matte 的 Ruby Red 好美", "zh"),  # names belong to no language
        ("je prends le vernis Fire Engine", "fr"),
    ],
)
def test_language(analyzer: CommentAnalyzer, text: str, language: str | None) -> None:
    assert a(analyzer, text).language == language


def test_cli_prints_one_comments_analysis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analytics", "comment", "c'est dispo en rouge, le Velvet Matte ?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "language": "fr",
        "products": ["velvet-matte-lipstick"],
        "kinds": ["lipstick"],
        "shades": [{"product": "velvet-matte-lipstick", "shade": "ruby-red"}],
        "question": True,
    }
    root = Path(__file__).resolve().parents[1] / "assets"
    assert main(["analytics", "--assets", str(root), "comment", "有大码吗？"]) == 0
    assert json.loads(capsys.readouterr().out)["question"] is True
    assert main(["analytics", "comment", "太好看了", "--assets", str(root)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "language": "zh",
        "products": [],
        "kinds": [],
        "shades": [],
        "question": False,
    }
