"""Offers mutated line by line (160 of them, seeded): each gets an answer or a 4xx with a message,
never a 500, and the server keeps serving. A cheap pass-through pipeline stands in for the models:
what is under test is negotiation."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
import pytest_asyncio
from live_helpers import Live, live_fixture
from test_server_faults import real_offer_sdp

from tryon.pipeline import LookItem
from webrtc.probe import PassThroughPipeline
from webrtc.track import FramePipeline

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def pass_through(items: Sequence[LookItem]) -> FramePipeline:
    return PassThroughPipeline(items)


live = pytest_asyncio.fixture(live_fixture(max_sessions=200, connect_timeout=2.0))

GARBAGE = [
    "",
    "x",
    "-1",
    "0",
    "99999999999999999999",
    "\x00",
    "é",
    "a=b=c",
    "::",
    "1 2 3 4 5 6 7 8 9",
    "%n%s",
]


def mutate(sdp: str, rng: random.Random) -> str:
    """One to three random edits of the offer's lines: drop, duplicate, swap, truncate, replace a
    field by garbage, or insert an attribute line."""
    lines = sdp.split("\r\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif op == 4:
            fields = lines[i].split(" ")
            fields[rng.randrange(len(fields))] = rng.choice(GARBAGE)
            lines[i] = " ".join(fields)
        else:
            attr = rng.choice(["rtpmap", "fmtp", "ssrc", "mid", "setup", "rtcp-fb", "extmap", "sctp-port"])
            lines.insert(i, f"a={attr}:{rng.choice(GARBAGE)} {rng.choice(GARBAGE)}")
        if not lines:
            lines = [""]
    return "\r\n".join(lines)


@pytest.mark.parametrize("live", [pass_through], indirect=True)
async def test_mutated_offers_get_answers_or_4xx_never_500(live: Live) -> None:
    sdp = await real_offer_sdp()
    rng = random.Random(20261202)
    statuses: dict[int, int] = {}
    for _ in range(160):
        status, reply = await live.post_offer({"sdp": mutate(sdp, rng), "type": "offer"})
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (200, 400), (status, reply)
        if status == 400:
            assert reply["error"], reply
    assert statuses.get(400, 0) > 20, statuses  # the mutations do reach the refusals
    assert statuses.get(200, 0) > 20, statuses  # and many offers still negotiate
    await live.wait_sessions(0, timeout=20)  # never connected: each released after its timeout
    c = await live.client()
    await c.wait_frames(10)
