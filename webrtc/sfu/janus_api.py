"""One Janus session over Janus's HTTP API (the transport under :mod:`webrtc.sfu.janus`).

Synchronous requests (create, attach, detach, the VideoRoom's create/destroy/exists) are answered
in the POST's own reply. Asynchronous ones (join, configure, start) are answered ``ack`` there and
the result arrives later on the session's long poll (``GET /janus/<session>?maxev=10``), carrying
the request's transaction: a future per transaction waits for it. The long poll also keeps the
session alive (Janus's ``session_timeout``; it holds the GET up to 30 s, then answers ``keepalive``).

Failures: every request raises :class:`SfuError` after at most ``request_timeout`` seconds; when the
long poll breaks (Janus died, or forgot the session) the session fails: ``on_failure`` is called
once with the reason, waiting requests and every later one raise :class:`SfuError` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp

from webrtc.sfu.base import SfuError

logger = logging.getLogger(__name__)

Json = dict[str, Any]

LONG_POLL_HOLD = 30.0
"""Seconds Janus holds a long poll without events before answering ``keepalive``."""
POLL_RETRIES = 2
"""Consecutive failed long polls retried (e.g. a stale pooled connection) before the session fails."""


def error_text(reply: Json) -> str | None:
    """The error a Janus reply carries (core ``error`` or the plugin's ``error_code``), or None."""
    if reply.get("janus") == "error":
        error = reply.get("error") or {}
        return f"{error.get('reason', 'error')} (code {error.get('code', '?')})"
    data = (reply.get("plugindata") or {}).get("data") or {}
    if isinstance(data, dict) and ("error_code" in data or "error" in data):
        return f"{data.get('error', 'error')} (code {data.get('error_code', '?')})"
    return None


def plugin_data(reply: Json) -> Json:
    """``plugindata.data`` of a reply, or :class:`SfuError`."""
    data = (reply.get("plugindata") or {}).get("data")
    if not isinstance(data, dict):
        raise SfuError(f"janus: expected plugin data in the reply, got {str(reply)[:200]}")
    return data


def _request_name(payload: Json) -> str:
    body = payload.get("body")
    return str(body.get("request")) if isinstance(body, dict) else str(payload.get("janus"))


class JanusSession:
    """A Janus session at ``url`` (``http://host:8088/janus``), created by :meth:`start`.

    ``on_event(event)`` gets every long-poll event that answers no request (hangup, webrtcup, media,
    plugin notifications); ``on_failure(reason)`` is called once when the long poll breaks.
    """

    def __init__(
        self,
        url: str,
        request_timeout: float,
        on_event: Callable[[Json], None],
        on_failure: Callable[[str], None],
    ) -> None:
        self.url = url.rstrip("/")
        self.request_timeout = request_timeout
        self.id: int | None = None
        self.failure: str | None = None
        self.closed = False
        self._on_event = on_event
        self._on_failure = on_failure
        self._http: aiohttp.ClientSession | None = None
        self._poll: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[Json]] = {}
        self._lock = asyncio.Lock()

    @property
    def usable(self) -> bool:
        """Neither closed nor failed: requests can still reach the session."""
        return self.failure is None and not self.closed

    def alive(self) -> None:
        """Raise :class:`SfuError` if the session failed or was closed."""
        if self.failure is not None:
            raise SfuError(f"janus at {self.url} failed: {self.failure}")
        if self.closed:
            raise SfuError(f"janus at {self.url}: closed")

    async def info(self) -> Json:
        """``GET /janus/info`` (needs no session)."""
        return await self._call("GET", f"{self.url}/info")

    async def start(self) -> None:
        """Create the session and start its long poll (once; later calls return at once)."""
        async with self._lock:
            self.alive()
            if self.id is not None:
                return
            reply = await self._call(
                "POST", self.url, {"janus": "create", "transaction": secrets.token_hex(8)}
            )
            error = error_text(reply)
            if error is not None:
                raise SfuError(f"janus at {self.url}: creating a session refused: {error}")
            try:
                self.id = int(reply["data"]["id"])
            except (KeyError, TypeError, ValueError):
                raise SfuError(f"janus at {self.url}: no session id in {str(reply)[:200]}") from None
            self._poll = asyncio.create_task(self._long_poll(self.id), name=f"janus-poll-{self.id}")
            logger.info("janus: session %d at %s", self.id, self.url)

    async def attach(self, plugin: str) -> int:
        """A new handle on ``plugin`` in this session."""
        reply = await self.request(None, {"janus": "attach", "plugin": plugin})
        try:
            return int(reply["data"]["id"])
        except (KeyError, TypeError, ValueError):
            raise SfuError(f"janus at {self.url}: no handle id in {str(reply)[:200]}") from None

    async def detach(self, handle: int) -> None:
        await self.request(handle, {"janus": "detach"})

    async def message(self, handle: int, body: Json, jsep: Json | None = None) -> Json:
        """A plugin request on ``handle``: the reply (sync) or the event answering it (async)."""
        payload: Json = {"janus": "message", "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        return await self.request(handle, payload)

    async def request(self, handle: int | None, payload: Json) -> Json:
        """POST ``payload`` to the session (or one of its handles); waits for the event if acked.
        A reply carrying an error (core or plugin) raises :class:`SfuError`."""
        self.alive()
        if self.id is None:
            raise SfuError(f"janus at {self.url}: no session")
        transaction = secrets.token_hex(8)
        url = f"{self.url}/{self.id}" + (f"/{handle}" if handle is not None else "")
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._waiters[transaction] = future  # before the POST: the event may come first
        try:
            reply = await self._call("POST", url, {**payload, "transaction": transaction})
            if reply.get("janus") == "ack":
                try:
                    reply = await asyncio.wait_for(future, self.request_timeout)
                except TimeoutError:
                    raise SfuError(
                        f"janus at {self.url}: no answer to {_request_name(payload)!r} "
                        f"within {self.request_timeout:g} s"
                    ) from None
        finally:
            self._waiters.pop(transaction, None)
        error = error_text(reply)
        if error is not None:
            raise SfuError(f"janus at {self.url}: {_request_name(payload)!r} refused: {error}")
        return reply

    async def close(self) -> None:
        """Stop the long poll, destroy the session (if Janus still has it), close the HTTP client."""
        if self.closed:
            return
        if self._poll is not None:
            self._poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll
        if self.id is not None and self.failure is None:
            try:
                await self.request(None, {"janus": "destroy"})
            except SfuError as exc:
                logger.warning("janus: destroying session %d: %s", self.id, exc)
        self.closed = True
        self._fail_waiters(SfuError(f"janus at {self.url}: closed"))
        if self._http is not None:
            await self._http.close()

    # -- HTTP ---------------------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        return self._http

    async def _call(self, method: str, url: str, payload: Json | None = None) -> Json:
        """One HTTP exchange with Janus: the JSON object answered, or :class:`SfuError`."""
        try:
            async with self._client().request(method, url, json=payload) as reply:
                if reply.status != 200:
                    text = (await reply.text())[:200]
                    raise SfuError(f"janus at {self.url}: {method} {url} answered {reply.status}: {text}")
                body = await reply.json(content_type=None)
        except TimeoutError:
            raise SfuError(f"janus at {self.url}: no answer within {self.request_timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise SfuError(f"janus at {self.url} unreachable: {exc.__class__.__name__}: {exc}") from None
        except ValueError as exc:
            raise SfuError(f"janus at {self.url}: the answer is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise SfuError(f"janus at {self.url}: expected a JSON object, got {str(body)[:200]}")
        return body

    # -- long poll ----------------------------------------------------------------------------------

    async def _long_poll(self, session: int) -> None:
        url = f"{self.url}/{session}"
        failures = 0
        while True:
            try:
                reply = await self._poll_once(url)
            except SfuError as exc:
                failures += 1
                if failures > POLL_RETRIES:
                    self._fail(str(exc))
                    return
                await asyncio.sleep(0.2)
                continue
            failures = 0
            for event in reply if isinstance(reply, list) else [reply]:
                if not isinstance(event, dict):
                    continue
                if event.get("janus") == "error" and "transaction" not in event:
                    self._fail(f"the long poll answered an error: {error_text(event)}")  # e.g. 458
                    return
                self._dispatch(event)

    async def _poll_once(self, url: str) -> Json | list[Any]:
        limit = aiohttp.ClientTimeout(total=LONG_POLL_HOLD + self.request_timeout)
        try:
            async with self._client().get(url, params={"maxev": "10"}, timeout=limit) as reply:
                if reply.status != 200:
                    raise SfuError(f"the long poll answered {reply.status}")
                body: Json | list[Any] = await reply.json(content_type=None)
                return body
        except TimeoutError:
            raise SfuError(f"the long poll got no answer in {limit.total:g} s") from None
        except aiohttp.ClientError as exc:
            raise SfuError(f"the long poll broke: {exc.__class__.__name__}: {exc}") from None
        except ValueError as exc:
            raise SfuError(f"the long poll answered something not JSON: {exc}") from None

    def _dispatch(self, event: Json) -> None:
        kind = event.get("janus")
        if kind in ("keepalive", "ack"):
            return
        future = self._waiters.get(str(event.get("transaction")))
        if future is not None:
            if not future.done():
                future.set_result(event)
            return
        try:
            self._on_event(event)
        except Exception:  # a listener's bug must not stop the long poll
            logger.exception("janus: handling event %s", kind)

    def _fail(self, reason: str) -> None:
        if self.failure is not None or self.closed:
            return
        self.failure = reason  # logged by on_failure's owner, once
        self._fail_waiters(SfuError(f"janus at {self.url} failed: {reason}"))
        self._on_failure(reason)

    def _fail_waiters(self, error: SfuError) -> None:
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(error)
