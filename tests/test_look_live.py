"""A look over the live server's control channel and its offer: clashing products (a top and a
dress, glasses and sunglasses) keep the later one and the ``ack`` says what was replaced; items
that take no intensity are acknowledged at 1.0; the stats say what perception saw."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pytest
import pytest_asyncio
from live_helpers import Live, live_fixture
from numpy.typing import NDArray

from tryon.look import LookItem
from webrtc.probe import PassThroughPipeline
from webrtc.track import FramePipeline

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

TEE = "everyday-crew-tee:white"
DRESS = "garden-floral-wrap-dress:navy"
GLASSES = "harbor-round-optical:havana"
SUNGLASSES = "riviera-aviator-sunglasses:gold-green"
LIPSTICK = "velvet-matte-lipstick:ruby-red"
GLOSS = "glass-shine-lip-gloss"


class Seeing(PassThroughPipeline):
    """Passes frames through, as if perception saw one face, two hands and no body on each."""

    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]:
        self.last_result = SimpleNamespace(faces=[object()], hands=[object(), object()], poses=[])
        return super().process(frame, timestamp)


def seeing(items: Sequence[LookItem]) -> FramePipeline:
    return Seeing(items)


live = pytest_asyncio.fixture(live_fixture())


@pytest.mark.parametrize("live", [seeing], indirect=True)
async def test_the_later_of_two_clashing_products_wins_and_the_ack_says_so(live: Live) -> None:
    c = await live.client([TEE, GLASSES, DRESS])
    hello = next(m for m in c.messages if m["type"] == "hello")
    assert hello["look"] == [GLASSES, DRESS], "the offer's look keeps the later of a top and a dress"

    ack = await c.request(
        {
            "type": "look",
            "products": [
                {"product": TEE, "intensity": 0.4},
                {"product": LIPSTICK, "intensity": 0.5},
                GLOSS,
                GLASSES,
                DRESS,
                SUNGLASSES,
            ],
            "intensity": 0.8,
        }
    )
    assert ack["type"] == "ack", ack
    gloss = next(s for s in ack["look"] if s.startswith(GLOSS))
    assert ack["look"] == [LIPSTICK, gloss, DRESS, SUNGLASSES]
    assert ack["replaced"] == [{"spec": TEE, "by": DRESS}, {"spec": GLASSES, "by": SUNGLASSES}]
    # Makeup at its own intensity times the overall one; the rest opaque whatever was sent.
    assert ack["items"] == [
        {"product": LIPSTICK, "intensity": pytest.approx(0.4)},
        {"product": gloss, "intensity": pytest.approx(0.8)},
        {"product": DRESS, "intensity": 1.0},
        {"product": SUNGLASSES, "intensity": 1.0},
    ]
    ack = await c.request({"type": "look", "products": [TEE]})
    assert (ack["look"], ack["replaced"]) == ([TEE], [])

    for _ in range(50):
        if c.stats:
            break
        await asyncio.sleep(0.1)
    assert c.stats[-1]["seen"] == {"faces": 1, "hands": 2, "bodies": 0}


async def test_stats_say_what_the_real_pipeline_saw(live: Live) -> None:
    c = await live.client([LIPSTICK], still=True)
    await c.wait_frames(10)
    for _ in range(50):
        if c.stats and c.stats[-1]["seen"]["faces"]:
            break
        await asyncio.sleep(0.1)
    assert c.stats[-1]["seen"] == {"faces": 1, "hands": 0, "bodies": 0}
