"""Server settings: one frozen dataclass, built from the CLI or by an embedding application."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer

from tryon.errors import InputError
from tryon.runtime.session import RuntimeConfig
from webrtc.ice import IcePolicy
from webrtc.turn import TurnServer, new_session_tag

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server handed to both peers (``urls`` like ``turn:host:3478``)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def __post_init__(self) -> None:
        if not self.urls:
            raise InputError("ice server: expected at least one URL, got none")
        for url in self.urls:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise InputError(f"ice server: expected a stun:, stuns:, turn: or turns: URL, got {url!r}")
            if url.startswith("turn") and (self.username is None or self.credential is None):
                raise InputError(f"ice server {url!r}: a TURN server needs a username and a credential")

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any]) -> IceServer:
        """``"turn:user:pass@host:3478"``, ``"stun:host:3478"`` or ``{"urls", "username", "credential"}``."""
        if isinstance(spec, Mapping):
            urls = spec.get("urls")
            if isinstance(urls, str):
                urls = [urls]
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                raise InputError(f"ice server: expected urls as a string or a list of strings, got {urls!r}")
            return cls(tuple(urls), spec.get("username"), spec.get("credential"))
        if not isinstance(spec, str):
            raise InputError(f"ice server: expected a URL string or a mapping, got {type(spec).__name__}")
        scheme, sep, rest = spec.partition(":")
        if not sep:
            raise InputError(f"ice server: expected SCHEME:[USER:PASS@]HOST[:PORT], got {spec!r}")
        if "@" in rest:
            auth, _, host = rest.rpartition("@")
            user, colon, password = auth.partition(":")
            if not colon:
                raise InputError(f"ice server {spec!r}: expected USER:PASS before '@'")
            return cls((f"{scheme}:{host}",), user, password)
        return cls((spec,))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
            out["credential"] = self.credential
        return out


@dataclass(frozen=True)
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    camera_size: tuple[int, int] = (640, 480)
    """What the page asks of the camera (width, height)."""
    output_size: tuple[int, int] = (640, 480)
    """Every frame sent back has this size: the input is scaled to fit and centred."""
    max_sessions: int = 4
    """Concurrent live sessions; the next offer gets 503."""
    max_offer_bytes: int = 64 * 1024
    max_message_bytes: int = 4096
    """Largest control message accepted on the data channel."""
    connect_timeout: float = 20.0
    """Seconds for a new peer connection to reach ``connected`` before it is closed."""
    idle_timeout: float = 15.0
    """Seconds without a camera frame, once connected, before the session is closed."""
    stats_interval: float = 1.0
    max_photo_bytes: int = 15 * 1024 * 1024
    max_photo_pixels: int = 40_000_000
    """Photos declaring more pixels than this in their header are refused before decoding."""
    max_photo_side: int = 2048
    """Photos larger than this (either side) are scaled down before try-on."""
    photo_decoders: int = 2
    """Photos decoded at once (off the event loop); the next ones wait their turn."""
    max_queued_photos: int = 6
    """Photos waiting or in progress; past this the next gets 503."""
    header_timeout: float = 10.0
    """Seconds for a connection to send a whole request's headers (also the idle keep-alive)."""
    body_timeout: float = 10.0
    """Seconds a request body (an offer, a photo) may stall between two pieces."""
    body_deadline: float = 120.0
    """Seconds for a request body to arrive in full (a 15 MB photo at 1 Mbit/s takes 120 s)."""
    allowed_hosts: tuple[str, ...] = ()
    """Names the ``Host`` header may carry besides loopback and the bound address (``*``: any)."""
    allowed_origins: tuple[str, ...] = ()
    """Origins (``https://shop.example``) besides the server's own allowed to post offers and photos."""
    offer_token: str | None = field(default=None, repr=False)
    """Bearer token that offers from other machines must carry; loopback needs none."""
    open_offers: bool = False
    """Accept offers from other machines without a token (a public shop behind TLS)."""
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure_expose: bool = False
    """Allow binding a non-loopback address without TLS (browsers then refuse the camera)."""
    max_look: int = 12
    """Products in one look."""
    runtime: RuntimeConfig = field(default_factory=lambda: RuntimeConfig(allow_spinning=False))
    """ONNX Runtime settings of the sessions' pipelines: spinning off and a thread pool per
    session. The pipeline shares the cores with the video codecs, which a spinning pool would
    starve; the shared pool (``shared_threads``) spins, and measured worse here
    (``benchmarks/README.md``)."""
    malloc_arenas: int | None = 2
    """glibc malloc arenas for the serving process (``tryon serve`` applies it; ``None``: glibc's
    default of 8 per core). With 2, memory freed by ended sessions collects where the trim after
    each session finds it: RSS after 40 sessions ~530 MiB instead of ~700, at the same frame rate
    (``benchmarks/README.md``, "Memory")."""
    ice_servers: tuple[IceServer, ...] = field(default_factory=tuple)
    """None by default: aiortc would otherwise use a public STUN server that a closed network
    cannot reach."""
    turn: TurnServer | None = field(default=None, repr=False)
    """A TURN server sharing a secret with this one: each page and session gets short-lived
    credentials of its own (the TURN REST scheme)."""
    ice_max_candidates: int = 16
    """Remote ICE candidates kept from an offer; the rest are dropped unchecked."""
    ice_allow_private: bool = False
    """When exposed: accept private-range candidates from offers (and gather on private
    interfaces). In loopback mode only loopback candidates are ever used."""
    ice_allowed_networks: tuple[str, ...] = ()
    """CIDRs whose candidates are accepted even though private (a TURN relay's network)."""
    host_key: str | None = field(default=None, repr=False)
    """The server host key: creates live shows (``POST /api/shows``). ``None``: no show can be
    created (``tryon serve`` generates one when neither ``TRYON_HOST_KEY`` nor a key file is set)."""
    sfu: str | None = None
    """Where shows are broadcast: ``None`` for the embedded relay, ``janus:http://host:8088/janus``
    for Janus's VideoRoom."""
    max_shows: int = 8
    """Live shows at once; the next ``POST /api/shows`` gets 503."""
    relay_viewers: int = 4
    """Viewers' media per show on the embedded relay (each costs the server an encode)."""
    max_show_viewers: int = 2000
    """Push channels (viewer pages) per show; the next gets 503."""
    max_comment_chars: int = 200
    db: str | None = None
    """Where engagement events are stored: ``sqlite:///path`` or ``postgresql://...``; ``None``:
    nowhere (the live board still works). ``tryon serve`` defaults to a SQLite file."""
    retention_days: float = 90.0
    """Stored events older than this are purged."""
    promotions: str | None = None
    """A JSON file of promotion rules (``tryon.analytics.promotions``), validated at start."""
    trace_dir: str | None = None
    """Where a session's ``trace`` control message writes its frame trace (Chrome trace-event
    JSON); ``None``: traces are refused."""

    def __post_init__(self) -> None:
        for name in ("camera_size", "output_size"):
            w, h = getattr(self, name)
            if not (16 <= w <= 3840 and 16 <= h <= 2160) or w % 2 or h % 2:
                raise InputError(f"{name}: expected even sides within 16x16..3840x2160, got {w}x{h}")
        if self.max_sessions < 1:
            raise InputError(f"max_sessions: expected at least 1, got {self.max_sessions}")
        for name in (
            "connect_timeout",
            "idle_timeout",
            "stats_interval",
            "header_timeout",
            "body_timeout",
            "body_deadline",
        ):
            if getattr(self, name) <= 0:
                raise InputError(f"{name}: expected a positive number of seconds, got {getattr(self, name)}")
        for name in ("max_shows", "relay_viewers", "max_show_viewers", "max_comment_chars"):
            if getattr(self, name) < 1:
                raise InputError(f"{name}: expected at least 1, got {getattr(self, name)}")
        if self.sfu is not None and not self.sfu.startswith("janus:http"):
            raise InputError(f"sfu: expected janus:http://host:port/janus, got {self.sfu!r}")
        if self.host_key is not None and len(self.host_key) < 16:
            raise InputError(f"host_key: expected at least 16 characters, got {len(self.host_key)}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise InputError("tls: expected both a certificate and its key, got only one")
        if not self.loopback and self.tls_cert is None and not self.insecure_expose:
            raise InputError(
                f"host {self.host!r} exposes the server beyond this machine: expected a TLS setup "
                "(--tls-cert and --tls-key) or an explicit --insecure-expose"
            )
        if self.offer_token is not None and len(self.offer_token) < 16:
            raise InputError("offer token: expected at least 16 characters, got fewer")
        if self.photo_decoders < 1 or self.max_queued_photos < 1:
            raise InputError("photo_decoders and max_queued_photos: expected at least 1")

    @property
    def loopback(self) -> bool:
        """The server listens on this machine only."""
        return is_loopback_host(self.host)

    def allowed_host_names(self) -> frozenset[str]:
        """Host names (no port, lower case) the ``Host`` header may carry."""
        names = set(LOOPBACK_NAMES)
        if self.host not in WILDCARD_HOSTS:
            host = self.host.lower()
            names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
        names.update(h.lower() for h in self.allowed_hosts)
        return frozenset(names)

    @property
    def ice_policy(self) -> IcePolicy:
        """Which remote candidates are used and which local addresses are gathered: loopback
        only while the server listens on loopback; no private ranges when exposed, unless allowed."""
        return IcePolicy.for_server(
            self.loopback,
            max_candidates=self.ice_max_candidates,
            allow_private=self.ice_allow_private,
            allowed_networks=self.ice_allowed_networks,
        )

    def rtc_configuration(self, tag: str | None = None) -> RTCConfiguration:
        servers = [RTCIceServer(list(s.urls), s.username, s.credential) for s in self.ice_servers]
        if self.turn is not None:
            servers.append(self.turn.rtc_ice_server(tag or new_session_tag()))
        return RTCConfiguration(iceServers=servers)

    def page_config(self, tag: str | None = None) -> dict[str, Any]:
        """What the page needs to know (``GET /api/config``); TURN credentials are made for
        ``tag`` (a random pseudonym per request) and expire after the TURN server's ttl."""
        ice = [s.to_json() for s in self.ice_servers]
        if self.turn is not None:
            ice.append(self.turn.ice_server_json(tag or new_session_tag()))
        return {
            "camera": {"width": self.camera_size[0], "height": self.camera_size[1]},
            "output": {"width": self.output_size[0], "height": self.output_size[1]},
            "ice_servers": ice,
            "limits": {
                "photo_bytes": self.max_photo_bytes,
                "look": self.max_look,
                "comment_chars": self.max_comment_chars,
            },
            "sfu": "janus" if self.sfu else "relay",
        }


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` → ``(640, 480)``."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise InputError(f"size: expected WIDTHxHEIGHT such as 640x480, got {text!r}")
    return int(w), int(h)


def ice_servers(specs: Sequence[str | Mapping[str, Any]]) -> tuple[IceServer, ...]:
    return tuple(IceServer.parse(s) for s in specs)
