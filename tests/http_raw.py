"""A raw HTTP/1.1 client over asyncio streams, for what aiohttp's client will not do: send a body
in slow pieces with or without ``Content-Length``, trickle headers, keep sending past a refusal."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    return RawResponse(status, headers, body)


def _chunked(piece: bytes) -> bytes:
    return f"{len(piece):x}\r\n".encode() + piece + b"\r\n"


async def post(
    host: str,
    port: int,
    path: str,
    pieces: Iterable[bytes] | AsyncIterator[bytes],
    headers: dict[str, str],
    *,
    chunked: bool = False,
    content_length: int | None = None,
    delay: float = 0.0,
    timeout: float = 60.0,
) -> RawResponse:
    """POST the body as ``pieces`` (each its own TCP write, ``delay`` seconds apart); stops sending
    once the server answers or closes, then reads the answer."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if chunked:
            head.append("Transfer-Encoding: chunked")
        elif content_length is not None:
            head.append(f"Content-Length: {content_length}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        answer = asyncio.ensure_future(read_response(reader))

        async def send() -> None:
            async def each() -> AsyncIterator[bytes]:
                if hasattr(pieces, "__aiter__"):
                    async for p in pieces:
                        yield p
                else:
                    for p in pieces:
                        yield p

            async for piece in each():
                if answer.done():
                    return
                writer.write(_chunked(piece) if chunked else piece)
                await writer.drain()
                if delay:
                    await asyncio.sleep(delay)
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()

        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(send(), timeout)
        return await asyncio.wait_for(answer, timeout)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]
