"""TLS (``--ssl-*``, issue 16): the real server over TLS, with real clients.

Each test makes its own certificate authority and server certificate with
``trustme``, so nothing here depends on files or clocks outside the test. The
clients are httpx (with the CA), ``curl --cacert`` as a child process, the
``websockets`` library, and Python's own ``ssl`` sockets where a test needs to
place bytes exactly.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import textwrap
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import trustme

from microready import MicroReady, Request, WebSocket
from microready.server import Server
from microready.server.config import Config, ConfigError
from microready.server.socket_stream import RawSocketStream
from microready.server.tls import handshake, server_context
from tests.support.http import ResponseParser, request
from tests.support.live import IO_TIMEOUT, serving
from tests.support.processes import server_process

PASSWORD = "correct horse"


@dataclass
class TLSFiles:
    ca: trustme.CA
    ca_file: str
    certfile: str
    keyfile: str
    encrypted_keyfile: str  # the same key, encrypted with PASSWORD
    directory: Path

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    from cryptography.hazmat.primitives import serialization

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key", "encrypted")}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), password=None)
    paths["encrypted"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD.encode())))
    return TLSFiles(ca, str(paths["ca"]), str(paths["cert"]), str(paths["key"]),
                    str(paths["encrypted"]), tmp_path)


def tls_options(tls: TLSFiles, **options: Any) -> dict[str, Any]:
    return {"ssl_certfile": tls.certfile, "ssl_keyfile": tls.keyfile, **options}


def scheme_app() -> MicroReady:
    app = MicroReady()

    @app.get("/where")
    async def where(request: Request) -> dict[str, Any]:
        return {"scheme": request.scope.get("scheme", "http"),
                "url": request.url_for("where"),
                "client": request.client.host if request.client else None}

    @app.get("/hello")
    async def hello() -> str:
        return "hello"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.scope["scheme"])
        await websocket.close()

    return app


def https(port: int, path: str) -> str:
    return f"https://127.0.0.1:{port}{path}"


def tls_socket(tls: TLSFiles, port: int) -> ssl.SSLSocket:
    """A blocking TLS client socket, handshake done (call it in a worker thread)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    # suppress_ragged_eofs=False: an EOF without close_notify is an error here.
    return tls.client_context().wrap_socket(sock, server_hostname="127.0.0.1",
                                            suppress_ragged_eofs=False)


def read_to_eof(sock: socket.socket) -> bytes:
    """Everything until the server closes; blocking, bounded. Only a close that
    sends TLS's close_notify first ends it: an EOF without one, or a reset, raises."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


# -- the scheme, and real clients -----------------------------------------------------


@pytest.mark.anyio
async def test_httpx_gets_https_and_the_app_sees_the_scheme(tls: TLSFiles) -> None:
    async with serving(scheme_app(), **tls_options(tls)) as running:
        assert running.address.startswith("https://127.0.0.1:")  # the "listening on" line
        async with httpx.AsyncClient(verify=tls.client_context(), timeout=IO_TIMEOUT) as client:
            first = await client.get(https(running.port, "/where"))
            second = await client.get(https(running.port, "/hello"))  # the same connection
    assert first.status_code == 200
    assert first.json() == {"scheme": "https", "url": f"https://127.0.0.1:{running.port}/where",
                            "client": "127.0.0.1"}
    assert second.text == '"hello"'


@pytest.mark.anyio
async def test_curl_with_the_ca_gets_the_page(tls: TLSFiles) -> None:
    curl = shutil.which("curl")
    if curl is None:
        if os.environ.get("CI"):
            pytest.fail("curl is not installed, and CI must run this test")
        pytest.skip("curl is not installed")
    async with serving(scheme_app(), **tls_options(tls)) as running:
        with anyio.fail_after(IO_TIMEOUT * 2):
            result = await anyio.run_process(
                [curl, "--silent", "--show-error", "--cacert", tls.ca_file,
                 https(running.port, "/where")], check=False)
            refused = await anyio.run_process(  # without the CA, curl must refuse us
                [curl, "--silent", https(running.port, "/where")], check=False)
    assert result.returncode == 0, result.stderr
    assert b'"scheme":"https"' in result.stdout
    assert refused.returncode == 60  # "peer certificate cannot be authenticated"


@pytest.mark.anyio
async def test_a_websocket_over_tls_reports_wss(tls: TLSFiles) -> None:
    from websockets.sync.client import connect

    def talk(port: int) -> str:
        url = f"wss://127.0.0.1:{port}/ws"
        with connect(url, ssl=tls.client_context(), open_timeout=IO_TIMEOUT) as websocket:
            message = websocket.recv(timeout=IO_TIMEOUT)
        return str(message)

    async with serving(scheme_app(), **tls_options(tls)) as running:
        with anyio.fail_after(IO_TIMEOUT * 2):
            said = await anyio.to_thread.run_sync(talk, running.port)
    assert said == "wss"


@pytest.mark.anyio
async def test_an_encrypted_key_is_served_with_its_password(tls: TLSFiles) -> None:
    options = tls_options(tls, ssl_keyfile=tls.encrypted_keyfile, ssl_keyfile_password=PASSWORD)
    async with (serving(scheme_app(), **options) as running,
                httpx.AsyncClient(verify=tls.client_context(), timeout=IO_TIMEOUT) as client):
        response = await client.get(https(running.port, "/hello"))
    assert response.status_code == 200


# -- client certificates ---------------------------------------------------------------


@pytest.mark.anyio
async def test_required_client_certificates_refuse_a_client_without_one(tls: TLSFiles) -> None:
    options = tls_options(tls, ssl_cert_reqs=2, ssl_ca_certs=tls.ca_file)
    with_cert = tls.client_context()
    tls.ca.issue_cert("client@example.com").configure_cert(with_cert)
    async with serving(scheme_app(), **options) as running:
        async with httpx.AsyncClient(verify=with_cert, timeout=IO_TIMEOUT) as client:
            accepted = await client.get(https(running.port, "/hello"))
        async with httpx.AsyncClient(verify=tls.client_context(), timeout=IO_TIMEOUT) as client:
            # TLS 1.3: the refusal comes as an alert after the client's Finished.
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
                await client.get(https(running.port, "/hello"))
    assert accepted.status_code == 200


# -- what cannot hurt the server --------------------------------------------------------


@pytest.mark.anyio
async def test_a_client_that_never_handshakes_is_cut_off_after_the_head_timeout(
    tls: TLSFiles,
) -> None:
    async with serving(scheme_app(), **tls_options(tls, timeout_request_head=0.5)) as running:
        with anyio.fail_after(IO_TIMEOUT):
            silent = await anyio.connect_tcp("127.0.0.1", running.port)
        async with silent:
            with anyio.fail_after(IO_TIMEOUT):  # 10x the bound: only a cut-off ends this
                with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                    await silent.receive()
        async with httpx.AsyncClient(verify=tls.client_context(), timeout=IO_TIMEOUT) as client:
            assert (await client.get(https(running.port, "/hello"))).status_code == 200


@pytest.mark.anyio
async def test_plain_http_to_the_tls_port_is_closed_and_logged_at_debug_only(
    tls: TLSFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="microready")
    async with serving(scheme_app(), **tls_options(tls)) as running:
        with anyio.fail_after(IO_TIMEOUT):
            plain = await anyio.connect_tcp("127.0.0.1", running.port)
        async with plain:
            await plain.send(request("GET", "/hello"))
            received = b""
            with anyio.fail_after(IO_TIMEOUT):
                try:
                    while True:
                        received += await plain.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    pass
        async with httpx.AsyncClient(verify=tls.client_context(), timeout=IO_TIMEOUT) as client:
            assert (await client.get(https(running.port, "/hello"))).status_code == 200
    assert b"HTTP/1.1" not in received  # no plain-text answer; a TLS alert at most
    failures = [r for r in caplog.records if "TLS handshake" in r.getMessage()]
    assert [(r.levelname, r.getMessage().split(": ", 1)[1]) for r in failures] == [
        ("DEBUG", "plain HTTP sent to the TLS port")]
    access = [r.getMessage() for r in caplog.records if r.name == "microready.access"]
    assert len(access) == 1 and '"GET /hello HTTP/1.1" 200' in access[0]  # httpx's only


@pytest.mark.anyio
async def test_a_request_that_arrived_before_shutdown_is_answered_over_tls(
    tls: TLSFiles,
) -> None:
    async with serving(scheme_app(), **tls_options(tls)) as running:
        with anyio.fail_after(IO_TIMEOUT):
            waiting = await anyio.to_thread.run_sync(tls_socket, tls, running.port)
            idle = await anyio.to_thread.run_sync(tls_socket, tls, running.port)
        try:
            # Sent and shut down without yielding to the event loop: the server has
            # not read the request when the shutdown begins.
            waiting.sendall(request("GET", "/hello"))
            running.server.request_shutdown()
            with anyio.fail_after(IO_TIMEOUT):
                answer = await anyio.to_thread.run_sync(read_to_eof, waiting)
                nothing = await anyio.to_thread.run_sync(read_to_eof, idle)
        finally:
            waiting.close()
            idle.close()
    parser = ResponseParser()
    parser.feed(answer)
    parser.feed(b"")
    response = parser.next_response()
    assert response is not None and response.status == 200, answer
    assert response.header(b"connection") == b"close"
    assert nothing == b""  # the idle connection: closed, with no 408


@pytest.mark.anyio
async def test_receive_nowait_decrypts_what_has_arrived_without_waiting(tls: TLSFiles) -> None:
    # What the shutdown path relies on: a request already in the kernel's buffer is
    # read (and decrypted) at once; None means nothing came, b"" that the peer left.
    server_sock, client_sock = socket.socketpair()
    client_sock.settimeout(IO_TIMEOUT)
    client = tls.client_context().wrap_socket(
        client_sock, server_hostname="127.0.0.1", do_handshake_on_connect=False)
    context = server_context(Config(**tls_options(tls)))
    assert context is not None
    try:
        with anyio.fail_after(IO_TIMEOUT):
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(partial(anyio.to_thread.run_sync, client.do_handshake))
                stream = await handshake(RawSocketStream(server_sock), context, IO_TIMEOUT, None)
        assert stream is not None
        assert stream.receive_nowait() is None
        client.sendall(request("GET", "/hello"))
        with anyio.fail_after(IO_TIMEOUT):
            await anyio.wait_readable(server_sock)
        assert stream.receive_nowait() == request("GET", "/hello")
        assert stream.receive_nowait() is None
        client.close()
        with anyio.fail_after(IO_TIMEOUT):
            await anyio.wait_readable(server_sock)
        assert stream.receive_nowait() == b""
        await stream.aclose()
    finally:
        client.close()
        server_sock.close()


# -- start-up errors -------------------------------------------------------------------


def test_tls_options_that_do_not_fit_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="ssl_keyfile needs TLS"):
        Config(ssl_keyfile="key.pem")
    with pytest.raises(ConfigError, match="ssl_ca_certs, ssl_cert_reqs need TLS"):
        Config(ssl_ca_certs="ca.pem", ssl_cert_reqs=2)
    with pytest.raises(ConfigError, match=r"--ssl-cert-reqs 2 --ssl-ca-certs ca.pem"):
        Config(ssl_certfile="cert.pem", ssl_cert_reqs=2)
    with pytest.raises(ConfigError, match="ssl_cert_reqs=0 does not ask for"):
        Config(ssl_certfile="cert.pem", ssl_ca_certs="ca.pem")
    with pytest.raises(ConfigError, match="ssl_cert_reqs is 0"):
        Config(ssl_certfile="cert.pem", ssl_cert_reqs=3)


def server_error(**options: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        Server(MicroReady(), Config(**options))
    return str(raised.value)


def test_each_bad_tls_file_is_named(tls: TLSFiles) -> None:
    missing = str(tls.directory / "missing.pem")
    other_key = str(tls.directory / "other.pem")
    tls.ca.issue_cert("other.example").private_key_pem.write_to_path(other_key)
    garbage = tls.directory / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert server_error(ssl_certfile=tls.certfile, ssl_keyfile=missing).startswith(
        f"cannot read --ssl-keyfile {missing}: No such file or directory")
    assert server_error(ssl_certfile=str(garbage), ssl_keyfile=tls.keyfile) == (
        f"--ssl-certfile {garbage} holds no PEM certificate")
    assert server_error(ssl_certfile=tls.certfile, ssl_keyfile=other_key) == (
        f"the TLS key in {other_key} does not belong to the certificate in {tls.certfile}")
    assert server_error(ssl_certfile=tls.certfile, ssl_keyfile=tls.encrypted_keyfile) == (
        f"the TLS key file {tls.encrypted_keyfile} is encrypted; give its password:\n"
        f"    right: --ssl-keyfile {tls.encrypted_keyfile} --ssl-keyfile-password PASSWORD")
    assert "--ssl-keyfile-password is wrong" in server_error(
        ssl_certfile=tls.certfile, ssl_keyfile=tls.encrypted_keyfile,
        ssl_keyfile_password="wrong")
    assert "is not encrypted" in server_error(
        ssl_certfile=tls.certfile, ssl_keyfile=tls.keyfile, ssl_keyfile_password="unneeded")
    assert server_error(ssl_certfile=tls.certfile, ssl_keyfile=tls.keyfile,
                        ssl_cert_reqs=2, ssl_ca_certs=str(garbage)) == (
        f"--ssl-ca-certs {garbage} holds no PEM certificate")
    assert "selects no cipher" in server_error(
        ssl_certfile=tls.certfile, ssl_keyfile=tls.keyfile, ssl_ciphers="NOT-A-CIPHER")


def test_a_key_inside_the_certificate_file_is_enough(tls: TLSFiles) -> None:
    both = tls.directory / "both.pem"
    both.write_text(Path(tls.keyfile).read_text() + Path(tls.certfile).read_text())
    Server(MicroReady(), Config(ssl_certfile=str(both)))  # no ConfigError
    assert server_error(ssl_certfile=tls.certfile).startswith(
        f"cannot load the TLS key in {tls.certfile}: it holds no PEM private key")


APP_SOURCE = textwrap.dedent(
    """
    from microready import MicroReady

    app = MicroReady()
    """
)


@pytest.mark.parametrize("processes", [[], ["--workers", "2"], ["--reload"]])
def test_the_cli_exits_1_with_one_line_naming_the_bad_key_file(
    tls: TLSFiles, processes: list[str]
) -> None:
    # One line with --workers or --reload too: checked before any worker starts.
    (tls.directory / "served_app.py").write_text(APP_SOURCE)
    missing = tls.directory / "missing-key.pem"
    with server_process("served_app:app", "--port", "0", "--app-dir", str(tls.directory),
                        "--ssl-certfile", tls.certfile, "--ssl-keyfile", str(missing),
                        *processes) as server:
        code = server.wait_for_exit()
    assert code == 1, server.log
    assert len(server.lines) == 1, server.log
    assert server.lines[0].startswith(
        f"ERROR:    cannot read --ssl-keyfile {missing}: No such file or directory")


def test_the_cli_serves_https_and_says_so(tls: TLSFiles) -> None:
    (tls.directory / "served_app.py").write_text(APP_SOURCE + textwrap.dedent(
        """
        @app.get("/")
        async def index() -> str:
            return "ok"
        """))
    with server_process("served_app:app", "--port", "0", "--app-dir", str(tls.directory),
                        "--ssl-certfile", tls.certfile, "--ssl-keyfile", tls.keyfile) as server:
        port = int(server.wait_for_log(r"listening on https://127\.0\.0\.1:(\d+)")[0].group(1))
        response = httpx.get(https(port, "/"), verify=tls.client_context(), timeout=IO_TIMEOUT)
        assert server.terminate() == 0
    assert response.status_code == 200 and response.text == '"ok"'
