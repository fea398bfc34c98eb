"""``--proxy-headers`` and ``--forwarded-allow-ips`` (issue 16), through the real server.

Every request here comes from 127.0.0.1, which is trusted by default (as in
uvicorn 0.54: ``127.0.0.1,::1``), so a test that wants an untrusted peer trusts
some other address instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from microready import MicroReady, Request, WebSocket
from microready.middleware.httpsredirect import HTTPSRedirectMiddleware
from microready.server import Server
from microready.server.config import Config, ConfigError
from microready.server.proxy_headers import TrustedProxies, forwarded
from tests.support.http import HTTPResponse, request
from tests.support.live import IO_TIMEOUT, Serving, serving

CLIENT = "203.0.113.7"  # TEST-NET-3: the client a proxy reports


def peer_app() -> MicroReady:
    app = MicroReady()

    @app.get("/peer")
    async def peer(request: Request) -> dict[str, Any]:
        client = request.client
        return {"client": None if client is None else [client.host, client.port],
                "scheme": request.scope.get("scheme", "http"), "url": request.url_for("peer")}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        client = websocket.client
        await websocket.send_text(json.dumps(
            {"scheme": websocket.scope["scheme"], "client": client.host if client else None}))
        await websocket.close()

    return app


async def get(running: Serving, *headers: str, path: str = "/peer") -> HTTPResponse:
    async with running.connect() as client:
        await client.send(request("GET", path, *headers))
        return await client.read_response()


async def seen(running: Serving, *headers: str) -> dict[str, Any]:
    response = await get(running, *headers)
    assert response.status == 200, response
    result: dict[str, Any] = response.json()
    return result


FROM_PROXY = (f"X-Forwarded-For: {CLIENT}", "X-Forwarded-Proto: https")


# -- trusted and untrusted peers -----------------------------------------------------


@pytest.mark.anyio
async def test_a_trusted_proxy_says_who_the_client_is_and_how_it_came() -> None:
    async with serving(peer_app()) as running:
        assert await seen(running, *FROM_PROXY) == {
            "client": [CLIENT, 0], "scheme": "https", "url": "https://test/peer"}
        assert (await seen(running, f"X-Forwarded-For: {CLIENT}:4711"))["client"] == [CLIENT, 4711]
        plain = await seen(running)  # no headers: the peer itself
    assert plain["client"][0] == "127.0.0.1" and plain["client"][1] > 0
    assert plain["scheme"] == "http"


@pytest.mark.anyio
async def test_either_header_alone_in_any_case_is_read() -> None:
    # The core flags a head that has X-Forwarded-*; only such heads are scanned.
    async with serving(peer_app()) as running:
        proto_only = await seen(running, "x-FORWARDED-proto: https")
        for_only = await seen(running, f"X-FORWARDED-FOR: {CLIENT}")
    assert proto_only["scheme"] == "https" and proto_only["client"][0] == "127.0.0.1"
    assert for_only["scheme"] == "http" and for_only["client"] == [CLIENT, 0]


@pytest.mark.anyio
async def test_an_untrusted_peer_s_headers_are_ignored() -> None:
    async with serving(peer_app(), forwarded_allow_ips="10.0.0.1") as running:
        said = await seen(running, *FROM_PROXY)
    assert said["client"][0] == "127.0.0.1" and said["scheme"] == "http"


@pytest.mark.anyio
async def test_no_proxy_headers_ignores_them_even_from_a_trusted_peer() -> None:
    async with serving(peer_app(), proxy_headers=False) as running:
        said = await seen(running, *FROM_PROXY)
    assert said["client"][0] == "127.0.0.1" and said["scheme"] == "http"


@pytest.mark.anyio
async def test_the_environment_names_the_trusted_peers_when_the_option_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1")
    async with serving(peer_app()) as running:
        assert (await seen(running, *FROM_PROXY))["scheme"] == "http"
    async with serving(peer_app(), forwarded_allow_ips="127.0.0.0/8") as running:
        assert (await seen(running, *FROM_PROXY))["scheme"] == "https"  # the option wins


# -- chains of proxies ---------------------------------------------------------------


@pytest.mark.anyio
async def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() -> None:
    # The client's own header (a lie about 198.51.100.1), then what our two proxies added.
    chain = f"X-Forwarded-For: 198.51.100.1, {CLIENT}, 10.1.2.3"
    async with serving(peer_app(), forwarded_allow_ips="127.0.0.1, 10.0.0.0/8") as running:
        assert (await seen(running, chain))["client"] == [CLIENT, 0]
        # Two headers are one list (RFC 9110 section 5.3).
        split = ("X-Forwarded-For: 198.51.100.1", f"X-Forwarded-For: {CLIENT}, 10.1.2.3")
        assert (await seen(running, *split))["client"] == [CLIENT, 0]
        # Every hop trusted: the first is the client.
        assert (await seen(running, "X-Forwarded-For: 10.9.9.9, 10.1.2.3"))["client"] == [
            "10.9.9.9", 0]


@pytest.mark.anyio
async def test_star_trusts_every_peer_and_takes_the_first_hop() -> None:
    async with serving(peer_app(), forwarded_allow_ips="*") as running:
        said = await seen(running, f"X-Forwarded-For: 198.51.100.1, {CLIENT}",
                          "X-Forwarded-Proto: https")
    assert said["client"] == ["198.51.100.1", 0] and said["scheme"] == "https"


@pytest.mark.anyio
async def test_an_unknown_proto_or_an_empty_chain_changes_nothing() -> None:
    async with serving(peer_app()) as running:
        said = await seen(running, "X-Forwarded-Proto: gopher", "X-Forwarded-For: ")
    assert said["scheme"] == "http" and said["client"][0] == "127.0.0.1"


# -- where the scheme matters -----------------------------------------------------------


@pytest.mark.anyio
async def test_https_redirect_trusts_the_proxy_that_says_https() -> None:
    app = peer_app()
    app.add_middleware(HTTPSRedirectMiddleware)
    async with serving(app) as running:
        behind_tls = await get(running, "X-Forwarded-Proto: https")
        plain = await get(running)
    async with serving(app, forwarded_allow_ips="10.0.0.1") as running:
        untrusted = await get(running, "X-Forwarded-Proto: https")
    assert behind_tls.status == 200
    assert plain.status == 307 and plain.header(b"location") == b"https://test/peer"
    assert untrusted.status == 307


@pytest.mark.anyio
async def test_a_websocket_through_a_trusted_proxy_gets_wss_and_the_client() -> None:
    from websockets.sync.client import connect

    def talk(port: int) -> Any:
        headers = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
        with connect(f"ws://127.0.0.1:{port}/ws", additional_headers=headers,
                     open_timeout=IO_TIMEOUT) as websocket:
            return json.loads(websocket.recv(timeout=IO_TIMEOUT))

    async with serving(peer_app()) as running:
        with anyio.fail_after(IO_TIMEOUT * 2):
            said = await anyio.to_thread.run_sync(talk, running.port)
    assert said == {"scheme": "wss", "client": CLIENT}


@pytest.mark.anyio
async def test_the_access_line_names_the_forwarded_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="microready.access")
    async with serving(peer_app()) as running:
        await seen(running, f"X-Forwarded-For: {CLIENT}:4711")
    lines = [r.getMessage() for r in caplog.records if r.name == "microready.access"]
    assert len(lines) == 1 and lines[0].startswith(f'{CLIENT}:4711 - "GET /peer HTTP/1.1" 200')


@pytest.mark.anyio
async def test_unix_trusts_the_peers_of_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "app.sock")
    async with serving(peer_app(), uds=path, forwarded_allow_ips="unix") as running:
        trusted = await seen(running, *FROM_PROXY)
    async with serving(peer_app(), uds=path) as running:  # the default: loopback only
        untrusted = await seen(running, *FROM_PROXY)
    assert trusted["client"] == [CLIENT, 0] and trusted["scheme"] == "https"
    assert untrusted["scheme"] == "http"


# -- the option's syntax ----------------------------------------------------------------


@pytest.mark.parametrize(("entry", "message"), [
    ("10.0.0.1/8", "did you mean '10.0.0.0/8'?"),
    ("proxy.internal", "'proxy.internal' is not an IP address or network"),
    ("/run/nginx.sock", "trusted with the word unix"),
    ("*, 10.0.0.1", "'*' trusts every peer, so it stands alone"),
])
def test_a_bad_entry_is_refused_with_the_right_spelling(entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match="forwarded_allow_ips") as raised:
        Config(forwarded_allow_ips=entry)
    assert message in str(raised.value)


def test_a_bad_environment_value_stops_the_server_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "localhost")
    config = Config()  # the environment is read when the server starts
    with pytest.raises(ConfigError, match="'localhost' is not an IP address"):
        Server(MicroReady(), config)


def test_addresses_networks_and_ipv6_hops() -> None:
    proxies = TrustedProxies("::1, 10.0.0.0/8, 2001:db8::/32")
    assert proxies.client_from("[2001:db9::5]:443, [2001:db8::1]:80") == ("2001:db9::5", 443)
    assert proxies.client_from("2001:db9::5, 10.0.0.1") == ("2001:db9::5", 0)
    assert proxies.client_from("1.2.3.4:notaport") == ("1.2.3.4:notaport", 0)
    assert proxies.client_from("") is None
    # Malformed hops are hosts as written, so never trusted; as uvicorn reads them.
    assert proxies.client_from("[2001:db9::5]") == ("2001:db9::5", 0)
    assert proxies.client_from("[::1, 10.0.0.1") == ("[::1", 0)
    assert proxies.client_from("[2001:db9::5]x") == ("[2001:db9::5]x", 0)
    assert not proxies.trusts(None)  # a peer accept() could not name
    assert TrustedProxies("").client_from(CLIENT) == (CLIENT, 0)  # trusts nobody


def test_a_websocket_scheme_is_said_as_ws_or_wss_and_http_as_http_or_https() -> None:
    proxies = TrustedProxies("*")
    for said, http, websocket in [("https", "https", "wss"), ("wss", "https", "wss"),
                                  ("http", "http", "ws"), ("WS", "http", "ws")]:
        headers = [(b"x-forwarded-proto", said.encode())]
        assert forwarded(headers, proxies, None, "http")[1] == http
        assert forwarded(headers, proxies, None, "ws", websocket=True)[1] == websocket
