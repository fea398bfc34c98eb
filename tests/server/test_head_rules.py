"""The head rules table (``framing.HEAD_RULES``) against the tests that apply it.

``check_head`` keeps each row's test inline, in the table's order, for speed.
Here each rule is broken alone, and the client must hear exactly that row's
status and message; so a test moved, dropped or out of order fails here.
"""

from __future__ import annotations

import h11
import pytest

from microready.server.protocol import ConnectionCore, Limits, Rejected, RequestReceived
from microready.server.protocol.framing import (
    BODY_TOO_LARGE,
    CHUNKED_IN_HTTP_1_0,
    CONNECT_NOT_SUPPORTED,
    HEAD_RULES,
    HEAD_TOO_LARGE,
    OBSOLETE_LINE_FOLDING,
    REQUEST_LINE_TOO_LONG,
    TOO_MANY_FIELDS,
    TWO_FRAMINGS,
    TWO_HOSTS,
    VERSION_NOT_SUPPORTED,
    HeadRule,
)

# Each rule, with limits and a head (arriving in one read) that break it and no other.
BROKEN_ALONE: list[tuple[HeadRule, Limits, bytes]] = [
    (
        REQUEST_LINE_TOO_LONG,
        Limits(max_request_line=20),
        b"GET /" + b"a" * 30 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        HEAD_TOO_LARGE,
        Limits(max_header_size=100),
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 150 + b"\r\n\r\n",
    ),
    (
        TOO_MANY_FIELDS,
        Limits(max_header_count=2),
        b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n",
    ),
    (OBSOLETE_LINE_FOLDING, Limits(), b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"),
    (VERSION_NOT_SUPPORTED, Limits(), b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    (
        TWO_FRAMINGS,
        Limits(),
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    ),
    (CHUNKED_IN_HTTP_1_0, Limits(), b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    (CONNECT_NOT_SUPPORTED, Limits(), b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
    (
        BODY_TOO_LARGE,
        Limits(max_body_size=10),
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
    ),
]


def first_event(limits: Limits, data: bytes) -> object:
    core = ConnectionCore(limits, 0.0)
    core.receive_data(data, 0.0)
    return core.next_event(0.0)


@pytest.mark.parametrize(
    ("rule", "limits", "data"),
    [pytest.param(*case, id=f"{case[0].status}-{case[0].message}") for case in BROKEN_ALONE],
)
def test_a_head_that_breaks_one_rule_hears_that_rule(
    rule: HeadRule, limits: Limits, data: bytes
) -> None:
    version = data.split(b"\r\n", 1)[0].rsplit(b"/", 1)[1].decode()
    assert first_event(limits, data) == rule.reject(limits, version)


def test_the_same_heads_within_the_rules_are_accepted() -> None:
    # The control: each head above, with the one thing that breaks its rule undone.
    accepted = [
        (Limits(max_request_line=50), b"GET /" + b"a" * 30 + b" HTTP/1.1\r\nHost: a\r\n\r\n"),
        (Limits(max_header_count=3), b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"),
        (Limits(), b"GET / HTTP/1.1\r\nHost: a\r\nX: a b\r\n\r\n"),
        (Limits(), b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"),
        (Limits(max_body_size=11), b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"),
    ]
    for limits, data in accepted:
        assert isinstance(first_event(limits, data), RequestReceived), data


def test_every_rule_is_covered_here() -> None:
    # TWO_HOSTS cannot be reached today: h11 refuses the head first (next test).
    covered = [rule for rule, _, _ in BROKEN_ALONE]
    assert [rule for rule in HEAD_RULES if rule is not TWO_HOSTS] == covered


def test_h11_refuses_two_hosts_before_the_rule_sees_them() -> None:
    event = first_event(Limits(), b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert isinstance(event, Rejected) and event.status_code == TWO_HOSTS.status
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="GET", target="/", headers=[("Host", "a"), ("Host", "b")])


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        pytest.param(
            b"POST / HTTP/1.0\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            TWO_FRAMINGS,
            id="two-framings-before-chunked-in-1.0",
        ),
        pytest.param(
            b"GET / HTTP/2.0\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
            OBSOLETE_LINE_FOLDING,
            id="folding-before-version",
        ),
        pytest.param(
            b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n",
            CONNECT_NOT_SUPPORTED,
            id="connect-before-body-size",
        ),
    ],
)
def test_the_first_broken_rule_is_the_one_the_client_hears(data: bytes, rule: HeadRule) -> None:
    event = first_event(Limits(), data)
    assert isinstance(event, Rejected) and event.status_code == rule.status
    assert event.reason == rule.message.format(limits=Limits(), version="")
