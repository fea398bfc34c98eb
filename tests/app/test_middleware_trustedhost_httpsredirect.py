"""TrustedHostMiddleware and HTTPSRedirectMiddleware, at the handler, through the app,
and against Starlette's answers to the same requests."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.middleware.httpsredirect import (
    HTTPSRedirectMiddleware as StarletteHTTPSRedirectMiddleware,
)
from starlette.middleware.trustedhost import (
    TrustedHostMiddleware as StarletteTrustedHostMiddleware,
)
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse as StarlettePlainTextResponse
from starlette.routing import Route as StarletteRoute

from microready import BackgroundTasks, MicroReady
from microready._exchange import Reply
from microready.background import BackgroundTask
from microready.middleware.httpsredirect import HTTPSRedirectMiddleware
from microready.middleware.trustedhost import TrustedHostMiddleware, parse_host_header
from microready.requests import Request
from microready.responses import PlainTextResponse
from tests.app.helpers import client_for
from tests.app.test_middleware_cors import asgi_answer, client_answer


class Endpoint:
    """The layer under the middleware: counts its calls, answers with a task attached."""

    def __init__(self) -> None:
        self.calls = 0
        self.task = BackgroundTask(lambda: None)

    async def handle(self, request: Request) -> Reply:
        self.calls += 1
        return Reply(PlainTextResponse("Homepage"), [self.task])


def make_request(host: str | None, target: bytes = b"/path?q=1", **scope: Any) -> Request:
    raw = [] if host is None else [(b"host", host.encode("latin-1"))]
    request = Request(method="GET", target=target, raw_headers=raw)
    request.scope.update(scope)
    return request


def location(reply: Reply) -> tuple[int, str | None]:
    return reply.response.status_code, reply.response.headers.get("location")


# -- the Host header ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "host", "port", "valid_port"),
    [
        ("example.com", "example.com", None, True),
        ("Example.COM:8000", "Example.COM", "8000", True),
        ("127.0.0.1:80", "127.0.0.1", "80", True),
        ("[::1]:8080", "[::1]", "8080", True),
        ("[v1.fe80::a+en1]", "[v1.fe80::a+en1]", None, True),
        ("example.com:65536", "example.com", "65536", False),
        ("example.com:" + "0" * 5000 + "80", "example.com", "0" * 5000 + "80", True),
        ("example.com:" + "9" * 5000, "example.com", "9" * 5000, False),
    ],
)
def test_host_headers_that_parse(value: str, host: str, port: str | None,
                                 valid_port: bool) -> None:
    parsed = parse_host_header(value)
    assert parsed is not None
    assert (parsed.host, parsed.port, parsed.port_is_valid) == (host, port, valid_port)


@pytest.mark.parametrize("value", [None, "", "bad host", "example.com:", "example.com:x",
                                   "[::g]", "[1::2::3]", "[::1", "user@example.com", "a/b"])
def test_host_headers_that_do_not(value: str | None) -> None:
    assert parse_host_header(value) is None


# -- TrustedHostMiddleware at the handler ----------------------------------------------------------


@pytest.mark.anyio
async def test_allowed_hosts_reach_the_app_with_their_reply_whole() -> None:
    endpoint = Endpoint()
    trusted = TrustedHostMiddleware(endpoint, allowed_hosts=["example.com", "*.example.org"])
    for host in ("example.com", "EXAMPLE.com:8000", "api.example.org", "a.b.example.org"):
        reply = await trusted.handle(make_request(host))
        assert reply.response.body == b"Homepage", host
        assert reply.tasks == [endpoint.task]
    assert endpoint.calls == 4


@pytest.mark.anyio
@pytest.mark.parametrize("host", [None, "evil.com", "example.org", "example.org.evil.com",
                                  "evilexample.org", "bad host"])
async def test_other_hosts_get_400(host: str | None) -> None:
    endpoint = Endpoint()
    trusted = TrustedHostMiddleware(endpoint, allowed_hosts=["example.com", "*.example.org"])
    reply = await trusted.handle(make_request(host))
    assert endpoint.calls == 0
    assert (reply.response.status_code, reply.response.body) == (400, b"Invalid host header")
    assert reply.tasks == []


@pytest.mark.anyio
async def test_the_bare_domain_is_sent_to_www() -> None:
    endpoint = Endpoint()
    trusted = TrustedHostMiddleware(endpoint, allowed_hosts=["www.example.com"])
    assert location(await trusted.handle(make_request("example.com:8000"))) == (
        307, "http://www.example.com:8000/path?q=1")
    assert location(await trusted.handle(make_request("example.com", scheme="https"))) == (
        307, "https://www.example.com/path?q=1")
    # A proxy's absolute-form target: only its path and query are kept.
    absolute = make_request("example.com", b"http://example.com/a?b=1")
    assert location(await trusted.handle(absolute)) == (307, "http://www.example.com/a?b=1")
    no_redirect = TrustedHostMiddleware(endpoint, allowed_hosts=["www.example.com"],
                                        www_redirect=False)
    assert location(await no_redirect.handle(make_request("example.com"))) == (400, None)
    assert endpoint.calls == 0


@pytest.mark.anyio
async def test_star_allows_any_host_even_none() -> None:
    endpoint = Endpoint()
    for middleware in (TrustedHostMiddleware(endpoint),
                       TrustedHostMiddleware(endpoint, allowed_hosts=["example.com", "*"])):
        assert (await middleware.handle(make_request(None))).response.body == b"Homepage"
    assert endpoint.calls == 2


@pytest.mark.parametrize(
    ("allowed_hosts", "error", "message"),
    [
        (["example.*"], ValueError, "Domain wildcard patterns must be like '*.example.com'"),
        (["*example.com"], ValueError,
         "wrong: app.add_middleware(TrustedHostMiddleware, allowed_hosts=['*example.com'])"),
        (["a.*.example.com"], ValueError, "right: app.add_middleware(TrustedHostMiddleware, "
                                          "allowed_hosts=[\"*.example.com\"])"),
        ("example.com", TypeError,
         "right: app.add_middleware(TrustedHostMiddleware, allowed_hosts=['example.com'])"),
        ([None], TypeError, "holds host names, not NoneType"),
    ],
)
def test_bad_patterns_show_the_right_call(allowed_hosts: Any, error: type[Exception],
                                          message: str) -> None:
    with pytest.raises(error) as raised:
        TrustedHostMiddleware(Endpoint(), allowed_hosts=allowed_hosts)
    assert message in str(raised.value)


# -- HTTPSRedirectMiddleware at the handler --------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("host", "scope", "expected"),
    [
        ("example.com", {}, "https://example.com/path?q=1"),
        ("example.com:80", {"scheme": "http"}, "https://example.com/path?q=1"),
        ("Example.com:443", {}, "https://example.com/path?q=1"),
        ("example.com:8080", {}, "https://example.com:8080/path?q=1"),
        ("[::1]:80", {}, "https://[::1]/path?q=1"),  # Starlette drops the brackets
        ("example.com", {"scheme": "ws"}, "wss://example.com/path?q=1"),
        (None, {"server": ("10.0.0.1", 80)}, "https://10.0.0.1/path?q=1"),
        (None, {"server": ("::1", 8000)}, "https://[::1]:8000/path?q=1"),
        ("bad host", {"server": ("10.0.0.1", 443)}, "https://10.0.0.1/path?q=1"),
        ("example.com:70000", {"server": ("10.0.0.1", 81)}, "https://10.0.0.1:81/path?q=1"),
    ],
)
async def test_plain_requests_are_redirected(host: str | None, scope: dict[str, Any],
                                             expected: str) -> None:
    endpoint = Endpoint()
    reply = await HTTPSRedirectMiddleware(endpoint).handle(make_request(host, **scope))
    assert location(reply) == (307, expected)
    assert endpoint.calls == 0 and reply.tasks == []


@pytest.mark.anyio
async def test_secure_requests_go_on_and_no_host_at_all_is_400() -> None:
    endpoint = Endpoint()
    redirect = HTTPSRedirectMiddleware(endpoint)
    for scheme in ("https", "wss"):
        reply = await redirect.handle(make_request("example.com", scheme=scheme))
        assert reply.response.body == b"Homepage" and reply.tasks == [endpoint.task]
    reply = await redirect.handle(make_request(None))
    assert (reply.response.status_code, reply.response.body) == (400, b"Invalid host header")
    assert endpoint.calls == 2


# -- through the app ------------------------------------------------------------------------------


def test_through_the_app(anyio_backend: str) -> None:
    ran: list[str] = []
    app = MicroReady()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["testserver", "www.example.com"])

    @app.get("/work")
    async def work(tasks: BackgroundTasks) -> str:
        tasks.add_task(ran.append, "task")
        return "done"

    client = client_for(app, anyio_backend, follow_redirects=False)
    assert client.get("/work").text == '"done"'
    assert ran == ["task"]
    evil = client.get("/work", headers={"host": "evil.com"})
    assert (evil.status_code, evil.text) == (400, "Invalid host header")
    moved = client.get("/work?x=1", headers={"host": "example.com"})
    assert (moved.status_code, moved.headers["location"]) == (307, "http://www.example.com/work?x=1")
    assert ran == ["task"]  # the refused requests never reached the endpoint

    redirecting = MicroReady()
    redirecting.add_middleware(HTTPSRedirectMiddleware)
    moved = client_for(redirecting, anyio_backend, follow_redirects=False).post("/a?b=%20")
    assert (moved.status_code, moved.headers["location"]) == (307, "https://testserver/a?b=%20")


# -- the same answers as Starlette -----------------------------------------------------------------

TRUSTED_CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "domain and subdomains": {"allowed_hosts": ["example.com", "*.example.com"]},
    "www only": {"allowed_hosts": ["www.example.com", "testserver"]},
    "www only, no redirect": {"allowed_hosts": ["www.example.com"], "www_redirect": False},
    "addresses": {"allowed_hosts": ["127.0.0.1", "[::1]"]},
    "any": {},
}
HOSTS = ["example.com", "Example.COM:8000", "api.example.com", "www.example.com", "evil.com",
         "example.com.evil.com", "evilexample.com", "127.0.0.1:8000", "[::1]:8000", "[::g]",
         "bad host", "testserver"]
TARGETS = ["/", "/path?q=1&r=%20", "/caf%C3%A9/"]


def starlette_app(middleware: Any, options: dict[str, Any]) -> Starlette:
    def homepage(request: StarletteRequest) -> StarlettePlainTextResponse:
        return StarlettePlainTextResponse("Homepage")

    routes = [StarletteRoute(path.partition("?")[0], homepage) for path in ("/", "/path")]
    routes.append(StarletteRoute("/café/", homepage))
    return Starlette(routes=routes, middleware=[StarletteMiddleware(middleware, **options)])


def microready_app(middleware: Any, options: dict[str, Any]) -> MicroReady:
    app = MicroReady()
    app.add_middleware(middleware, **options)
    for path in ("/", "/path", "/café/"):
        app.add_api_route(path, lambda: PlainTextResponse("Homepage"), methods=["GET"])
    return app


def differences(theirs: Starlette, ours: MicroReady, hosts: list[str],
                backend: str) -> list[str]:
    client = client_for(ours, backend, follow_redirects=False)
    found = []
    for host in hosts:
        for target in TARGETS:
            headers = {"host": host}
            expected = asgi_answer(theirs, "GET", target, headers, backend)
            got = client_answer(client, "GET", target, headers)
            if got != expected:
                found.append(f"{host} {target}:\n  starlette:  {expected}\n  microready: {got}")
    return found


@pytest.mark.parametrize("configuration", list(TRUSTED_CONFIGURATIONS))
def test_trusted_host_answers_as_starlette(configuration: str, anyio_backend: str) -> None:
    options = TRUSTED_CONFIGURATIONS[configuration]
    found = differences(starlette_app(StarletteTrustedHostMiddleware, options),
                        microready_app(TrustedHostMiddleware, options), HOSTS, anyio_backend)
    assert not found, "\n".join(found)


def test_https_redirect_answers_as_starlette(anyio_backend: str) -> None:
    hosts = ["example.com", "example.com:80", "Example.com:80", "example.com:443",
             "example.com:8080", "127.0.0.1:8000", "[::1]:8000", "testserver"]
    found = differences(starlette_app(StarletteHTTPSRedirectMiddleware, {}),
                        microready_app(HTTPSRedirectMiddleware, {}), hosts, anyio_backend)
    assert not found, "\n".join(found)


def test_the_tables_cover_every_kind_of_answer(anyio_backend: str) -> None:
    statuses = set()
    for options in TRUSTED_CONFIGURATIONS.values():
        client = client_for(microready_app(TrustedHostMiddleware, options), anyio_backend,
                            follow_redirects=False)
        statuses |= {client.get("/", headers={"host": host}).status_code for host in HOSTS}
    assert statuses == {200, 307, 400}
