"""WHIP and WHEP clients on aiortc (RFC 9725 and the WHEP draft), for ``tryon host``, the tests and
the benchmarks: one POST of the gathered offer (no trickle), the answer back, ``DELETE`` to end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription

from tryon.errors import TryOnError
from webrtc.ice import IcePolicy, use_policy

logger = logging.getLogger(__name__)


class WhipError(TryOnError):
    """The WHIP or WHEP endpoint refused the offer or could not be reached."""


@dataclass(frozen=True)
class Resource:
    """The session's resource on the server: ``DELETE`` it to end the session."""

    url: str
    token: str | None = None

    async def delete(self, http: aiohttp.ClientSession) -> int:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with http.delete(self.url, headers=headers) as r:
            return r.status


async def negotiate(
    http: aiohttp.ClientSession,
    url: str,
    pc: RTCPeerConnection,
    token: str | None = None,
    *,
    policy: IcePolicy | None = None,
    timeout: float = 20.0,
) -> Resource:
    """Offer from ``pc`` (its transceivers already added) to the WHIP/WHEP ``url``, apply the
    answer, and return the session's resource. Raises :class:`WhipError` with the server's reason."""
    if policy is not None:
        with use_policy(policy):
            await pc.setLocalDescription(await pc.createOffer())
    else:
        await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        async with http.post(
            url, data=pc.localDescription.sdp, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as r:
            body = await r.text()
            if r.status != 201:
                raise WhipError(f"{url} answered {r.status}: {body[:300]}")
            location = r.headers.get("Location")
            if not location:
                raise WhipError(f"{url} answered 201 without a Location")
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise WhipError(f"{url} unreachable: {type(exc).__name__}: {exc}") from None
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return Resource(urljoin(url, location), token)
