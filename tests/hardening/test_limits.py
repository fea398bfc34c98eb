"""Limits with safe defaults, on raw bytes through the real server (asyncio and trio)."""

from __future__ import annotations

import os
import socket
import struct

import anyio
import pytest

from microready import Config, ConfigError
from microready.server import Server
from microready.server.cli import build_parser
from tests.live_server import connect, queued_clients

from .helpers import (
    IO_TIMEOUT,
    SMUGGLED,
    answer_then_eof,
    get_ping,
    make_app,
    post,
    read_answer,
    read_head,
    serving,
)

pytestmark = pytest.mark.anyio


def get_with(*headers: str, target: str = "/ping") -> bytes:
    return ("\r\n".join([f"GET {target} HTTP/1.1", "Host: test", *headers]) + "\r\n\r\n").encode()


# -- the request head --------------------------------------------------------------------------


async def test_a_complete_20_kib_head_in_one_write_is_431_by_default() -> None:
    # A complete head is never "incomplete", so h11's buffer limit does not see
    # it; the server must measure the whole head itself.
    data = get_with("X-Big: " + "a" * (20 * 1024))
    async with serving(make_app()) as running:
        status, headers, _, rest = await answer_then_eof(running.port, data + SMUGGLED)
    assert status == 431
    assert headers.get("connection") == "close"
    assert rest == b""


async def test_a_head_just_under_the_default_limit_is_served() -> None:
    data = get_with("X-Big: " + "a" * (15 * 1024), "Connection: close")
    async with serving(make_app()) as running:
        status, _, body, _ = await answer_then_eof(running.port, data)
    assert (status, body) == (200, b'"pong"')


async def test_max_header_size_is_configurable() -> None:
    small = get_with("X-Big: " + "a" * 1500, "Connection: close")
    async with serving(make_app(), max_header_size=1024) as running:
        status, headers, _, rest = await answer_then_eof(running.port, small + SMUGGLED)
        assert status == 431
        assert headers.get("connection") == "close"
        assert rest == b""
        status, _, _, _ = await answer_then_eof(running.port, get_with("Connection: close"))
        assert status == 200


async def test_a_head_that_arrives_in_pieces_is_measured_whole() -> None:
    # 12 KiB, then 8 KiB: neither read alone is over the limit, the head is.
    data = get_with("X-Big: " + "a" * (20 * 1024))
    async with serving(make_app()) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send(data[: 12 * 1024])
            await anyio.sleep(0.05)  # lets the server read the first part on its own
            await client.send(data[12 * 1024 :])
            status, headers, _ = await read_answer(client)
            assert await client.read_until_eof() == b""
    assert status == 431
    assert headers.get("connection") == "close"


async def test_101_header_fields_are_431() -> None:
    fields = [f"X-F{i}: {i}" for i in range(100)]  # plus Host: 101 fields
    async with serving(make_app()) as running:
        status, headers, _, rest = await answer_then_eof(running.port, get_with(*fields) + SMUGGLED)
        assert status == 431
        assert headers.get("connection") == "close"
        assert rest == b""
        ok = get_with(*fields[:98], "Connection: close")  # Host + 99: exactly 100 fields
        assert (await answer_then_eof(running.port, ok))[0] == 200


@pytest.mark.parametrize("length", [8 * 1024 + 100, 20 * 1024], ids=["9-kib", "20-kib"])
async def test_a_request_line_over_8_kib_is_414(length: int) -> None:
    data = get_with(target="/items/" + "a" * length)
    async with serving(make_app()) as running:
        status, headers, _, rest = await answer_then_eof(running.port, data + SMUGGLED)
    assert status == 414
    assert headers.get("connection") == "close"
    assert rest == b""


# -- the request body --------------------------------------------------------------------------


async def test_a_declared_body_over_the_limit_is_413_before_it_is_sent() -> None:
    async with serving(make_app(), max_body_size=1000) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            # Only the head: the answer must not wait for a body.
            await client.send(post("/upload", "Content-Length: 1001"))
            status, headers, _ = await read_answer(client)
            assert await client.read_until_eof() == b""
    assert status == 413
    assert headers.get("connection") == "close"


async def test_the_default_body_limit_is_10_mib() -> None:
    async with serving(make_app()) as running:
        over = post("/upload", f"Content-Length: {10 * 1024 * 1024 + 1}")
        assert (await answer_then_eof(running.port, over))[0] == 413
        # At the limit, the head is accepted: the server asks for the body.
        async with connect(running.port) as client:
            with anyio.fail_after(IO_TIMEOUT):
                await client.send(
                    post("/echo", f"Content-Length: {10 * 1024 * 1024}", "Expect: 100-continue")
                )
                interim = await read_head(client)
    assert interim.startswith(b"HTTP/1.1 100 "), interim


async def test_expect_100_continue_over_the_limit_gets_413_and_no_100() -> None:
    async with serving(make_app(), max_body_size=10) as running:
        status, _, _, rest = await answer_then_eof(
            running.port, post("/echo", "Content-Length: 11", "Expect: 100-continue")
        )
    assert status == 413  # the first response is final: the client never sends its body
    assert rest == b""


async def test_expect_100_continue_then_the_body_is_read() -> None:
    async with serving(make_app()) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send(post("/echo", "Content-Length: 5", "Expect: 100-continue"))
            interim = await read_head(client)
            await client.send(b"hello")
            status, _, body = await read_answer(client)
    assert interim.startswith(b"HTTP/1.1 100 ")
    assert (status, body) == (200, b"hello")


async def test_a_chunked_body_over_the_limit_is_413_as_it_arrives() -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"  # 1 KiB chunks
    async with serving(make_app(), max_body_size=4096) as running, connect(running.port) as client:
        with anyio.fail_after(IO_TIMEOUT):
            await client.send(post("/echo", "Transfer-Encoding: chunked"))
            # Never ends: only counting can stop it.
            for _ in range(5):
                await client.send(chunk)
            status, headers, _ = await read_answer(client)
            assert await client.read_until_eof() == b""
    assert status == 413
    assert headers.get("connection") == "close"


async def test_a_chunked_body_within_the_limit_is_read_whole() -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    data = post(
        "/echo", "Transfer-Encoding: chunked", "Connection: close", body=chunk * 4 + b"0\r\n\r\n"
    )
    async with serving(make_app(), max_body_size=4096) as running:
        status, _, body, _ = await answer_then_eof(running.port, data)
    assert status == 200
    assert body == b"x" * 4096


async def test_an_unread_chunked_body_over_the_limit_closes_the_connection() -> None:
    # The app answers without reading; the server drains the rest to reuse the
    # connection, and the limit applies to that too.
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    data = post("/upload", "Transfer-Encoding: chunked", body=chunk * 6 + b"0\r\n\r\n")
    async with serving(make_app(), max_body_size=4096) as running:
        status, _, _, rest = await answer_then_eof(running.port, data + SMUGGLED)
    assert status == 200
    assert rest == b""


# -- connections -------------------------------------------------------------------------------


async def test_limit_concurrency_answers_503_beyond_n_open_connections() -> None:
    async with serving(make_app(), limit_concurrency=2) as running:
        async with connect(running.port) as first, connect(running.port) as second:
            with anyio.fail_after(IO_TIMEOUT):
                for client in (first, second):  # both are served and stay open
                    await client.send(get_with())
                    assert (await read_answer(client))[0] == 200
                status, headers, _, rest = await answer_then_eof(
                    running.port, get_with() + SMUGGLED
                )
                assert status == 503
                assert headers.get("connection") == "close"
                assert rest == b""
                for client in (first, second):  # the open ones are untouched
                    await client.send(get_with())
                    assert (await read_answer(client))[0] == 200
        # With both closed, a new connection is served again (as soon as the
        # server has noticed the closes).
        with anyio.fail_after(IO_TIMEOUT):
            while (await answer_then_eof(running.port, get_with("Connection: close")))[0] == 503:
                await anyio.sleep(0.01)


async def test_limit_concurrency_holds_for_a_burst_accepted_at_once() -> None:
    # The server takes every waiting connection in one pass; the limit must
    # still count each of them, not only those whose task has started.
    async with (
        serving(make_app(), limit_concurrency=2) as running,
        queued_clients(running.port, [get_with()] * 5) as clients,
    ):
        with anyio.fail_after(IO_TIMEOUT):
            statuses = [(await read_answer(client))[0] for client in clients]
    assert sorted(statuses) == [200, 200, 503, 503, 503]


async def test_limit_max_requests_stops_the_server_after_n_requests() -> None:
    server = Server(make_app(), Config(port=0, limit_max_requests=3))
    with anyio.fail_after(IO_TIMEOUT):
        async with anyio.create_task_group() as task_group:
            addresses = await task_group.start(server.serve)
            port = int(addresses[0].rsplit(":", 1)[1])
            async with connect(port) as client:  # one kept-alive connection...
                for _ in range(2):
                    await client.send(get_with())
                    assert (await read_answer(client))[0] == 200
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
