"""Freed heap handed back to the system: glibc keeps what a closed session freed unless trimmed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
import pytest_asyncio
from live_helpers import Live, live_fixture

from tryon.runtime.allocator import _libc
from webrtc.probe import PassThroughPipeline

pytestmark = pytest.mark.skipif(_libc() is None, reason="not glibc: malloc_trim does not exist here")

CHILD = """
import json
from pathlib import Path
from tryon.runtime.allocator import limit_arenas, trim_free_memory

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

blocks = [bytearray(64 * 1024) for _ in range(4000)]  # 250 MiB below the mmap threshold
keep = blocks[-1]
before = rss()
del blocks
freed = rss()
ok = trim_free_memory()
print(json.dumps({"before": before, "freed": freed, "trimmed": rss(), "ok": ok, "arenas": limit_arenas(2)}))
"""


def test_trimming_hands_freed_heap_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=True
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["ok"]
    assert r["arenas"]
    assert r["before"] - r["freed"] < 100, r  # glibc kept what was freed (the heap's top is in use)
    assert r["freed"] - r["trimmed"] > 150, r  # and handed it back when trimmed


def test_limit_arenas_refuses_nonsense() -> None:
    from tryon.runtime.allocator import limit_arenas

    with pytest.raises(ValueError, match="at least 1"):
        limit_arenas(0)


live = pytest_asyncio.fixture(live_fixture())


@pytest.mark.asyncio
@pytest.mark.slow
@pytest.mark.parametrize("live", [PassThroughPipeline], indirect=True)
async def test_the_server_trims_after_each_session(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    import webrtc.app

    calls: list[float] = []
    monkeypatch.setattr(webrtc.app, "trim_free_memory", lambda: calls.append(time.monotonic()) or True)
    for _ in range(2):
        c = await live.client()
        await c.wait_frames(3)
        assert calls == [] or len(calls) == 1
        await c.close()
        await live.wait_sessions(0)
        closed = time.monotonic()
        for _ in range(40):
            if calls and calls[-1] >= closed - 0.1:
                break
            await asyncio.sleep(0.05)
    assert len(calls) == 2, calls
