"""What the live show needs from a selective forwarding unit (SFU), whichever one it is.

A show publishes one processed video track into a :class:`Room`; each viewer gets a media
subscription from the room. The room makes the SDP offer (the SFU knows its codecs and streams),
the viewer's page answers. Two back ends implement this:

- :mod:`webrtc.sfu.relay`, the embedded default: the tryon server forwards the track to each viewer
  itself (``MediaRelay``, one encode per viewer), capped at a few viewers;
- :mod:`webrtc.sfu.janus`, Janus's VideoRoom over its HTTP API: the track is published once and the
  viewers' media flows between their browsers and Janus, costing the tryon server nothing per viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiortc import MediaStreamTrack, RTCSessionDescription

from tryon.errors import TryOnError


class SfuError(TryOnError):
    """The SFU refused or could not be reached; the message says which and why."""


class RoomFullError(SfuError):
    """The room takes no more viewers (the embedded relay's cap); the message says what to do."""


@dataclass(frozen=True)
class Subscription:
    """One viewer's pending media subscription: the SFU's offer, to be answered by the viewer."""

    id: str
    offer: RTCSessionDescription


class Room(Protocol):
    """One show's room in the SFU: one published track, many subscribers."""

    @property
    def viewers(self) -> int:
        """Media subscriptions currently held (answered or pending)."""
        ...

    async def publish(self, track: MediaStreamTrack, audio: MediaStreamTrack | None = None) -> None:
        """Publish ``track`` (the show's processed video) and ``audio`` (its sound) once;
        returns when the SFU accepted them."""
        ...

    async def subscribe(self) -> Subscription:
        """A new viewer: the SFU's offer. Raises :class:`RoomFullError` past the room's cap."""
        ...

    async def answer(self, subscription_id: str, answer: RTCSessionDescription) -> None:
        """Complete a subscription with the viewer's answer. Raises :class:`SfuError` if unknown."""
        ...

    async def unsubscribe(self, subscription_id: str) -> None:
        """End one viewer's media (idempotent; an unknown id is ignored)."""
        ...

    async def close(self) -> None:
        """End every subscription and the publication, free the room (idempotent)."""
        ...


class Sfu(Protocol):
    """An SFU back end: opens rooms, reports health."""

    name: str
    """``"relay"`` or ``"janus"``: shown on pages and in ``/api/config``."""

    async def open_room(self, show_id: str) -> Room:
        """A new room for a show (the show's id is a label; the SFU picks its own room id)."""
        ...

    async def check(self) -> str:
        """A one-line description of the SFU's health; raises :class:`SfuError` if unreachable."""
        ...

    async def close(self) -> None:
        """Close every room and the SFU connection (idempotent)."""
        ...
