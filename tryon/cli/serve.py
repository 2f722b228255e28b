"""``tryon serve [--host H] [--port P]``: the live try-on server and the shopper's page."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    from webrtc.config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig

    d = ServerConfig()
    p = sub.add_parser(
        "serve",
        help="start the live try-on server and its page",
        description="Serve the shopper's page and the WebRTC try-on (camera in, try-on out).",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}, loopback)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument(
        "--camera", default="x".join(map(str, d.camera_size)), help="camera size the page asks for"
    )
    p.add_argument("--output", default="x".join(map(str, d.output_size)), help="size of the returned video")
    p.add_argument("--max-sessions", type=int, default=d.max_sessions, help="concurrent live sessions")
    p.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="STUN/TURN server for both peers, e.g. turn:user:pass@host:3478 (repeatable; none by default)",
    )
    p.add_argument("--assets", default=None, help="catalog folder (default: the repository's assets/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tryon.catalog import Catalog
    from webrtc.config import ServerConfig, ice_servers, parse_size

    config = ServerConfig(
        host=args.host,
        port=args.port,
        camera_size=parse_size(args.camera),
        output_size=parse_size(args.output),
        max_sessions=args.max_sessions,
        ice_servers=ice_servers(args.ice_server),
    )
    catalog = Catalog.load(Path(args.assets) if args.assets else None)
    asyncio.run(serve(config, catalog))
    return 0


async def serve(config: Any, catalog: Any) -> None:
    from aiohttp import web

    from tryon.pipeline import PipelineConfig, TryOnPipeline
    from webrtc.app import create_app

    # Open the models once before taking offers: a missing model fails here, not in a session.
    TryOnPipeline(catalog=catalog, config=PipelineConfig(runtime=config.runtime))
    app = create_app(config, catalog=catalog)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    host = f"[{config.host}]" if ":" in config.host else config.host
    sys.stdout.write(f"tryon: serving the live try-on on http://{host}:{config.port}/ (Ctrl+C to stop)\n")
    sys.stdout.flush()
    if not _is_loopback(config.host):
        logger.warning(
            "bound to %s: browsers allow the camera only on https:// or localhost pages; "
            "put the server behind TLS for other machines",
            config.host,
        )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
