"""Engagement analytics without a database: the event schema's refusals, the live board computed
from a scripted show, "also tried" and "popular now", and promotion rules (validated at load,
fired once, never spammy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tryon.analytics.board import Board
from tryon.analytics.events import Event, EventRejectedError, parse_event
from tryon.analytics.promotions import QUIET_S, PromotionEngine, PromotionError, load_rules, parse_rule
from tryon.analytics.recommend import Recommender

T0 = 1_780_000_000.0
LIP, GLASSES, HOOPS = "velvet-matte-lipstick", "atlas-wayfarer-optical", "aurora-hoop-earrings"
KINDS = {LIP: "lipstick", GLASSES: "glasses", HOOPS: "earrings"}


def known(product: str, shade: str | None) -> bool:
    return product in KINDS and shade in (None, "ruby-red", "plum-noir")


def ev(kind: str, at: float, session: str = "s1", product: str | None = None, **kw: object) -> Event:
    return Event("show1", session, kind, T0 + at, product, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"type": "teleport", "product": LIP}, "type"),
        ({"type": "showing", "product": LIP}, "type"),  # the host's, not a page's
        ({"type": "try_start"}, "malformed"),
        ({"type": "try_start", "product": "no-such-product"}, "product"),
        ({"type": "try_start", "product": LIP, "shade": "nope"}, "product"),
        ({"type": "try_start", "product": "../etc"}, "malformed"),
        ({"type": "try_stop", "product": LIP}, "malformed"),
        ({"type": "try_stop", "product": LIP, "dwell_s": -1}, "clock"),
        ({"type": "try_stop", "product": LIP, "dwell_s": float("nan")}, "malformed"),
        ({"type": "try_stop", "product": LIP, "dwell_s": 10**9}, "clock"),
        ({"type": "like", "dwell_s": 3}, "malformed"),
        ({"type": "like", "client_at": T0 - 3 * 86400}, "clock"),
        ({"type": "comment", "text": "x" * 201}, "oversize"),
        ({"type": "comment", "text": "  "}, "malformed"),
        ({"type": "like", "text": "hi"}, "malformed"),
        ({"type": "like", "language": "de"}, "malformed"),
        ({"type": "like", "session": "someone-else"}, "malformed"),
        ([1, 2], "malformed"),
    ],
)
def test_events_are_refused_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(EventRejectedError) as info:
        parse_event(raw, show="show1", session="s1", now=T0, known_product=known)
    assert info.value.reason == reason
    assert str(info.value)


def test_an_event_is_stamped_by_the_server() -> None:
    event = parse_event(
        {
            "type": "try_stop",
            "product": LIP,
            "shade": "ruby-red",
            "dwell_s": 12,
            "language": "fr",
            "client_at": T0 - 5,
        },
        show="show1",
        session="s9",
        now=T0,
        known_product=known,
    )
    assert event == Event("show1", "s9", "try_stop", T0, LIP, "ruby-red", 12.0, "fr", None)
    assert "text" not in event.to_json()


def test_the_board_from_a_scripted_show() -> None:
    board = Board(T0)
    script = [
        ev("showing", 0, "host", LIP),
        # Three viewers try the lipstick; two keep it 10 and 30 s, one 20 s; one buys.
        ev("try_start", 60, "a", LIP),
        ev("try_start", 65, "b", LIP),
        ev("try_start", 70, "c", LIP),
        ev("try_stop", 70, "a", LIP, dwell_s=10.0),
        ev("try_stop", 95, "b", LIP, dwell_s=30.0),
        ev("try_stop", 90, "c", LIP, dwell_s=20.0),
        ev("buy_click", 100, "b", LIP),
        ev("like", 101, "a"),
        ev("like", 102, "c"),
        ev("showing", 400, "host", GLASSES),
        ev("like", 401, "a"),
        ev("try_start", 500, "a", GLASSES),
        ev("share", 510, "a", GLASSES),
    ]
    for event in script:
        board.add(event)
    board.add(
        ev("comment", 520, "c", text="do the glasses come in black?"),
        mentions=[GLASSES],
        question=True,
        author="viewer-c",
    )
    board.add(ev("comment", 530, "b", text="how much?"), mentions=[], question=True)
    board.add(ev("comment", 540, "a", text="love the lipstick"), mentions=[LIP], question=False)
    snap = board.snapshot(T0 + 600, viewers=3, peak=4)
    rows = {r["product"]: r for r in snap["products"]}
    lip, glasses = rows[LIP], rows[GLASSES]
    assert (lip["tries"], lip["buys"], lip["conversion"], lip["median_dwell_s"]) == (3, 1, 0.333, 20.0)
    assert lip["likes_showing"] == 2
    assert glasses["likes_showing"] == 1
    assert (glasses["tries"], glasses["shares"], glasses["conversion"]) == (1, 1, 0.0)
    assert lip["mentions"] == 1
    assert glasses["mentions"] == 1
    assert snap["top"] == [LIP, GLASSES]
    assert (snap["viewers"], snap["peak"], snap["likes"], snap["comments"], snap["showing"]) == (
        3,
        4,
        3,
        3,
        GLASSES,
    )
    # Questions wait with the product they are about (the one showing when none is named).
    assert [(q["text"], q["products"]) for q in snap["questions"]] == [
        ("do the glasses come in black?", [GLASSES]),
        ("how much?", [GLASSES]),
    ]
    assert board.answer(snap["questions"][0]["id"])
    assert not board.answer(999)
    assert len(board.snapshot(T0 + 600)["questions"]) == 1
    # Sparkline: tries per minute, oldest first; the glasses' try 100 s before the snapshot.
    assert sum(glasses["spark"]) == 1
    assert glasses["spark"][-2] == 1
    # Trend: the glasses were tried in the last 5 minutes only: rising; the lipstick not since.
    assert glasses["trend_label"] == "up"
    assert lip["trend_label"] == "down"


def test_the_board_stays_bounded() -> None:
    board = Board(T0)
    for i in range(5000):
        board.add(ev("try_start", i, f"s{i}", LIP))
        board.add(ev("try_stop", i + 1, f"s{i}", LIP, dwell_s=float(i % 60)))
        board.add(ev("comment", i, f"s{i}", text=f"q{i}?"), question=True)
    assert len(board.rows[LIP].dwells) <= 2000
    assert len(board.rows[LIP].try_times) <= 1000
    assert len(board.questions) == 50
    snap = board.snapshot(T0 + 5001)
    assert snap["products"][0]["tries"] == 5000
    assert 20 <= snap["products"][0]["median_dwell_s"] <= 40


def test_also_tried_and_popular_now() -> None:
    rec = Recommender()
    sessions = {"a": [LIP, GLASSES], "b": [LIP, GLASSES, HOOPS], "c": [LIP, HOOPS], "d": [GLASSES]}
    t = 0.0
    for sid, products in sessions.items():
        for p in products:
            rec.add(ev("try_start", t, sid, p))
            t += 10
    rec.add(ev("try_start", t, "a", LIP))  # a second try in the same session adds no pair
    assert rec.also_tried(LIP) == [GLASSES, HOOPS]
    assert rec.pairs[LIP][GLASSES] == 2
    assert rec.also_tried(HOOPS, k=1) == [LIP]
    assert rec.also_tried(LIP, exclude=[GLASSES]) == [HOOPS]
    assert rec.popular_now(T0 + t, k=1) == [LIP]
    assert rec.popular_now(T0 + t + 3600) == []


def write_rules(tmp_path: Path, rules: object) -> Path:
    path = tmp_path / "promotions.json"
    path.write_text(json.dumps(rules))
    return path


RULES = [
    {
        "id": "lip-hesitant",
        "code": "RUBY10",
        "discount_pct": 10,
        "target": {"kind": "lipstick"},
        "trigger": {"tried_s": 20, "not_bought": True},
        "message": {
            "en": "10% off the lipstick you tried",
            "fr": "-10 % sur le rouge essayé",
            "zh": "口红九折",
        },
    },
    {
        "id": "loyal",
        "code": "THANKS5",
        "discount_pct": 5,
        "target": {"product": GLASSES},
        "trigger": {"watched_s": 600},
        "message": {"en": "Thanks for watching: 5% off"},
    },
]


def test_promotion_rules_fire_once_and_never_spam(tmp_path: Path) -> None:
    rules = load_rules(write_rules(tmp_path, RULES), list(set(KINDS.values())), lambda p: p in KINDS)
    engine = PromotionEngine(rules, KINDS.get)
    # a: wears the lipstick 25 s (still on) without buying → the lipstick promotion, once.
    engine.add(ev("try_start", 0, "a", LIP))
    assert engine.due(T0 + 10) == []
    fired = engine.due(T0 + 25)
    assert [(s, p["id"], p["product"]) for s, p in fired] == [("a", "lip-hesitant", LIP)]
    assert engine.due(T0 + 30) == []
    # b: tried 30 s but bought → nothing; c: 12 s + 12 s over two tries → fires.
    engine.add(ev("try_start", 0, "b", LIP))
    engine.add(ev("try_stop", 30, "b", LIP, dwell_s=30.0))
    engine.add(ev("buy_click", 31, "b", LIP))
    for start in (0, 20):
        engine.add(ev("try_start", start, "c", LIP))
        engine.add(ev("try_stop", start + 12, "c", LIP, dwell_s=12.0))
    assert [s for s, _ in engine.due(T0 + 40)] == ["c"]
    # a keeps watching 10 minutes: the second rule waits for the quiet period after the first.
    for i in range(20):
        engine.add(ev("watch", 30 + 30 * i, "a"))
    assert engine.due(T0 + 25 + QUIET_S - 1) == []
    assert [(s, p["id"]) for s, p in engine.due(T0 + 25 + QUIET_S)] == [("a", "loyal")]
    assert engine.due(T0 + 10_000) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"code": "x"}, "code"),
        ({"discount_pct": 95}, "discount_pct"),
        ({"target": {"product": "no-such"}}, "target.product"),
        ({"target": {"kind": "cape"}}, "target.kind"),
        ({"target": {"product": LIP, "kind": "lipstick"}}, "target"),
        ({"trigger": {"tried_s": 20, "watched_s": 60}}, "trigger"),
        ({"trigger": {"watched_s": 60, "not_bought": True}}, "trigger.not_bought"),
        ({"trigger": {"tried_s": -1}}, "trigger"),
        ({"message": {"fr": "x"}}, "message"),
        ({"message": {"en": "x" * 141}}, "message.en"),
        ({"extra": 1}, "rule"),
    ],
)
def test_a_bad_rule_is_refused_at_load_with_the_file_and_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    rule = {**RULES[0], **change}
    path = write_rules(tmp_path, [rule])
    with pytest.raises(PromotionError) as info:
        load_rules(path, ["lipstick", "glasses"], lambda p: p in KINDS)
    assert str(path) in str(info.value)
    assert field in str(info.value)


def test_rule_ids_are_unique_and_the_file_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(PromotionError, match="unique"):
        load_rules(write_rules(tmp_path, [RULES[0], RULES[0]]), ["lipstick"], lambda p: True)
    with pytest.raises(PromotionError, match="list"):
        load_rules(write_rules(tmp_path, {"rules": []}), ["lipstick"], lambda p: True)
    assert parse_rule(RULES[1], "inline", ["glasses"], lambda p: True).watched_s == 600
