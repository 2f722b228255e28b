"""ICE candidate policy (webrtc.ice): offers filtered line by line, the server's host addresses
restricted per context, and two aiortc peers connecting on loopback under the policy.

Addresses outside 127.0.0.0/8 (documentation ranges such as 203.0.113.5, private ranges) appear only
as text in SDP: nothing here sends them traffic (the filter drops them before any peer sees them).
"""

from __future__ import annotations

import asyncio
import contextvars

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import SessionDescription
from hypothesis import given, settings
from hypothesis import strategies as st

from tryon.errors import InputError
from webrtc.ice import (
    IcePolicy,
    address_drop_reason,
    bind_host_addresses,
    current_policy,
    filter_offer,
    host_addresses,
    install_host_address_filter,
    ipv6_loopback_available,
    original_host_addresses,
    reset_policy,
    use_policy,
)

LOOPBACK = IcePolicy("loopback")
EXPOSED = IcePolicy("exposed")
LOOPBACK_HOSTS = {"127.0.0.1"} | ({"::1"} if ipv6_loopback_available() else set())


def cand(
    address: str, port: int = 40000, *, component: int = 1, transport: str = "udp", typ: str = "host"
) -> str:
    return f"a=candidate:{port} {component} {transport} 2122260223 {address} {port} typ {typ} generation 0"


async def make_offer() -> str:
    """A real aiortc offer (video sendrecv and a data channel), gathered on loopback only."""
    with use_policy(LOOPBACK):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            pc.addTransceiver("video", direction="sendrecv")
            pc.createDataChannel("control")
            await pc.setLocalDescription(await pc.createOffer())
            sdp: str = pc.localDescription.sdp
            return sdp
        finally:
            await pc.close()


@pytest.fixture(scope="module")
def offer() -> str:
    return asyncio.run(make_offer())


def with_candidates(sdp: str, lines: list[str], eol: str = "\r\n") -> str:
    """``sdp`` with ``lines`` added before its first ``a=end-of-candidates``."""
    marker = "a=end-of-candidates" + eol
    assert marker in sdp
    return sdp.replace(marker, "".join(line + eol for line in lines) + marker, 1)


def candidate_hosts(sdp: str) -> list[str]:
    return [c.ip for m in SessionDescription.parse(sdp).media for c in m.ice_candidates]


def is_candidate_attr(line: str) -> bool:
    """Whether a parser could take ``line`` for a candidate attribute (leniently: any case, blanks)."""
    text = line.lstrip()
    return text.startswith("a=") and text[2:].partition(":")[0].strip().lower() == "candidate"


def other_lines(sdp: str) -> list[str]:
    return [line for line in sdp.splitlines(keepends=True) if not is_candidate_attr(line)]


# -- the offer filter -------------------------------------------------------------------------------


def test_aiortc_offer_passes_the_loopback_policy_unchanged(offer: str) -> None:
    assert set(candidate_hosts(offer)) == LOOPBACK_HOSTS
    out, report = filter_offer(offer, LOOPBACK)
    assert out == offer
    assert report.dropped_by_reason == {}
    assert report.kept == offer.count("a=candidate:")


def test_200_candidates_keep_the_first_16(offer: str) -> None:
    extra = [cand(f"203.0.113.{i % 250 + 1}", 10000 + i) for i in range(200)]
    out, report = filter_offer(with_candidates(offer, extra), EXPOSED)
    own = offer.count("a=candidate:")  # aiortc's own loopback candidates: dropped in exposed mode
    assert report.kept == 16
    assert report.dropped_by_reason == {"loopback": own, "over_limit": 200 - 16}
    assert candidate_hosts(out) == [f"203.0.113.{i + 1}" for i in range(16)]
    _, report = filter_offer(with_candidates(offer, extra), IcePolicy("exposed", max_candidates=3))
    assert report.kept == 3


def test_loopback_mode_keeps_only_loopback(offer: str) -> None:
    extra = [
        cand("127.0.0.5"),
        cand("::1"),
        cand("203.0.113.5"),
        cand("10.0.0.1"),
        cand("192.0.2.2"),
        cand("::ffff:127.0.0.1"),
        cand("fe80::1"),
        cand("0.0.0.0"),
        cand("3f2504e0-4f89-11d3-9a0c-0305e82c3301.local"),
        cand("localhost"),
    ]
    out, report = filter_offer(with_candidates(offer, extra), LOOPBACK)
    hosts = candidate_hosts(out)
    assert set(hosts) == LOOPBACK_HOSTS | {"127.0.0.5", "::1"}
    assert report.dropped_by_reason == {"not_loopback": 6, "mdns": 1, "hostname": 1}


def test_exposed_mode_drops_special_and_private_ranges(offer: str) -> None:
    dropped = {
        "10.1.2.3": "private",
        "192.168.1.10": "private",
        "172.16.0.1": "private",
        "172.31.255.254": "private",
        "100.64.0.1": "private",
        "fd00::2": "private",
        "::ffff:10.0.0.1": "private",
        "169.254.1.1": "link_local",
        "fe80::1": "link_local",
        "224.0.0.251": "multicast",
        "ff02::fb": "multicast",
        "0.0.0.0": "unspecified",
        "::": "unspecified",
        "127.0.0.1": "loopback",
        "::1": "loopback",
        "255.255.255.255": "reserved",
        "fe80::1%eth0": "scoped",
        "turn.example.com": "hostname",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301.local": "mdns",
    }
    kept = ["203.0.113.5", "198.51.100.7", "172.32.0.1", "2001:db8::5", "192.0.2.2"]
    lines = [cand(a, 20000 + i) for i, a in enumerate([*dropped, *kept])]
    out, _ = filter_offer(with_candidates(offer, lines), EXPOSED)
    assert candidate_hosts(out) == kept
    for address, reason in dropped.items():
        assert address_drop_reason(address, EXPOSED) == reason, address


def test_exposed_mode_private_when_allowed(offer: str) -> None:
    private = ["10.1.2.3", "192.168.1.10", "172.16.0.1", "100.64.0.1", "fd00::2"]
    mdns = "3f2504e0-4f89-11d3-9a0c-0305e82c3301.local"
    lines = [cand(a, 30000 + i) for i, a in enumerate([*private, mdns, "169.254.1.1", "127.0.0.1"])]
    out, report = filter_offer(with_candidates(offer, lines), IcePolicy("exposed", allow_private=True))
    assert candidate_hosts(out) == [*private, mdns]
    assert report.dropped_by_reason == {"link_local": 1, "loopback": 1 + offer.count("a=candidate:")}
    narrow = IcePolicy("exposed", allowed_networks=("10.1.0.0/16", "fd00::/8"))
    out, _ = filter_offer(with_candidates(offer, lines), narrow)
    assert candidate_hosts(out) == ["10.1.2.3", "fd00::2"]  # mDNS names need allow_private


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (cand("203.0.113.5", transport="tcp") + " tcptype active", "transport"),
        (cand("203.0.113.5", component=3), "component"),
        (cand("203.0.113.5", component=0), "component"),
        (cand("203.0.113.5", port=0), "port"),
        ("a=candidate:1 1 udp 2122260223 203.0.113.5 70000 typ host", "port"),
        (cand("203.0.113.5", typ="weird"), "type"),
        ("a=candidate", "malformed"),
        ("a=candidate:", "malformed"),
        ("a=candidate:1 1 udp 2122260223 203.0.113.5", "malformed"),
        ("a=candidate:1 1 udp 2122260223 203.0.113.5 9 type host", "malformed"),
        ("a=candidate:1 x udp 2122260223 203.0.113.5 9 typ host", "malformed"),
        ("a=candidate:1 1 udp 99999999999 203.0.113.5 9 typ host", "malformed"),
        ("a=candidate:1 1 udp 1  203.0.113.5 9 typ host", "malformed"),
        ("a=candidate:1 1 udp 1 203.0.113.5 9 typ host generation", "malformed"),
        ("a=candidate:1 1 udp 1 203.0.113.5 9 typ srflx raddr host.example rport 9", "malformed"),
        ("a=candidate:1 1 udp 1 203.0.113.5 9 typ srflx raddr 0.0.0.0 rport x", "malformed"),
        ("a=candidate:1 1 udp 1 203.0.113.5 9 typ host \x00", "malformed"),
        ("a=candidate:1 1 udp 1 203.0.113.5 9\ttyp host", "malformed"),
        ("a=candidate:1 1 udp 1 bad_host! 9 typ host", "malformed"),
        ("a=Candidate:1 1 udp 1 203.0.113.5 9 typ host", "malformed"),
        (" a=candidate:1 1 udp 1 203.0.113.5 9 typ host", "malformed"),
        ("a=candidate :1 1 udp 1 203.0.113.5 9 typ host", "malformed"),
        ("a=candidate:1 1 udp 1 203.0.113.5 9 typ host ufrag " + "x" * 600, "malformed"),
    ],
)
def test_bad_candidate_lines_dropped(offer: str, line: str, reason: str) -> None:
    out, report = filter_offer(with_candidates(offer, [line]), EXPOSED)
    assert report.dropped_by_reason.get(reason) == 1
    assert line not in out
    assert "203.0.113.5" not in candidate_hosts(out)
    SessionDescription.parse(out)


def test_extensions_kept(offer: str) -> None:
    line = (
        "a=candidate:842163049 1 udp 1677729535 203.0.113.5 46154 typ srflx raddr 0.0.0.0 rport 0 "
        "generation 0 ufrag sP7R network-cost 999"
    )
    out, report = filter_offer(with_candidates(offer, [line]), EXPOSED)
    assert report.kept == 1
    assert line + "\r\n" in out


def test_a_line_break_parsers_see_is_a_line_break(offer: str) -> None:
    # aiortc splits with str.splitlines: \x0b, \x0c, \x1c, \u2028 ... end lines too.
    for sep in ["\x0b", "\x0c", "\x1c", "\x85", "\u2028"]:
        hidden = "a=sendrecv" + sep + cand("10.9.8.7")
        out, report = filter_offer(with_candidates(offer, [hidden]), EXPOSED)
        assert report.dropped_by_reason.get("private") == 1
        assert "10.9.8.7" not in out
        assert "10.9.8.7" not in candidate_hosts(out)


def test_other_lines_byte_identical_crlf_and_lf(offer: str) -> None:
    extra = [cand("203.0.113.5"), cand("10.0.0.1"), "a=candidate:garbage"]
    for sdp in [with_candidates(offer, extra), with_candidates(offer.replace("\r\n", "\n"), extra, "\n")]:
        out, report = filter_offer(sdp, EXPOSED)
        assert other_lines(out) == other_lines(sdp)
        assert out.count("a=end-of-candidates") == sdp.count("a=end-of-candidates") == 2
        assert ("\r\n" in out) == ("\r\n" in sdp)
        assert report.kept == 1
    out, _ = filter_offer(offer + cand("127.0.0.9"), LOOPBACK)  # last line without an end
    assert out.endswith(cand("127.0.0.9"))
    assert filter_offer("", LOOPBACK) == ("", filter_offer("", LOOPBACK)[1])


@pytest.mark.parametrize("sdp", [None, b"v=0\r\n", 42, ["v=0"]])
def test_non_str_sdp_is_input_error(sdp: object) -> None:
    with pytest.raises(InputError, match="sdp"):
        filter_offer(sdp, LOOPBACK)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "public"},
        {"mode": "exposed", "max_candidates": 0},
        {"mode": "exposed", "max_candidates": True},
        {"mode": "exposed", "allowed_networks": ("10.0.0.1/8",)},
        {"mode": "exposed", "allowed_networks": ("not-a-cidr",)},
        {"mode": "exposed", "allowed_networks": "10.0.0.0/8"},
    ],
)
def test_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError, match="ice policy"):
        IcePolicy(**kwargs)  # type: ignore[arg-type]


def test_for_server() -> None:
    assert IcePolicy.for_server(True) == LOOPBACK
    assert IcePolicy.for_server(False, allow_private=True) == IcePolicy("exposed", allow_private=True)


# Characters str.splitlines() breaks at: a generated "line" must not contain them.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
TEXT = st.text(st.characters(blacklist_characters=BREAKS), max_size=80)
TOKEN = st.one_of(
    st.sampled_from(
        ["udp", "UDP", "tcp", "typ", "host", "srflx", "relay", "raddr", "rport", "generation", ""]
    ),
    st.integers(-5, 2**33).map(str),
    st.ip_addresses().map(str),
    st.sampled_from(["x.local", "a.example", "0.0.0.0", "::", "127.0.0.1", "fe80::1%1"]),
    TEXT,
)
STRUCTURED = st.builds(
    lambda head, parts, tail: head + " ".join(parts) + tail,
    st.sampled_from(["a=candidate:", "a=candidate:1 ", "a=candidate:", "a=candidate", " a=candidate:"]),
    st.lists(TOKEN, min_size=0, max_size=14),
    st.sampled_from(["", " ", "  "]),
)
PLAUSIBLE = st.builds(
    lambda f, c, t, p, a, port, typ, ext: f"a=candidate:{f} {c} {t} {p} {a} {port} typ {typ}{ext}",
    st.from_regex(r"[A-Za-z0-9+/]{1,33}", fullmatch=True),
    st.integers(0, 4),
    st.sampled_from(["udp", "UDP", "tcp"]),
    st.integers(0, 2**32),
    st.one_of(st.ip_addresses().map(str), st.sampled_from(["x.local", "host.example"])),
    st.integers(0, 70000),
    st.sampled_from(["host", "srflx", "prflx", "relay", "other"]),
    st.sampled_from(["", " generation 0", " raddr 0.0.0.0 rport 0", " raddr x rport 1", " generation"]),
)
POLICIES = st.sampled_from(
    [LOOPBACK, EXPOSED, IcePolicy("exposed", allow_private=True, max_candidates=4), IcePolicy("loopback", 2)]
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.one_of(PLAUSIBLE, STRUCTURED, TEXT.map(lambda t: "a=candidate:" + t)), max_size=12),
    policy=POLICIES,
)
def test_fuzzed_candidate_lines_never_raise(offer: str, lines: list[str], policy: IcePolicy) -> None:
    sdp = with_candidates(offer, lines)
    out, report = filter_offer(sdp, policy)
    parsed = SessionDescription.parse(out)
    hosts = [c.ip for m in parsed.media for c in m.ice_candidates]
    assert len(hosts) == report.kept <= policy.max_candidates
    assert all(address_drop_reason(h, policy) is None for h in hosts)
    assert other_lines(out) == other_lines(sdp)
    assert report.kept + report.dropped == sum(map(is_candidate_attr, sdp.splitlines()))


# -- the server's host addresses ---------------------------------------------------------------------


@pytest.fixture
def installed() -> None:
    install_host_address_filter()


def fake_gather(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    v4 = ["192.0.2.2", "10.0.0.5", "203.0.113.9", "127.0.0.1", "169.254.3.3"] if use_ipv4 else []
    return v4 + (["fd00::2", "2001:db8::9", "fe80::1"] if use_ipv6 else [])


def test_host_addresses_by_policy() -> None:
    assert host_addresses(LOOPBACK, True, False, fake_gather) == ["127.0.0.1"]
    assert host_addresses(LOOPBACK, True, True, fake_gather) == sorted(LOOPBACK_HOSTS)
    assert host_addresses(LOOPBACK, False, False, fake_gather) == []
    assert host_addresses(EXPOSED, True, True, fake_gather) == ["192.0.2.2", "203.0.113.9", "2001:db8::9"]
    private = IcePolicy("exposed", allow_private=True)
    assert host_addresses(private, True, True, fake_gather) == [
        "192.0.2.2",
        "10.0.0.5",
        "203.0.113.9",
        "fd00::2",
        "2001:db8::9",
    ]
    narrow = IcePolicy("exposed", allowed_networks=("10.0.0.0/24",))
    assert host_addresses(narrow, True, False, fake_gather) == ["192.0.2.2", "10.0.0.5", "203.0.113.9"]


def test_outside_a_policy_aioice_is_unchanged(installed: None) -> None:
    original = original_host_addresses()
    assert (original.__module__, original.__name__) == ("aioice.ice", "get_host_addresses")
    assert aioice.ice.get_host_addresses is not original
    assert current_policy() is None
    for v4, v6 in [(True, True), (True, False), (False, True)]:
        assert aioice.ice.get_host_addresses(use_ipv4=v4, use_ipv6=v6) == original(use_ipv4=v4, use_ipv6=v6)
    wrapper = aioice.ice.get_host_addresses
    install_host_address_filter()
    assert aioice.ice.get_host_addresses is wrapper  # idempotent


@pytest.mark.asyncio
async def test_policy_follows_the_context(installed: None) -> None:
    def gathered() -> list[str]:
        return aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)

    async def in_task() -> list[str]:
        return gathered()

    original = original_host_addresses()(use_ipv4=True, use_ipv6=False)
    release = asyncio.Event()

    async def bystander() -> list[str]:  # started before the policy: keeps aioice's behaviour
        await release.wait()
        return gathered()

    other = asyncio.create_task(bystander())
    with use_policy(LOOPBACK):
        assert current_policy() is LOOPBACK
        assert gathered() == ["127.0.0.1"]
        assert await asyncio.create_task(in_task()) == ["127.0.0.1"]  # tasks inherit it
        with use_policy(EXPOSED):
            assert gathered() == [a for a in original if address_drop_reason(a, EXPOSED) is None]
        assert current_policy() is LOOPBACK
        release.set()
        assert await other == original
    assert current_policy() is None
    assert gathered() == original
    token = bind_host_addresses(LOOPBACK)
    assert contextvars.copy_context().run(current_policy) is LOOPBACK
    reset_policy(token)
    assert current_policy() is None


# -- two aiortc peers on loopback -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_peers_connect_on_loopback_under_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client stands in for a browser with loopback candidates: aioice patched to gather
    # 127.0.0.1 (the notes: aioice leaves loopback out). The server's wrapper wraps that patch, and
    # under the loopback policy never calls it: calls made under a policy are recorded to check.
    calls_under_policy: list[object] = []

    def client_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if current_policy() is not None:
            calls_under_policy.append(current_policy())
        return ["127.0.0.1"]

    monkeypatch.setattr(aioice.ice, "get_host_addresses", client_addresses)
    install_host_address_filter()
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        channel = client.createDataChannel("control")
        client.addTransceiver("video", direction="sendrecv")
        opened = asyncio.Event()
        replies: asyncio.Queue[str] = asyncio.Queue()
        channel.on("open", opened.set)
        channel.on("message", replies.put_nowait)

        @server.on("datachannel")
        def on_channel(ch: object) -> None:
            ch.on("message", lambda m: ch.send(f"echo:{m}"))  # type: ignore[attr-defined]

        await client.setLocalDescription(await client.createOffer())
        assert candidate_hosts(client.localDescription.sdp) == ["127.0.0.1", "127.0.0.1"]
        # Candidates the client could add to aim the server's checks elsewhere: filtered out.
        offer = with_candidates(client.localDescription.sdp, [cand("203.0.113.5"), cand("10.0.0.1")])
        offer, report = filter_offer(offer, LOOPBACK)
        assert report.dropped_by_reason == {"not_loopback": 2}
        assert "203.0.113.5" not in offer

        async def negotiate() -> str:  # as the server's request handler task would
            with use_policy(LOOPBACK):
                await server.setRemoteDescription(RTCSessionDescription(offer, "offer"))
                await server.setLocalDescription(await server.createAnswer())
            answer: str = server.localDescription.sdp
            return answer

        answer = await asyncio.create_task(negotiate())
        hosts = candidate_hosts(answer)
        assert hosts
        assert set(hosts) == LOOPBACK_HOSTS
        assert all(c.type == "host" for m in SessionDescription.parse(answer).media for c in m.ice_candidates)
        assert calls_under_policy == []
        await client.setRemoteDescription(RTCSessionDescription(answer, "answer"))

        await asyncio.wait_for(opened.wait(), timeout=20)
        assert client.connectionState == server.connectionState == "connected"
        channel.send("ping")
        assert await asyncio.wait_for(replies.get(), timeout=10) == "echo:ping"
    finally:
        await client.close()
        await server.close()
