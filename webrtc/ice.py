"""ICE candidate policy: which remote candidates an offer may bring, which local addresses the server
gathers.

Two halves, both driven by one :class:`IcePolicy`:

* :func:`filter_offer` rewrites an offer's SDP text, keeping only the ``a=candidate`` lines the policy
  allows (and at most ``max_candidates`` of them). Unfiltered, every remote candidate becomes ICE
  connectivity checks from every local candidate: an offer with 200 candidates made the server send
  1,200 STUN requests to addresses and ports the client chose.
* :func:`use_policy` / :func:`bind_host_addresses` restrict the addresses the server binds its media
  sockets to (and so announces in its answer). aioice gathers host candidates through the module
  function ``aioice.ice.get_host_addresses``, called from ``Connection.gather_candidates`` when
  aiortc's ``setLocalDescription`` gathers. A wrapper installed once around that function asks a
  :class:`contextvars.ContextVar` for the current policy.

Why a ContextVar rather than replacing the function outright: the function is process-wide, while the
policy belongs to the server's own peers. asyncio copies the current context into every task it
creates (``asyncio.gather`` in aiortc's gathering included), so a negotiation that sets the policy
before ``setLocalDescription`` gathers under it, and every other peer in the same process (a test's
client, a probe, another application) keeps aioice's own behaviour.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, TypeAlias

import aioice.ice

from tryon.errors import InputError

logger = logging.getLogger(__name__)

Mode: TypeAlias = Literal["loopback", "exposed"]
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
HostAddresses: TypeAlias = Callable[[bool, bool], list[str]]

# Reasons a candidate line is dropped (the keys of FilterReport.dropped_by_reason).
MALFORMED = "malformed"
TRANSPORT = "transport"
COMPONENT = "component"
PORT = "port"
TYPE = "type"
NOT_LOOPBACK = "not_loopback"
LOOPBACK = "loopback"
UNSPECIFIED = "unspecified"
LINK_LOCAL = "link_local"
MULTICAST = "multicast"
RESERVED = "reserved"
PRIVATE = "private"
SCOPED = "scoped"
MDNS = "mdns"
HOSTNAME = "hostname"
OVER_LIMIT = "over_limit"

MAX_LINE_CHARS = 512
CANDIDATE_TYPES = frozenset({"host", "srflx", "prflx", "relay"})

_FOUNDATION = re.compile(r"[A-Za-z0-9+/]{1,32}")
_DIGITS = re.compile(r"[0-9]{1,10}")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`{|}~]{1,64}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
# Extensions whose value aioice or aiortc parse as an integer, with their upper bound.
_INT_EXTENSIONS = {"rport": 65535, "generation": 0xFFFFFFFF, "network-id": 0xFFFFFFFF, "network-cost": 0xFFFF}

_V4_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), kind)
    for net, kind in (
        ("0.0.0.0/8", UNSPECIFIED),
        ("127.0.0.0/8", LOOPBACK),
        ("169.254.0.0/16", LINK_LOCAL),
        ("224.0.0.0/4", MULTICAST),
        ("240.0.0.0/4", RESERVED),  # includes 255.255.255.255
        ("10.0.0.0/8", PRIVATE),
        ("172.16.0.0/12", PRIVATE),
        ("192.168.0.0/16", PRIVATE),
        ("100.64.0.0/10", PRIVATE),  # carrier-grade NAT
    )
)
_V6_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), kind)
    for net, kind in (
        ("::/128", UNSPECIFIED),
        ("::1/128", LOOPBACK),
        ("fe80::/10", LINK_LOCAL),
        ("ff00::/8", MULTICAST),
        ("fc00::/7", PRIVATE),  # unique local
        ("fec0::/10", PRIVATE),  # deprecated site-local
        ("::/8", RESERVED),  # IPv4-compatible and other reserved forms (mapped ones are checked as IPv4)
    )
)


@dataclass(frozen=True)
class IcePolicy:
    """Which candidate addresses the server accepts from offers and gathers itself.

    ``loopback``: 127.0.0.0/8 and ::1 only (a server bound to loopback, tests). ``exposed``: no
    loopback, link-local, multicast, unspecified or reserved addresses, and no private ranges (10/8,
    172.16/12, 192.168/16, 100.64/10, fc00::/7) unless ``allow_private`` or the address lies in one of
    ``allowed_networks`` (CIDRs, only consulted in exposed mode). mDNS names (``*.local``) are kept
    only in exposed mode with ``allow_private``; other host names never (the server would resolve
    them on the client's behalf).
    """

    mode: Mode
    max_candidates: int = 16
    """Candidate lines kept per offer, in total over all media sections (the first ones win)."""
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in ("loopback", "exposed"):
            raise InputError(f"ice policy: mode: expected 'loopback' or 'exposed', got {self.mode!r}")
        n = self.max_candidates
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise InputError(f"ice policy: max_candidates: expected an integer in 1..1000, got {n!r}")
        if not isinstance(self.allowed_networks, tuple):
            raise InputError(
                "ice policy: allowed_networks: expected a tuple of CIDR strings, "
                f"got {type(self.allowed_networks).__name__}"
            )
        networks = []
        for cidr in self.allowed_networks:
            try:
                networks.append(ipaddress.ip_network(cidr))
            except (TypeError, ValueError) as exc:
                raise InputError(f"ice policy: allowed_networks: {cidr!r} is not a CIDR: {exc}") from None
        object.__setattr__(self, "_networks", tuple(networks))

    @classmethod
    def for_server(
        cls,
        loopback: bool,
        *,
        max_candidates: int = 16,
        allow_private: bool = False,
        allowed_networks: tuple[str, ...] = (),
    ) -> IcePolicy:
        """The policy for a server bound to loopback (``ServerConfig.loopback``) or not."""
        mode: Mode = "loopback" if loopback else "exposed"
        return cls(mode, max_candidates, allow_private, allowed_networks)

    def allows_private(self, ip: IPAddress) -> bool:
        return self.allow_private or any(ip.version == net.version and ip in net for net in self._networks)


@dataclass(frozen=True)
class FilterReport:
    """What :func:`filter_offer` did: candidate lines kept, and dropped per reason."""

    kept: int
    dropped_by_reason: dict[str, int]

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by_reason.values())


# -- addresses --------------------------------------------------------------------------------------


def _classify(ip: IPAddress) -> str | None:
    """The special range ``ip`` lies in (one of the reasons above), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for net, kind in _V4_RANGES if ip.version == 4 else _V6_RANGES:
        if ip in net:
            return kind
    return None


def _is_hostname(name: str) -> bool:
    labels = name[:-1].split(".") if name.endswith(".") else name.split(".")
    return len(name) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def address_drop_reason(address: str, policy: IcePolicy) -> str | None:
    """Why ``policy`` rules out the candidate address ``address``, or None if it allows it."""
    if "%" in address:
        return SCOPED
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        if not _is_hostname(address):
            return MALFORMED
        if address.lower().rstrip(".").endswith(".local"):
            return None if policy.mode == "exposed" and policy.allow_private else MDNS
        return HOSTNAME
    if policy.mode == "loopback":
        if (ip.version == 4 and ip.is_loopback) or ip == ipaddress.IPv6Address("::1"):
            return None
        return NOT_LOOPBACK
    kind = _classify(ip)
    if kind == PRIVATE:
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if policy.allows_private(mapped or ip):
            return None
    return kind


# -- SDP --------------------------------------------------------------------------------------------


def _candidate_value(body: str) -> str | None:
    """The attribute value if ``body`` (a line without its end) is a candidate line, else None.

    Lenient in recognising (leading blanks, any case, no colon) so that nothing a parser could read
    as a candidate slips through; :func:`candidate_drop_reason` then insists on the exact form.
    """
    stripped = body.lstrip()
    if not stripped.startswith("a="):
        return None
    name, colon, value = stripped[2:].partition(":")
    if name.strip().lower() != "candidate":
        return None
    if not colon or stripped != body or name != "candidate":
        return ""  # recognised, but not exactly "a=candidate:": checked as an empty (malformed) value
    return value


def _check_extensions(tokens: list[str]) -> bool:
    if len(tokens) % 2:
        return False
    for name, value in zip(tokens[::2], tokens[1::2], strict=True):
        if not _TOKEN.fullmatch(name) or len(value) > 255:
            return False
        if name in _INT_EXTENSIONS and not (_DIGITS.fullmatch(value) and int(value) <= _INT_EXTENSIONS[name]):
            return False
        if name == "raddr":
            try:
                ipaddress.ip_address(value)
            except ValueError:
                return False
    return True


def candidate_drop_reason(value: str, policy: IcePolicy) -> str | None:
    """Why ``policy`` drops the candidate attribute ``value`` (after ``a=candidate:``), or None."""
    if len(value) > MAX_LINE_CHARS or not _PRINTABLE.fullmatch(value):
        return MALFORMED
    tokens = value.split(" ")
    if len(tokens) < 8 or tokens[6] != "typ" or "" in tokens:
        return MALFORMED
    foundation, component, transport, priority, address, port, _, kind = tokens[:8]
    if not (
        _FOUNDATION.fullmatch(foundation)
        and _DIGITS.fullmatch(component)
        and _DIGITS.fullmatch(priority)
        and int(priority) <= 0xFFFFFFFF
        and _DIGITS.fullmatch(port)
        and _TOKEN.fullmatch(transport)
        and _TOKEN.fullmatch(kind)
        and _check_extensions(tokens[8:])
    ):
        return MALFORMED
    if transport.lower() != "udp":
        return TRANSPORT
    if not 1 <= int(component) <= 2:
        return COMPONENT
    if not 1 <= int(port) <= 65535:
        return PORT
    if kind not in CANDIDATE_TYPES:
        return TYPE
    return address_drop_reason(address, policy)


def filter_offer(sdp: str, policy: IcePolicy) -> tuple[str, FilterReport]:
    """``sdp`` with only the candidate lines ``policy`` allows, at most ``policy.max_candidates``.

    Works line by line, splitting where aiortc's parser does (``str.splitlines``), so every other line
    and every line ending stays byte-identical; ``a=end-of-candidates`` is kept. A malformed
    candidate line is dropped and counted; nothing raises but a non-str ``sdp`` (InputError).
    """
    if not isinstance(sdp, str):
        raise InputError(f"sdp: expected the SDP text as str, got {type(sdp).__name__}")
    if not isinstance(policy, IcePolicy):
        raise InputError(f"ice policy: expected an IcePolicy, got {type(policy).__name__}")
    out: list[str] = []
    kept = 0
    dropped: Counter[str] = Counter()
    for line in sdp.splitlines(keepends=True):
        value = _candidate_value((line.splitlines() or [""])[0])
        if value is None:
            out.append(line)
            continue
        reason = candidate_drop_reason(value, policy)
        if reason is None and kept >= policy.max_candidates:
            reason = OVER_LIMIT
        if reason is not None:
            dropped[reason] += 1
            continue
        kept += 1
        out.append(line)
    report = FilterReport(kept, dict(dropped))
    if report.dropped:
        # Counts only: candidate addresses are the client's network addresses, not for the log.
        logger.info("offer: kept %d ICE candidates, dropped %s", kept, dict(sorted(dropped.items())))
    return "".join(out), report


# -- gathering --------------------------------------------------------------------------------------

_POLICY: contextvars.ContextVar[IcePolicy | None] = contextvars.ContextVar("tryon_ice_policy", default=None)
_WRAPS = "_tryon_ice_policy_wraps"
_install_lock = threading.Lock()


@lru_cache(maxsize=1)
def ipv6_loopback_available() -> bool:
    """Whether a socket can bind ::1 here (binding sends nothing)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def host_addresses(policy: IcePolicy, use_ipv4: bool, use_ipv6: bool, gather: HostAddresses) -> list[str]:
    """The addresses to bind host candidates to under ``policy``; ``gather`` is aioice's function."""
    if policy.mode == "loopback":
        out = ["127.0.0.1"] if use_ipv4 else []
        if use_ipv6 and ipv6_loopback_available():
            out.append("::1")
        return out
    return [a for a in gather(use_ipv4, use_ipv6) if address_drop_reason(a, policy) is None]


def original_host_addresses() -> HostAddresses:
    """The ``get_host_addresses`` the policy wrapper delegates to (aioice's own unless patched)."""
    current = aioice.ice.get_host_addresses
    wrapped: HostAddresses = getattr(current, _WRAPS, current)
    return wrapped


def install_host_address_filter() -> None:
    """Wrap ``aioice.ice.get_host_addresses`` once (idempotent; wraps whatever is there now)."""
    with _install_lock:
        current = aioice.ice.get_host_addresses
        if getattr(current, _WRAPS, None) is not None:
            return

        def policed(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            policy = _POLICY.get()
            if policy is None:
                return current(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
            return host_addresses(
                policy, use_ipv4, use_ipv6, lambda v4, v6: current(use_ipv4=v4, use_ipv6=v6)
            )

        setattr(policed, _WRAPS, current)
        aioice.ice.get_host_addresses = policed
        logger.debug("aioice host addresses now follow the ICE policy of the current context")


def current_policy() -> IcePolicy | None:
    return _POLICY.get()


def bind_host_addresses(policy: IcePolicy) -> contextvars.Token[IcePolicy | None]:
    """Install the wrapper (once) and make ``policy`` the current context's; returns the token for
    ``reset_policy``. Set it in the task that calls ``setLocalDescription`` (or an outer one)."""
    if not isinstance(policy, IcePolicy):
        raise InputError(f"ice policy: expected an IcePolicy, got {type(policy).__name__}")
    install_host_address_filter()
    return _POLICY.set(policy)


def reset_policy(token: contextvars.Token[IcePolicy | None]) -> None:
    _POLICY.reset(token)


@contextmanager
def use_policy(policy: IcePolicy) -> Iterator[IcePolicy]:
    """``with use_policy(p): await pc.setLocalDescription(...)``: gather under ``p``, in this task
    and the tasks it starts, and restore the previous policy afterwards."""
    token = bind_host_addresses(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)
