"""One live show's state: its room and track, its host, what is showing, its viewers, likes and
comments, and the push channels that carry changes to every page.

Nothing here reads the network: :mod:`webrtc.show.service` checks keys and bodies and calls in.
Memory is bounded: the last :data:`KEEP_COMMENTS` comments, at most ``max_viewers`` viewer
records (a record outlives its page's push channel by :data:`VIEWER_GRACE` so that a reconnect
keeps its rate limits), a bounded queue per channel.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from tryon.catalog import Product
from tryon.errors import InputError
from webrtc.sfu.base import Room
from webrtc.sfu.relay import RelayRoom
from webrtc.show.push import PushChannel, encode
from webrtc.show.track import BoundedTrack, ShowAudioTrack, ShowTrack

if TYPE_CHECKING:
    from webrtc.session import Session

KEEP_COMMENTS = 20
VIEWER_GRACE = 60.0
"""Seconds a viewer's record (token, rate limits) is kept after its last push channel closed."""
LIKES = (5.0, 10.0)
"""Likes: 5 a second, bursts of 10, per viewer."""
COMMENTS = (1 / 3, 3.0)
"""Comments: one every 3 seconds, bursts of 3, per viewer."""
WATCHES = (1 / 5, 3.0)
"""Media subscriptions: one every 5 seconds, bursts of 3, per viewer."""
EVENTS = (20.0, 60.0)
"""Engagement events a page sends: 20 a second, bursts of 60."""


class RateLimitedError(InputError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float = -1.0
    at: float = field(default_factory=time.monotonic)

    def take(self, what: str) -> None:
        """Spend one token or raise :class:`RateLimitedError` saying when to retry."""
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            wait = (1.0 - self.tokens) / self.rate
            raise RateLimitedError(f"too many {what}: slow down (try again in {wait:.1f} s)", wait)
        self.tokens -= 1.0


@dataclass
class Viewer:
    token: str
    author: str
    likes: TokenBucket = field(default_factory=lambda: TokenBucket(*LIKES))
    comments: TokenBucket = field(default_factory=lambda: TokenBucket(*COMMENTS))
    watches: TokenBucket = field(default_factory=lambda: TokenBucket(*WATCHES))
    events: TokenBucket = field(default_factory=lambda: TokenBucket(*EVENTS))
    pseudonym: str = field(default_factory=lambda: secrets.token_hex(8))
    """The viewer in analytics: random, unrelated to the token and the displayed author."""
    channels: int = 0
    left_at: float = 0.0
    subscriptions: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Showing:
    """The product on screen now, as every viewer's product card shows it."""

    product: Product
    shade: str | None

    def to_json(self) -> dict[str, Any]:
        p = self.product
        variant = next((v for v in p.variants if v.id == self.shade), None)
        return {
            "product": p.id,
            "shade": self.shade,
            "shade_name": variant.name if variant else None,
            "name": p.name,
            "brand": p.brand,
            "kind": p.kind,
            "price": p.price,
            "currency": p.currency,
            "swatch": variant.color if variant else None,
            "buy_url": p.buy_url,
            "thumbnail": f"/api/products/{p.id}/assets/thumbnail" if "thumbnail" in p.assets else None,
            "spec": f"{p.id}:{self.shade}" if self.shade else p.id,
        }


def clean_comment(text: object, max_chars: int) -> str:
    """A comment as stored and shown: plain text, control characters out, whitespace folded."""
    if not isinstance(text, str):
        raise InputError(f"text: expected a string, got {type(text).__name__}")
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    folded = " ".join(kept.split())
    if not folded:
        raise InputError("text: expected a comment, got only blanks")
    if len(folded) > max_chars:
        raise InputError(f"text: expected at most {max_chars} characters, got {len(folded)}")
    return folded


class Show:
    def __init__(
        self, sid: str, key: str, title: str, room: Room, track: ShowTrack, max_viewers: int
    ) -> None:
        self.id = sid
        self.key = key
        self.title = title
        self.room = room
        self.track = track
        self.audio = ShowAudioTrack()
        self.tee = MediaRelay()
        """The show's video and sound, to each of their consumers: the room, WHEP players,
        RTMP/SRT uplinks."""
        self.max_viewers = max_viewers
        self.created_at = time.time()
        self.host: Session | None = None
        self.whep_room: RelayRoom | None = None
        """WHEP players' room when the show's own room is Janus's (see webrtc.show.whip)."""
        self.showing: Showing | None = None
        self.likes = 0
        self.peak = 0
        self.ended = False
        self.comments: deque[dict[str, Any]] = deque(maxlen=KEEP_COMMENTS)
        self.viewers: dict[str, Viewer] = {}
        self.channels: set[PushChannel] = set()
        self.host_channels: set[PushChannel] = set()
        self.dropped_channels = 0
        self.forgotten: list[tuple[str, str | None]] = []
        """Viewers forgotten while opening a channel: the ticker ends what they held."""
        self._next_comment = 1
        self._counts_sent: tuple[int, int, int] | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        return self.host is not None and self.track.live

    @property
    def watching(self) -> int:
        """Viewer pages connected now (their push channels)."""
        return len(self.channels)

    def public_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "live": self.live,
            "ended": self.ended,
            "showing": self.showing.to_json() if self.showing else None,
            "viewers": self.watching,
            "peak": self.peak,
            "likes": self.likes,
            "comments": list(self.comments),
        }

    def output(self) -> MediaStreamTrack:
        """A new subscription of the show's video (newest frame wins)."""
        return self.tee.subscribe(self.track, buffered=False)

    def audio_output(self) -> MediaStreamTrack:
        """A new subscription of the show's sound (every frame in order, at most 200 ms behind)."""
        return BoundedTrack(self.tee.subscribe(self.audio, buffered=True))

    async def drain_audio(self) -> None:
        """Pull the show's sound for the show's life, so the host's microphone is always read
        (aiortc queues a remote track's frames without bound until someone does)."""
        sink = self.tee.subscribe(self.audio, buffered=False)
        try:
            while True:
                await sink.recv()
        except MediaStreamError:
            return

    def counts(self) -> dict[str, int]:
        return {"viewers": self.watching, "peak": self.peak, "likes": self.likes}

    # -- push --------------------------------------------------------------------------------

    def broadcast(self, event: str, data: Any, *, viewers: bool = True, host: bool = True) -> None:
        message = encode(event, data)
        targets = (list(self.channels) if viewers else []) + (list(self.host_channels) if host else [])
        for channel in targets:
            if not channel.push(message):
                self.drop_channel(channel)

    def push_counts(self) -> None:
        """Send ``counts`` if they changed since the last time (called on a timer: coalesced)."""
        counts = self.counts()
        key = (counts["viewers"], counts["peak"], counts["likes"])
        if key != self._counts_sent:
            self._counts_sent = key
            self.broadcast("counts", counts)

    def open_channel(self, host: bool) -> tuple[PushChannel, tuple[str, str]]:
        """A new push channel and its ``hello`` event; a viewer's gets a new viewer token."""
        if host:
            channel = PushChannel(None)
            self.host_channels.add(channel)
            return channel, encode("hello", {"viewer": None, "state": self.public_state()})
        self.forgotten.extend(self.forget_viewers())
        if len(self.viewers) >= self.max_viewers:
            raise RateLimitedError(f"the show is full ({self.max_viewers} viewers); try again later", 30.0)
        token = secrets.token_urlsafe(18)
        viewer = Viewer(token, "viewer-" + secrets.token_hex(2), channels=1)
        self.viewers[token] = viewer
        channel = PushChannel(token)
        self.channels.add(channel)
        self.peak = max(self.peak, len(self.channels))
        hello = encode("hello", {"viewer": token, "author": viewer.author, "state": self.public_state()})
        return channel, hello

    def drop_channel(self, channel: PushChannel) -> None:
        """Forget a channel whose page left or fell behind (counted when it overflowed)."""
        if channel.overflowed:
            self.dropped_channels += 1
        channel.close()
        self.host_channels.discard(channel)
        if channel in self.channels:
            self.channels.discard(channel)
            viewer = self.viewers.get(channel.viewer or "")
            if viewer is not None:
                viewer.channels -= 1
                viewer.left_at = time.monotonic()

    def forget_viewers(self) -> list[tuple[str, str | None]]:
        """Drop viewer records whose pages left more than :data:`VIEWER_GRACE` ago; returns
        ``(pseudonym, media subscription or None)`` for each, so the caller ends what they held."""
        now = time.monotonic()
        gone = [v for v in self.viewers.values() if v.channels <= 0 and now - v.left_at > VIEWER_GRACE]
        out: list[tuple[str, str | None]] = []
        for viewer in gone:
            del self.viewers[viewer.token]
            out.append((viewer.pseudonym, None))
            out.extend((viewer.pseudonym, wid) for wid in viewer.subscriptions)
        return out

    def push_to(self, token: str, event: str, data: Any) -> None:
        """An event for one viewer's pages only (a promotion)."""
        message = encode(event, data)
        for channel in [c for c in self.channels if c.viewer == token]:
            if not channel.push(message):
                self.drop_channel(channel)

    def viewer(self, token: str | None) -> Viewer | None:
        return self.viewers.get(token) if token else None

    # -- audience ----------------------------------------------------------------------------

    def like(self, viewer: Viewer) -> int:
        viewer.likes.take("likes")
        self.likes += 1
        return self.likes

    def comment(
        self,
        viewer: Viewer,
        text: object,
        max_chars: int,
        understood: Callable[[str], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A viewer's comment, pushed to every page; ``understood(text)`` adds its analysis
        (language, products, question) for the host's board."""
        cleaned = clean_comment(text, max_chars)
        viewer.comments.take("comments")
        entry: dict[str, Any] = {"id": self._next_comment, "text": cleaned, "author": viewer.author}
        entry["at"] = round(time.time(), 3)
        if understood is not None:
            entry.update(understood(cleaned))
        self._next_comment += 1
        self.comments.append(entry)
        self.broadcast("comment", entry)
        return entry

    def set_showing(self, showing: Showing | None) -> None:
        self.showing = showing
        self.broadcast("showing", showing.to_json() if showing else None)

    def end(self) -> None:
        """Mark the show over and tell every page; the service frees the media."""
        if self.ended:
            return
        self.ended = True
        self.broadcast("ended", {})
        for channel in list(self.channels) + list(self.host_channels):
            channel.close()
        self.channels.clear()
        self.host_channels.clear()
