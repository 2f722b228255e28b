"""What the server reports about the frames it processes: poses the pipeline refused to dress are
counted by reason in the session's stats and in ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest
import pytest_asyncio
from live_helpers import Live, live_fixture
from numpy.typing import NDArray

from tryon.look import LookItem
from webrtc.probe import PassThroughPipeline
from webrtc.track import FramePipeline

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


class Refusing(PassThroughPipeline):
    """Passes frames through and, like the real pipeline on a frame with an implausible body,
    counts one pose refused for want of a face on every frame."""

    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]:
        self.stats.rejected["no_face"] += 1
        return super().process(frame, timestamp)


def refusing(items: Sequence[LookItem]) -> FramePipeline:
    return Refusing(items)


live = pytest_asyncio.fixture(live_fixture())


@pytest.mark.parametrize("live", [refusing], indirect=True)
async def test_refused_poses_are_counted_by_reason(live: Live) -> None:
    c = await live.client()
    await c.wait_frames(10)
    for _ in range(50):
        if c.stats and c.stats[-1].get("rejected", {}).get("no_face", 0) >= 10:
            break
        await asyncio.sleep(0.1)
    assert c.stats[-1]["rejected"]["no_face"] >= 10
    _, metrics = await live.get("/metrics")
    line = next(
        x
        for x in metrics.decode().splitlines()
        if x.startswith('tryon_poses_rejected_total{reason="no_face"}')
    )
    assert float(line.split()[1]) >= 10
