"""Which network addresses a download may connect to, and finding them within a deadline.

A pull request can name any URL, and a listed host's DNS can be changed to point inside the
network that builds the site (``10.0.0.5``, ``169.254.169.254``, ``localhost``). So the name is
resolved once, here, an address outside those ranges is picked, the connection goes to that
literal address, and the address the socket is actually connected to is checked again
(:func:`check_peer`): no later resolution can rebind the name.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Callable

Resolver = Callable[[str, int], "list[tuple[str, int]]"]
"""``(host, port) -> [(address, port), …]``: where a name can be reached, as ``getaddrinfo`` says."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the IPv4 address is its last 32 bits


def refusal(address: str) -> str | None:
    """What kind of non-public address ``address`` is ("a private address"), or None if public.

    IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4, NAT64) are judged by it.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(str(embedded))
    for word, flag in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return f"{'an' if word[0] in 'aeiou' else 'a'} {word} address"
    return None if ip.is_global else "a non-public address"


def check_peer(sock: socket.socket, expected: str, allow_private: bool) -> str | None:
    """Why the socket's connected address may not be used (None when it may).

    The address is read from the connected socket, not from a resolution, so a name that changed
    its answer between the check and the connection cannot slip through.
    """
    peer = str(sock.getpeername()[0])
    if _same(peer, expected) is False:
        return f"connected to {peer}, not the checked address {expected}"
    reason = None if allow_private else refusal(peer)
    return f"resolves to {reason} ({peer.split('%', 1)[0]}): refused" if reason else None


def system_resolver(host: str, port: int) -> list[tuple[str, int]]:
    """The addresses of ``host`` from the system's resolver, in its order of preference."""
    found = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        pair = (str(sockaddr[0]), int(sockaddr[1]))
        if pair not in found:
            found.append(pair)
    return found


def resolve(host: str, port: int, resolver: Resolver, timeout: float) -> list[tuple[str, int]] | None:
    """``resolver(host, port)`` within ``timeout`` seconds (None when it takes longer).

    ``getaddrinfo`` has no timeout of its own; it runs on a daemon thread that is abandoned when late.
    """
    box: list[object] = []

    def run() -> None:
        try:
            box.append(resolver(host, port))
        except (OSError, UnicodeError) as exc:
            box.append(exc)

    thread = threading.Thread(target=run, name="wxcloud-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        return None
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]  # type: ignore[return-value]


def allowed(addresses: list[tuple[str, int]], allow_private: bool) -> tuple[list[tuple[str, int]], str | None]:
    """The addresses a download may try, and the first refusal (for the message when none is left)."""
    usable, first = [], None
    for address, port in addresses:
        reason = None if allow_private else refusal(address)
        if reason is None:
            usable.append((address, port))
        elif first is None:
            first = f"resolves to {reason} ({address.split('%', 1)[0]}): refused"
    return usable, first


def _same(a: str, b: str) -> bool | None:
    try:
        return ipaddress.ip_address(a.split("%", 1)[0]) == ipaddress.ip_address(b.split("%", 1)[0])
    except ValueError:
        return None
