"""``tryon serve [--host H] [--port P]``: the live try-on server and the shopper's page.

Secrets never come from the command line (other users of the machine can read it): the offer
token comes from ``TRYON_OFFER_TOKEN`` or ``--offer-token-file``, the TURN secret from
``TRYON_TURN_SECRET`` or ``--turn-secret-file``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from tryon.errors import InputError

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    from tryon.runtime.batcher import BatchConfig
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
        help="STUN server for both peers, e.g. stun:host:3478 (repeatable; none by default). "
        "TURN takes --turn-url and a secret from the environment or a file",
    )
    p.add_argument(
        "--turn-url",
        action="append",
        default=[],
        metavar="URL",
        help="TURN server sharing a secret with tryon (coturn use-auth-secret), e.g. "
        "turn:turn.example:3478 (repeatable); the secret from TRYON_TURN_SECRET or --turn-secret-file",
    )
    p.add_argument("--turn-secret-file", help="file holding the TURN server's static-auth-secret")
    p.add_argument(
        "--turn-ttl", type=int, default=3600, help="seconds the TURN credentials handed out stay valid"
    )
    p.add_argument("--tls-cert", help="PEM certificate: serve https:// (needed to expose the server)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument(
        "--insecure-expose",
        action="store_true",
        help="allow a non-loopback --host without TLS (browsers then refuse the camera)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name clients reach the server by (Host header), besides loopback (repeatable)",
    )
    p.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another site allowed to post offers and photos, e.g. https://shop.example (repeatable)",
    )
    p.add_argument(
        "--offer-token-file",
        help="file holding the token offers from other machines must carry "
        "(or TRYON_OFFER_TOKEN; generated and printed once when exposed without one)",
    )
    p.add_argument(
        "--open-offers",
        action="store_true",
        help="accept offers from other machines without a token (a public shop behind TLS)",
    )
    p.add_argument(
        "--sfu",
        default=None,
        help="broadcast live shows through Janus: janus:http://127.0.0.1:8088/janus "
        "(default: the embedded relay, a few viewers per show)",
    )
    p.add_argument(
        "--relay-viewers", type=int, default=d.relay_viewers, help="viewers per show on the embedded relay"
    )
    p.add_argument(
        "--host-key-file", help="file holding the server host key that creates live shows (or TRYON_HOST_KEY)"
    )
    p.add_argument(
        "--db",
        default=None,
        help="where engagement events are stored: sqlite:///path or postgresql://user@host/db "
        "(default: sqlite in $XDG_DATA_HOME/tryon/events.db; 'none' stores nothing)",
    )
    p.add_argument(
        "--retention-days", type=float, default=d.retention_days, help="stored events kept this long"
    )
    p.add_argument("--promotions", default=None, help="JSON file of promotion rules (validated at start)")
    p.add_argument("--assets", default=None, help="catalog folder (default: the repository's assets/)")
    p.add_argument(
        "--trace-dir",
        default=None,
        metavar="DIR",
        help="let a session record a frame trace on request (the control message "
        '{"type": "trace", "seconds": 10}) into DIR/<session>-<time>.json (Chrome trace events)',
    )
    p.add_argument(
        "--batch",
        action="store_true",
        help="run the sessions' landmark and segmentation models as shared batches "
        "(one session per model for the whole server; tryon.runtime.batcher)",
    )
    p.add_argument(
        "--batch-deadline-ms",
        type=float,
        default=BatchConfig().deadline_ms,
        help="with --batch: the longest a frame's model run waits for other sessions' "
        f"(default {BatchConfig().deadline_ms:g})",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes behind one front process (default: one per CUDA GPU, else 1); "
        "each offer goes to the least-loaded worker, and the media straight to it",
    )
    p.set_defaults(func=run)


def read_secret(env: str, file: str | None, what: str) -> str | None:
    """A secret from the file named on the command line, else from the environment variable."""
    if file is not None:
        path = Path(file)
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise InputError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
        if not text:
            raise InputError(f"{what}: {path} is empty")
        if path.stat().st_mode & 0o044:
            logger.warning("%s: %s is readable by other users; chmod 600 it", what, path)
        return text
    value = os.environ.get(env, "").strip()
    return value or None


def event_store_url(given: str | None) -> str | None:
    """``--db``: as given, ``None`` for ``none``, else a SQLite file in the user's data folder."""
    if given is not None:
        return None if given.lower() == "none" else given
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "tryon"
    base.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{base / 'events.db'}"


def build_config(args: argparse.Namespace) -> Any:
    from tryon.runtime.batcher import BatchConfig
    from webrtc.config import ServerConfig, ice_servers, is_loopback_host, parse_size
    from webrtc.turn import TurnServer, load_turn_secret

    runtime = ServerConfig().runtime
    if getattr(args, "batch", False):
        runtime = replace(runtime, batching=BatchConfig(deadline_ms=args.batch_deadline_ms))

    servers = ice_servers(args.ice_server)
    for server in servers:
        if server.credential is not None:
            raise InputError(
                "--ice-server: credentials on the command line are visible to every user of the "
                "machine; use --turn-url with TRYON_TURN_SECRET or --turn-secret-file"
            )
    turn = None
    secret = load_turn_secret(env=os.environ, file=args.turn_secret_file)
    if args.turn_url and secret is None:
        raise InputError("--turn-url: expected the TURN secret in TRYON_TURN_SECRET or --turn-secret-file")
    if secret is not None and not args.turn_url:
        raise InputError("TURN secret given: expected the TURN server's address too (--turn-url)")
    if secret is not None:
        turn = TurnServer(tuple(args.turn_url), secret, args.turn_ttl)
    token = read_secret("TRYON_OFFER_TOKEN", args.offer_token_file, "offer token")
    if token is None and not is_loopback_host(args.host) and not args.open_offers:
        token = secrets.token_urlsafe(24)
        sys.stdout.write(
            "tryon: offers from other machines need this token (shown once; set TRYON_OFFER_TOKEN "
            f"to choose it): {token}\n"
        )
    host_key = read_secret("TRYON_HOST_KEY", args.host_key_file, "host key")
    if host_key is None:
        host_key = secrets.token_urlsafe(32)
        sys.stdout.write(
            "tryon: the host key that starts live shows in /studio (shown once; set TRYON_HOST_KEY "
            f"or --host-key-file to choose it): {host_key}\n"
        )
    return ServerConfig(
        host=args.host,
        port=args.port,
        camera_size=parse_size(args.camera),
        output_size=parse_size(args.output),
        max_sessions=args.max_sessions,
        ice_servers=servers,
        turn=turn,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure_expose=args.insecure_expose,
        allowed_hosts=tuple(args.allowed_host),
        allowed_origins=tuple(args.allowed_origin),
        offer_token=token,
        open_offers=args.open_offers,
        host_key=host_key,
        db=event_store_url(args.db),
        retention_days=args.retention_days,
        promotions=args.promotions,
        sfu=args.sfu,
        relay_viewers=args.relay_viewers,
        trace_dir=getattr(args, "trace_dir", None),
        runtime=runtime,
    )


def worker_count(given: int | None) -> int:
    """``--workers``: as given, else one per CUDA GPU, else 1."""
    if given is not None:
        if given < 1:
            raise InputError(f"--workers: expected at least 1, got {given}")
        return given
    from tryon.runtime.providers import cuda_device_count

    return max(1, cuda_device_count())


def run(args: argparse.Namespace) -> int:
    from tryon.catalog import Catalog

    config = build_config(args)
    workers = worker_count(getattr(args, "workers", None))
    if workers > 1:
        asyncio.run(serve_front(config, workers, sys.argv[sys.argv.index("serve") :]))
        return 0
    catalog = Catalog.load(Path(args.assets) if args.assets else None)
    asyncio.run(serve(config, catalog))
    return 0


async def serve_front(config: Any, workers: int, argv: list[str]) -> None:
    """The front process of ``--workers N`` (:mod:`webrtc.front`): it answers HTTP on the
    server's address; the workers, started by it, run the sessions."""
    from aiohttp import web

    from webrtc.front import create_front_app, worker_argv
    from webrtc.guard import runner_options

    context = ssl_context(config.tls_cert, config.tls_key) if config.tls_cert else None
    app = create_front_app(config, workers, worker_argv(argv))
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, **runner_options(config))
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, ssl_context=context)
    await site.start()
    host = f"[{config.host}]" if ":" in config.host else config.host
    scheme = "https" if context else "http"
    sys.stdout.write(
        f"tryon: serving the live try-on on {scheme}://{host}:{config.port}/ with {workers} workers "
        "(Ctrl+C to stop)\n"
    )
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def ssl_context(cert: str, key: str) -> Any:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"tls: cannot load the certificate {cert!r} and key {key!r}: {exc}") from None
    return context


async def serve(config: Any, catalog: Any) -> None:
    from aiohttp import web

    from tryon.pipeline import PipelineConfig, TryOnPipeline
    from tryon.runtime.allocator import limit_arenas
    from webrtc.access_log import AccessLog, server_log
    from webrtc.app import create_app
    from webrtc.guard import runner_options

    context = ssl_context(config.tls_cert, config.tls_key) if config.tls_cert else None
    if config.malloc_arenas is not None:
        limit_arenas(config.malloc_arenas)
    # Open the models once before taking offers: a missing model fails here, not in a session.
    TryOnPipeline(catalog=catalog, config=PipelineConfig(runtime=config.runtime))
    app = create_app(config, catalog=catalog)
    # One line per request and per session's start and end, shown without -v (webrtc.access_log).
    if not server_log.isEnabledFor(logging.INFO):
        server_log.setLevel(logging.INFO)
    runner = web.AppRunner(
        app,
        access_log=server_log,
        access_log_class=AccessLog,
        handler_cancellation=True,
        **runner_options(config),
    )
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, ssl_context=context)
    await site.start()
    host = f"[{config.host}]" if ":" in config.host else config.host
    scheme = "https" if context else "http"
    sys.stdout.write(f"tryon: serving the live try-on on {scheme}://{host}:{config.port}/ (Ctrl+C to stop)\n")
    sys.stdout.flush()
    if not config.loopback and not config.allowed_hosts:
        logger.warning(
            "bound to %s, but requests are accepted only for %s (the Host check against DNS "
            "rebinding): add --allowed-host NAME for each name clients use",
            config.host,
            ", ".join(sorted(config.allowed_host_names())),
        )
    if not config.loopback and context is None:
        logger.warning(
            "bound to %s without TLS (--insecure-expose): browsers allow the camera only on "
            "https:// or localhost pages",
            config.host,
        )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
