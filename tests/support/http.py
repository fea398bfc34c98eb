"""HTTP/1.1 on the wire, with no I/O: build requests, parse responses.

``request()`` writes exactly the bytes it is given, never a framing header of
its own, so a test that sends a bad head says so in full.

``ResponseParser`` reads a server's responses out of a byte buffer, one at a
time, with h11 playing the client: a response is only accepted if a real
client would accept it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import h11

__all__ = ["HTTPResponse", "ResponseParser", "parse_response", "raw_header_names", "request"]


def request(
    method: str,
    target: str = "/",
    *headers: str,
    body: bytes = b"",
    version: str = "1.1",
    host: str | None = "test",
) -> bytes:
    """``METHOD target HTTP/version``, ``Host: host`` (unless None), ``headers``, then ``body``.

    No Content-Length or Transfer-Encoding is added: pass the ones you mean.
    """
    lines = [f"{method} {target} HTTP/{version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class HTTPResponse:
    status: int
    reason: bytes
    http_version: bytes
    headers: list[tuple[bytes, bytes]]  # lower-case names, in the order sent
    body: bytes
    informational: list[int] = field(default_factory=list)  # e.g. [100]

    def header(self, name: bytes) -> bytes | None:
        """The value of the one header ``name``; fails if it was sent twice."""
        values = self.header_values(name)
        assert len(values) <= 1, f"{name!r} sent {len(values)} times: {values}"
        return values[0] if values else None

    def header_values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


class ResponseParser:
    """Parses a server's responses out of a byte buffer, one at a time, with h11.

    h11 needs to know the method a response answers (a response to HEAD has no
    body), so each call names it. A fresh client-side ``h11.Connection`` parses
    each response; the bytes after it stay buffered for the next one.
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.closed = False  # the server closed its side

    def feed(self, data: bytes) -> None:
        """Bytes read from the server; ``b""`` means it closed the connection."""
        if data:
            self.buffer += data
        else:
            self.closed = True

    def next_response(self, method: str = "GET") -> HTTPResponse | None:
        """The next complete response, or None if more bytes are needed."""
        client = h11.Connection(h11.CLIENT)
        client.send(h11.Request(method=method, target="/", headers=[("Host", "test")]))
        client.send(h11.EndOfMessage())
        if self.buffer:  # h11 takes b"" to mean the peer closed
            client.receive_data(self.buffer)
        if self.closed:
            client.receive_data(b"")
        informational: list[int] = []
        head: h11.Response | None = None
        body: list[bytes] = []
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                if self.closed:
                    raise AssertionError(
                        f"the server closed the connection mid-response; got {self.buffer!r}"
                    )
                return None
            if isinstance(event, h11.InformationalResponse):
                informational.append(event.status_code)
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                self.buffer = client.trailing_data[0]
                return HTTPResponse(
                    status=head.status_code,
                    reason=bytes(head.reason),
                    http_version=bytes(head.http_version),
                    headers=[(bytes(k), bytes(v)) for k, v in head.headers],
                    body=b"".join(body),
                    informational=informational,
                )
            else:
                raise AssertionError(f"unexpected event {event!r} in {self.buffer!r}")

    def take_until(self, marker: bytes) -> bytes | None:
        """The buffered bytes up to and including ``marker``, or None if it has not come."""
        head, found, rest = self.buffer.partition(marker)
        if not found:
            return None
        self.buffer = rest
        return head + marker

    def take_all(self) -> bytes:
        data, self.buffer = self.buffer, b""
        return data


def parse_response(data: bytes, method: str = "GET") -> HTTPResponse:
    """The one complete response in ``data`` (nothing may follow it)."""
    parser = ResponseParser()
    parser.feed(data)
    response = parser.next_response(method)
    assert response is not None, f"incomplete response: {data!r}"
    assert parser.buffer == b"", f"bytes after the response: {parser.buffer!r}"
    return response


def raw_header_names(data: bytes) -> list[bytes]:
    """The lower-cased field names of the first response head in ``data``, as sent.

    h11 folds a repeated Content-Length into one, so duplicates are checked here.
    """
    head = data.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:]]
