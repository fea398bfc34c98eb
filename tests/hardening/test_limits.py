"""Limits with safe defaults, on raw bytes through the real server (asyncio and trio).

One rule is about how the bytes are split into reads; that test feeds the
connection core directly, so the split is the test's, not the kernel's.
"""

from __future__ import annotations

import os
import socket
import struct

import anyio
import pytest

from microready import Config, ConfigError
from microready.server import Server
from microready.server.cli import build_parser
from microready.server.protocol import NEED_DATA, ConnectionCore, Limits, Rejected
from tests.support.http import parse_response, request
from tests.support.live import IO_TIMEOUT, connect, exchange, port_of, queued_clients, serving

from .helpers import SMUGGLED, get_ping, make_app

pytestmark = pytest.mark.anyio

PING_AND_CLOSE = request("GET", "/ping", "Connection: close")


# -- the request head --------------------------------------------------------------------------


async def test_a_complete_20_kib_head_in_one_write_is_431_by_default() -> None:
    # A complete head is never "incomplete", so h11's buffer limit does not see
    # it; the server must measure the whole head itself.
    data = request("GET", "/ping", "X-Big: " + "a" * (20 * 1024))
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, data + SMUGGLED)
    assert response.status == 431
    assert response.header(b"connection") == b"close"
    assert rest == b""


async def test_a_head_just_under_the_default_limit_is_served() -> None:
    data = request("GET", "/ping", "X-Big: " + "a" * (15 * 1024), "Connection: close")
    async with serving(make_app()) as running:
        response, _ = await exchange(running.port, data)
    assert (response.status, response.body) == (200, b'"pong"')


async def test_max_header_size_is_configurable() -> None:
    small = request("GET", "/ping", "X-Big: " + "a" * 1500, "Connection: close")
    async with serving(make_app(), max_header_size=1024) as running:
        response, rest = await exchange(running.port, small + SMUGGLED)
        assert response.status == 431
        assert response.header(b"connection") == b"close"
        assert rest == b""
        response, _ = await exchange(running.port, request("GET", "/ping", "Connection: close"))
        assert response.status == 200


def test_a_head_that_arrives_in_pieces_is_measured_whole() -> None:
    # 12 KiB, then 8 KiB: neither read alone is over the limit, the head is.
    # The pieces go to the core one by one, so there are surely two reads (over
    # a socket the kernel may hand the server both pieces in one).
    data = request("GET", "/ping", "X-Big: " + "a" * (20 * 1024))
    core = ConnectionCore(Limits(), now=0.0)
    core.receive_data(data[: 12 * 1024], now=0.0)
    assert core.next_event(0.0) is NEED_DATA, "the first piece alone was judged"
    core.receive_data(data[12 * 1024 :], now=0.0)
    event = core.next_event(0.0)
    assert isinstance(event, Rejected), event
    answer = parse_response(core.send_error(event.status_code, event.reason))
    assert answer.status == 431
    assert answer.header(b"connection") == b"close"


async def test_101_header_fields_are_431() -> None:
    fields = [f"X-F{i}: {i}" for i in range(100)]  # plus Host: 101 fields
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, request("GET", "/ping", *fields) + SMUGGLED)
        assert response.status == 431
        assert response.header(b"connection") == b"close"
        assert rest == b""
        # Host and 99 more: exactly 100 fields.
        ok = request("GET", "/ping", *fields[:98], "Connection: close")
        assert (await exchange(running.port, ok))[0].status == 200


@pytest.mark.parametrize("length", [8 * 1024 + 100, 20 * 1024], ids=["9-kib", "20-kib"])
async def test_a_request_line_over_8_kib_is_414(length: int) -> None:
    data = request("GET", "/items/" + "a" * length)
    async with serving(make_app()) as running:
        response, rest = await exchange(running.port, data + SMUGGLED)
    assert response.status == 414
    assert response.header(b"connection") == b"close"
    assert rest == b""


# -- the request body --------------------------------------------------------------------------


async def test_a_declared_body_over_the_limit_is_413_before_it_is_sent() -> None:
    async with serving(make_app(), max_body_size=1000) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            # Only the head: the answer must not wait for a body.
            await client.send(request("POST", "/upload", "Content-Length: 1001"))
            response = await client.read_response()
            assert await client.read_until_eof() == b""
    assert response.status == 413
    assert response.header(b"connection") == b"close"


async def test_the_default_body_limit_is_10_mib() -> None:
    async with serving(make_app()) as running:
        over = request("POST", "/upload", f"Content-Length: {10 * 1024 * 1024 + 1}")
        assert (await exchange(running.port, over))[0].status == 413
        # At the limit, the head is accepted: the server asks for the body.
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(
                    request(
                        "POST", "/echo", f"Content-Length: {10 * 1024 * 1024}",
                        "Expect: 100-continue",
                    )
                )
                interim = await client.read_until(b"\r\n\r\n")
    assert interim.startswith(b"HTTP/1.1 100 "), interim


async def test_expect_100_continue_over_the_limit_gets_413_and_no_100() -> None:
    async with serving(make_app(), max_body_size=10) as running:
        response, rest = await exchange(
            running.port, request("POST", "/echo", "Content-Length: 11", "Expect: 100-continue")
        )
    # The first response is final: the client never sends its body.
    assert response.status == 413
    assert rest == b""


async def test_expect_100_continue_then_the_body_is_read() -> None:
    async with serving(make_app()) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send(
                request("POST", "/echo", "Content-Length: 5", "Expect: 100-continue")
            )
            interim = await client.read_until(b"\r\n\r\n")
            await client.send(b"hello")
            response = await client.read_response()
    assert interim.startswith(b"HTTP/1.1 100 ")
    assert (response.status, response.body) == (200, b"hello")


async def test_a_chunked_body_over_the_limit_is_413_as_it_arrives() -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"  # 1 KiB chunks
    async with serving(make_app(), max_body_size=4096) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send(request("POST", "/echo", "Transfer-Encoding: chunked"))
            # Never ends: only counting can stop it.
            for _ in range(5):
                await client.send(chunk)
            response = await client.read_response()
            assert await client.read_until_eof() == b""
    assert response.status == 413
    assert response.header(b"connection") == b"close"


async def test_a_chunked_body_within_the_limit_is_read_whole() -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    data = request(
        "POST", "/echo", "Transfer-Encoding: chunked", "Connection: close",
        body=chunk * 4 + b"0\r\n\r\n",
    )
    async with serving(make_app(), max_body_size=4096) as running:
        response, _ = await exchange(running.port, data)
    assert response.status == 200
    assert response.body == b"x" * 4096


async def test_an_unread_chunked_body_over_the_limit_closes_the_connection() -> None:
    # The app answers without reading; the server drains the rest to reuse the
    # connection, and the limit applies to that too.
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    data = request("POST", "/upload", "Transfer-Encoding: chunked", body=chunk * 6 + b"0\r\n\r\n")
    async with serving(make_app(), max_body_size=4096) as running:
        response, rest = await exchange(running.port, data + SMUGGLED)
    assert response.status == 200
    assert rest == b""


# -- connections -------------------------------------------------------------------------------


async def test_limit_concurrency_answers_503_beyond_n_open_connections() -> None:
    async with serving(make_app(), limit_concurrency=2) as running:
        async with connect(running.port) as first, connect(running.port) as second:
            with anyio.fail_after(IO_TIMEOUT):
                for client in (first, second):  # both are served and stay open
                    await client.send(request("GET", "/ping"))
                    assert (await client.read_response()).status == 200
                response, rest = await exchange(
                    running.port, request("GET", "/ping") + SMUGGLED
                )
                assert response.status == 503
                assert response.header(b"connection") == b"close"
                assert rest == b""
                for client in (first, second):  # the open ones are untouched
                    await client.send(request("GET", "/ping"))
                    assert (await client.read_response()).status == 200
        # With both closed, a new connection is served again (as soon as the
        # server has noticed the closes).
        with anyio.fail_after(IO_TIMEOUT):
            while (await exchange(running.port, PING_AND_CLOSE))[0].status == 503:
                await anyio.sleep(0.01)


async def test_limit_concurrency_holds_for_a_burst_accepted_at_once() -> None:
    # The server takes every waiting connection in one pass; the limit must
    # still count each of them, not only those whose task has started.
    async with (
        serving(make_app(), limit_concurrency=2) as running,
        queued_clients(running.port, [request("GET", "/ping")] * 5) as clients,
    ):
        with anyio.fail_after(IO_TIMEOUT):
            statuses = [(await client.read_response()).status for client in clients]
    assert sorted(statuses) == [200, 200, 503, 503, 503]


async def test_limit_max_requests_stops_the_server_after_n_requests() -> None:
    server = Server(make_app(), Config(port=0, limit_max_requests=3))
    with anyio.fail_after(IO_TIMEOUT):
        async with anyio.create_task_group() as task_group:
            addresses = await task_group.start(server.serve)
            port = port_of(addresses[0])
            async with connect(port) as client:  # one kept-alive connection...
                for _ in range(2):
                    await client.send(request("GET", "/ping"))
                    assert (await client.read_response()).status == 200
                await get_ping(port)  # ...and a new one: 3 requests
                # The kept-alive connection is idle, so shutdown closes it.
                assert await client.read_until_eof() == b""
        # serve() has returned by itself: the task group is done.
    assert server.requests_served == 3
    with pytest.raises(OSError):
        await anyio.connect_tcp("127.0.0.1", port)


def _listening_socket_backlog(port: int) -> int:
    """The accept-queue limit the kernel holds for our listening socket on ``port``.

    Linux reports it as ``tcpi_sacked`` in TCP_INFO for a socket in LISTEN state.
    """
    for fd in os.listdir("/proc/self/fd"):
        try:
            sock = socket.socket(fileno=os.dup(int(fd)))
        except OSError:
            continue
        with sock:
            try:
                if sock.type != socket.SOCK_STREAM or sock.family != socket.AF_INET:
                    continue
                if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    continue
                if sock.getsockname()[1] != port:
                    continue
                info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            except OSError:
                continue
            return int(struct.unpack_from("I", info, 28)[0])
    raise AssertionError(f"no listening socket on port {port} in this process")


def _somaxconn() -> int:
    with open("/proc/sys/net/core/somaxconn") as file:
        return int(file.read())


@pytest.mark.parametrize(("options", "expected"), [({"backlog": 37}, 37), ({}, 2048)])
async def test_backlog_reaches_the_listening_socket(options: dict[str, int], expected: int) -> None:
    async with serving(make_app(), **options) as running:
        assert _listening_socket_backlog(running.port) == min(expected, _somaxconn())


def test_backlog_is_a_setting_and_a_flag() -> None:
    assert Config().backlog == 2048
    assert Config(backlog=64).backlog == 64
    args = build_parser().parse_args(["main:app", "--backlog", "64"])
    assert args.backlog == 64
    with pytest.raises(ConfigError, match="backlog"):
        Config(backlog=0)


def test_every_limit_is_a_flag_with_the_documented_default() -> None:
    defaults = vars(build_parser().parse_args(["main:app"]))
    assert defaults["max_header_size"] == 16 * 1024
    assert defaults["max_body_size"] == 10 * 1024 * 1024
    assert defaults["backlog"] == 2048
    assert defaults["limit_concurrency"] is None
    assert defaults["limit_max_requests"] is None
    given = vars(build_parser().parse_args([
        "main:app", "--max-header-size", "1000", "--max-body-size", "2000",
        "--limit-concurrency", "3", "--limit-max-requests", "4",
        "--timeout-request-head", "1.5", "--timeout-body", "2.5", "--timeout-keep-alive", "3.5",
    ]))
    config = Config(**{k: v for k, v in given.items() if k not in ("app", "factory", "app_dir")})
    limits = config.limits
    assert (limits.max_header_size, limits.max_body_size) == (1000, 2000)
    assert (limits.timeout_request_head, limits.timeout_body, limits.timeout_keep_alive) == (
        1.5, 2.5, 3.5
    )
    assert (config.limit_concurrency, config.limit_max_requests) == (3, 4)
