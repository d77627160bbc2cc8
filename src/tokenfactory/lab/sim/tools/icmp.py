"""ICMP echo for hccn_tool -ping: a raw socket as root, the unprivileged ping socket otherwise."""

from __future__ import annotations

import os
import select
import socket
import struct
import time

_ECHO_REQUEST = 8
_ECHO_REPLY = 0
_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
_PAYLOAD = b"tokenfactory simulator hccn_tool ping"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo(target: str, source: str | None, count: int = 3, timeout: float = 1.0) -> list[float | None]:
    """Round-trip time in ms of each echo request, None for a lost one; binds to source when given."""
    try:
        sock, raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), True
    except PermissionError:
        sock, raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP), False
    with sock:
        if source:
            sock.bind((source, 0))
        ident = os.getpid() & 0xFFFF
        return [_echo_once(sock, target, raw=raw, ident=ident, seq=seq, timeout=timeout) for seq in range(count)]


def _echo_once(sock: socket.socket, target: str, *, raw: bool, ident: int, seq: int, timeout: float) -> float | None:
    unsigned = _HEADER.pack(_ECHO_REQUEST, 0, 0, ident, seq) + _PAYLOAD
    packet = _HEADER.pack(_ECHO_REQUEST, 0, _checksum(unsigned), ident, seq) + _PAYLOAD
    start = time.monotonic()
    try:
        sock.sendto(packet, (target, 0))
    except OSError:
        return None
    while (remaining := start + timeout - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], remaining)
        if not ready:
            return None
        data, (address, _) = sock.recvfrom(4096)
        if raw:  # a raw socket hands over the IP header too, and every ICMP packet of the host
            data = data[(data[0] & 0x0F) * 4 :]
        if len(data) < _HEADER.size:
            continue
        kind, _, _, reply_ident, reply_seq = _HEADER.unpack(data[: _HEADER.size])
        # the kernel rewrites the identifier of a ping socket, so only a raw socket can match on it
        if kind == _ECHO_REPLY and reply_seq == seq and address == target and (reply_ident == ident or not raw):
            return (time.monotonic() - start) * 1000
    return None
