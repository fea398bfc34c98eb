"""``--proxy-headers``: the client's address and scheme, as a trusted proxy reports them.

A proxy in front of the server (nginx, a load balancer) connects from its own
address and says who the client was in ``X-Forwarded-For`` and how the client
came (``http`` or ``https``) in ``X-Forwarded-Proto``. Anyone can send those
headers, so they are believed only from the peers ``--forwarded-allow-ips``
names. The rules are uvicorn's ``ProxyHeadersMiddleware`` (0.54):

* the trusted peers are IP addresses, networks (``10.0.0.0/8``), ``*`` for every
  peer, and ``unix`` for the peers of a Unix socket (they have no address);
  unset, ``$FORWARDED_ALLOW_IPS`` or ``127.0.0.1,::1``;
* each proxy appends the address it got the request from to
  ``X-Forwarded-For``, so the client is the rightmost entry that is not a
  trusted proxy (with ``*``, the leftmost), with its ``:port`` if one was given;
* ``X-Forwarded-Proto`` may say ``http``, ``https``, ``ws`` or ``wss``; anything
  else is ignored. A WebSocket's scheme is said as ``ws``/``wss``.

Whether the peer is trusted is decided once per connection, when it is
accepted (``TrustedProxies.trusts``); the requests of an untrusted peer do not
look at these headers at all.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence

from ..datastructures import Address

__all__ = [
    "DEFAULT_FORWARDED_ALLOW_IPS", "UNIX_PEER", "TrustedProxies", "forwarded", "trusted_proxies",
]

# uvicorn 0.54's default: the loopback addresses, IPv4 and IPv6.
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"
# What a Unix-socket peer is called: accept() gives it no address (see log.where).
UNIX_PEER = "unix"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_RIGHT = ("    right: --forwarded-allow-ips '127.0.0.1,10.0.0.0/8' "
          "(addresses, networks, unix for a Unix socket's peers, or '*')")


class TrustedProxies:
    """The peers whose ``X-Forwarded-*`` headers are believed."""

    __slots__ = ("everyone", "unix", "addresses", "networks")

    def __init__(self, spec: str) -> None:
        """Parse ``--forwarded-allow-ips``; a ValueError says what is wrong with it."""
        entries = [entry.strip() for entry in spec.split(",") if entry.strip()]
        self.everyone = "*" in entries
        if self.everyone and len(entries) > 1:
            raise ValueError(
                f"forwarded_allow_ips: '*' trusts every peer, so it stands alone, "
                f"not in {spec!r}:\n    right: --forwarded-allow-ips '*'"
            )
        self.unix = UNIX_PEER in entries
        self.addresses: set[IPAddress] = set()
        self.networks: list[IPNetwork] = []
        for entry in entries:
            if entry in ("*", UNIX_PEER):
                continue
            try:
                if "/" in entry:
                    self.networks.append(ipaddress.ip_network(entry))
                else:
                    self.addresses.add(ipaddress.ip_address(entry))
            except ValueError:
                raise ValueError(_not_an_address(entry)) from None

    def trusts(self, peer: Address | None) -> bool:
        """Whether ``peer`` (a connection's, as accept() gave it) is a trusted proxy."""
        if self.everyone:
            return True
        if peer is None:
            return False
        if peer.port == 0:  # a Unix socket's peer (see log.where)
            return self.unix
        return self._trusts_host(peer.host)

    def _trusts_host(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address in self.addresses or any(address in net for net in self.networks)

    def client_from(self, x_forwarded_for: str) -> Address | None:
        """The client an ``X-Forwarded-For`` chain names: its rightmost untrusted hop."""
        hops = [hop.strip() for hop in x_forwarded_for.split(",")]
        if not self.everyone:
            for hop in reversed(hops):
                host, port = _host_and_port(hop)
                if not self._trusts_host(host):
                    return Address(host, port) if host else None
        # '*', or every hop is a trusted proxy: the first one is the client.
        host, port = _host_and_port(hops[0])
        return Address(host, port) if host else None


def forwarded(
    headers: Sequence[tuple[bytes, bytes]], proxies: TrustedProxies,
    client: Address | None, scheme: str, *, websocket: bool = False,
) -> tuple[Address | None, str]:
    """The client and scheme of a request from a trusted proxy, given what the
    connection itself says (``client``, ``scheme``) when the headers do not."""
    proto: bytes | None = None
    chain: list[bytes] = []
    for name, value in headers:
        if name == b"x-forwarded-proto":
            proto = value  # the last one wins, as in uvicorn
        elif name == b"x-forwarded-for":
            chain.append(value)
    if proto is not None:
        said = proto.decode("latin-1").strip().lower()
        if said in _SCHEMES:
            scheme = (_WEBSOCKET_SCHEMES if websocket else _SCHEMES)[said]
    if chain:
        # Several X-Forwarded-For headers are one list (RFC 9110 section 5.3).
        named = proxies.client_from(b", ".join(chain).decode("latin-1"))
        if named is not None:  # an empty header names nobody: keep the peer
            client = named
    return client, scheme


def trusted_proxies(forwarded_allow_ips: str | None) -> TrustedProxies:
    """The trusted peers: ``--forwarded-allow-ips``, else ``$FORWARDED_ALLOW_IPS``,
    else the loopback addresses. Raises ValueError naming a bad entry."""
    if forwarded_allow_ips is None:
        forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
    return TrustedProxies(forwarded_allow_ips)


def _host_and_port(hop: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:5678`` or ``::1`` as (host, port), port 0
    when none is given; anything else is a host as written (never trusted), as uvicorn
    reads it."""
    if hop.startswith("["):
        end = hop.find("]")
        if end == -1:
            return hop, 0
        host, rest = hop[1:end], hop[end + 1:]
        if not rest:
            return host, 0
        if not rest.startswith(":"):
            return hop, 0
        return host, _port(rest[1:])
    if hop.count(":") == 1:
        host, _, port = hop.partition(":")
        number = _port(port)
        return (host, number) if number or port == "0" else (hop, 0)
    return hop, 0


def _port(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        return 0
    return number if 0 <= number <= 65535 else 0


def _not_an_address(entry: str) -> str:
    if "/" in entry:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            pass
        else:  # host bits set: say the network it meant
            return (f"forwarded_allow_ips: {entry!r} is not a network (its host bits are set); "
                    f"did you mean {str(network)!r}?\n{_RIGHT}")
    if entry.startswith("/") or entry.startswith("unix:"):
        return (f"forwarded_allow_ips: the peers of a Unix socket are trusted with the word "
                f"unix, not a path ({entry!r}):\n    right: --forwarded-allow-ips unix")
    return (f"forwarded_allow_ips: {entry!r} is not an IP address or network (host names are "
            f"not resolved):\n{_RIGHT}")
