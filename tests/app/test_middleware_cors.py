"""CORSMiddleware: preflights, simple requests, and Starlette's answers to compare.

The first tests drive the middleware's ``handle`` over a stub inner layer, so what
it does to a ``Reply`` (and that it keeps the tasks, the cleanup and the error) is
seen directly. Then a whole app through ``TestClient``, and last a table of
configurations and requests sent both to microready and to the same tiny app on
Starlette (with Starlette's own CORSMiddleware), which must answer alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse as StarlettePlainTextResponse
from starlette.routing import Route as StarletteRoute

from microready import BackgroundTasks, MicroReady
from microready._exchange import Reply
from microready.background import BackgroundTask
from microready.middleware.cors import ALL_METHODS, CORSMiddleware
from microready.requests import Request
from microready.responses import PlainTextResponse, Response
from tests.app.helpers import client_for

ORIGIN = "https://example.org"
PREFLIGHT = {"origin": ORIGIN, "access-control-request-method": "GET"}


class Endpoint:
    """The layer under the middleware: answers with ``response``, counts its calls."""

    def __init__(self, response: Response | None = None) -> None:
        self.response = response if response is not None else PlainTextResponse("Homepage")
        self.calls = 0
        self.task = BackgroundTask(lambda: None)
        self.error = RuntimeError("already answered with a 500")

    async def cleanup(self) -> None:  # pragma: no cover - never run: the test only holds it
        pass

    async def handle(self, request: Request) -> Reply:
        self.calls += 1
        return Reply(self.response, [self.task], self.cleanup, self.error)


def make_request(method: str = "GET", headers: dict[str, str] | None = None) -> Request:
    raw = [(name.lower().encode(), value.encode("latin-1"))
           for name, value in (headers or {}).items()]
    return Request(method=method, target=b"/path?q=1", raw_headers=raw)


async def send(middleware: CORSMiddleware, method: str = "GET",
               headers: dict[str, str] | None = None) -> Reply:
    return await middleware.handle(make_request(method, headers))


def header(reply: Reply, name: str) -> str | None:
    return reply.response.headers.get(name)


def vary(reply: Reply) -> set[str] | None:
    value = header(reply, "vary")
    return None if value is None else {item.strip() for item in value.split(",")}


# -- preflights, at the handler ---------------------------------------------------------


@pytest.mark.anyio
async def test_an_allowed_preflight_is_answered_without_the_app() -> None:
    endpoint = Endpoint()
    cors = CORSMiddleware(endpoint, allow_origins=[ORIGIN], allow_headers=["X-Example"],
                          allow_methods=["GET", "POST"], max_age=1200)
    reply = await send(cors, "OPTIONS", {**PREFLIGHT, "access-control-request-method": "POST",
                                         "access-control-request-headers": "x-example, Accept"})
    assert endpoint.calls == 0
    assert reply.response.status_code == 200
    assert reply.response.body == b"OK"
    assert reply.tasks == [] and reply.cleanup is None and reply.error is None
    assert header(reply, "access-control-allow-origin") == ORIGIN
    assert header(reply, "access-control-allow-methods") == "GET, POST"
    assert header(reply, "access-control-allow-headers") == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Example")
    assert header(reply, "access-control-max-age") == "1200"
    assert header(reply, "access-control-allow-credentials") is None
    assert vary(reply) == {"Origin", "Access-Control-Request-Method",
                           "Access-Control-Request-Headers",
                           "Access-Control-Request-Private-Network"}


@pytest.mark.anyio
async def test_a_preflight_names_everything_that_is_not_allowed() -> None:
    endpoint = Endpoint()
    cors = CORSMiddleware(endpoint, allow_origins=[ORIGIN], allow_headers=["X-Example"])
    reply = await send(cors, "OPTIONS", {"origin": "https://another.org",
                                         "access-control-request-method": "POST",
                                         "access-control-request-headers": "X-Nope",
                                         "access-control-request-private-network": "true"})
    assert endpoint.calls == 0
    assert reply.response.status_code == 400
    assert reply.response.body == b"Disallowed CORS origin, method, headers, private-network"
    assert header(reply, "access-control-allow-origin") is None
    # One failing header among several is named once.
    reply = await send(cors, "OPTIONS", {**PREFLIGHT,
                                         "access-control-request-headers": "X-Nope-1, X-Nope-2"})
    assert reply.response.body == b"Disallowed CORS headers"
    assert header(reply, "access-control-allow-origin") == ORIGIN


@pytest.mark.anyio
async def test_allow_all_with_credentials_echoes_the_origin_and_the_asked_headers() -> None:
    cors = CORSMiddleware(Endpoint(), allow_origins=["*"], allow_headers=["*"],
                          allow_methods=["*"], allow_credentials=True)
    reply = await send(cors, "OPTIONS", {**PREFLIGHT, "access-control-request-method": "QUERY",
                                         "access-control-request-headers": "X-Anything"})
    assert reply.response.status_code == 200
    assert header(reply, "access-control-allow-origin") == ORIGIN  # never "*" with credentials
    assert header(reply, "access-control-allow-headers") == "X-Anything"
    assert header(reply, "access-control-allow-credentials") == "true"
    assert header(reply, "access-control-allow-methods") == ", ".join(ALL_METHODS)


@pytest.mark.anyio
async def test_allow_all_without_credentials_says_star() -> None:
    cors = CORSMiddleware(Endpoint(), allow_origins="*", allow_methods="*")  # a bare "*" too
    reply = await send(cors, "OPTIONS", {**PREFLIGHT, "origin": "https://anywhere.net"})
    assert reply.response.status_code == 200
    assert header(reply, "access-control-allow-origin") == "*"
    assert header(reply, "access-control-allow-headers") == (
        "Accept, Accept-Language, Content-Language, Content-Type")


@pytest.mark.anyio
async def test_private_network_access_when_allowed() -> None:
    cors = CORSMiddleware(Endpoint(), allow_origins=["*"], allow_private_network=True)
    reply = await send(cors, "OPTIONS", {**PREFLIGHT,
                                         "access-control-request-private-network": "true"})
    assert reply.response.status_code == 200
    assert header(reply, "access-control-allow-private-network") == "true"
    reply = await send(cors, "OPTIONS", PREFLIGHT)
    assert header(reply, "access-control-allow-private-network") is None


@pytest.mark.anyio
async def test_methods_are_case_sensitive_and_options_without_the_method_is_no_preflight(
) -> None:
    endpoint = Endpoint()
    cors = CORSMiddleware(endpoint, allow_origins=[ORIGIN], allow_methods=["POST"])
    reply = await send(cors, "OPTIONS", {**PREFLIGHT, "access-control-request-method": "post"})
    assert (reply.response.status_code, reply.response.body) == (400, b"Disallowed CORS method")
    reply = await send(cors, "OPTIONS", {"origin": ORIGIN})  # a plain OPTIONS: the app answers
    assert endpoint.calls == 1
    assert reply.response.body == b"Homepage"
    assert header(reply, "access-control-allow-origin") == ORIGIN


# -- simple requests, at the handler ----------------------------------------------------


@pytest.mark.anyio
async def test_a_simple_request_keeps_the_replys_tasks_cleanup_and_error() -> None:
    endpoint = Endpoint()
    cors = CORSMiddleware(endpoint, allow_origins=[ORIGIN], expose_headers=["X-Status"],
                          allow_credentials=True)
    reply = await send(cors, "GET", {"origin": ORIGIN})
    assert endpoint.calls == 1
    assert reply.tasks == [endpoint.task]
    assert reply.cleanup == endpoint.cleanup
    assert reply.error is endpoint.error
    assert reply.response.body == b"Homepage"
    assert header(reply, "access-control-allow-origin") == ORIGIN
    assert header(reply, "access-control-allow-credentials") == "true"
    assert header(reply, "access-control-expose-headers") == "X-Status"
    assert vary(reply) == {"Origin"}


@pytest.mark.anyio
async def test_the_origin_regex_must_match_the_whole_origin() -> None:
    cors = CORSMiddleware(Endpoint(), allow_origin_regex=r"https://.*\.example\.org")
    reply = await send(cors, "GET", {"origin": "https://api.example.org"})
    assert header(reply, "access-control-allow-origin") == "https://api.example.org"
    reply = await send(cors, "GET", {"origin": "https://api.example.org.evil.com"})
    assert header(reply, "access-control-allow-origin") is None
    assert vary(reply) == {"Origin"}  # the answer still depends on the origin


@pytest.mark.anyio
async def test_a_disallowed_or_missing_origin_gets_no_allow_origin_but_vary() -> None:
    cors = CORSMiddleware(Endpoint(PlainTextResponse("x", headers={"Vary": "Accept-Encoding"})),
                          allow_origins=[ORIGIN])
    reply = await send(cors, "GET", {"origin": "https://another.org"})
    assert header(reply, "access-control-allow-origin") is None
    assert header(reply, "vary") == "Accept-Encoding, Origin"  # joined, as Starlette does
    reply = await send(cors, "GET")
    assert header(reply, "access-control-allow-origin") is None
    assert header(reply, "vary") == "Accept-Encoding, Origin"


@pytest.mark.anyio
async def test_a_response_returned_twice_is_not_edited_in_place() -> None:
    shared = PlainTextResponse("shared")
    original_headers = list(shared.raw_headers)
    cors = CORSMiddleware(Endpoint(shared), allow_origins=["*"], allow_credentials=True)
    first = await send(cors, "GET", {"origin": "https://first.example"})
    second = await send(cors, "GET")
    assert shared.raw_headers == original_headers
    assert header(first, "access-control-allow-origin") == "https://first.example"
    assert header(second, "access-control-allow-origin") is None  # nothing leaked over
    assert header(second, "vary") == "Origin"
    assert type(first.response) is PlainTextResponse


# -- configuration errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"allow_origins": "https://example.org"}, TypeError,
         "right: app.add_middleware(CORSMiddleware, allow_origins=['https://example.org'])"),
        ({"allow_methods": "GET,POST"}, TypeError, "letter by letter"),
        ({"allow_headers": [b"X-Token"]}, TypeError, "holds strings, not bytes"),
        ({"allow_origins": ["https://example.org/"]}, ValueError,
         "right: app.add_middleware(CORSMiddleware, allow_origins=['https://example.org'])"),
        ({"allow_origins": ["example.org"]}, ValueError, "scheme://host[:port]"),
        ({"allow_origins": ["https://*.example.org"]}, ValueError, "allow_origin_regex"),
        ({"allow_origin_regex": "https://(.*"}, ValueError, "is not a regular expression"),
        ({"max_age": "600"}, TypeError, "right: app.add_middleware(CORSMiddleware, max_age=600)"),
    ],
)
def test_configuration_errors_show_the_right_call(options: dict[str, Any],
                                                  error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        CORSMiddleware(Endpoint(), **options)
    assert message in str(raised.value)


def test_null_and_ports_are_valid_origins() -> None:
    cors = CORSMiddleware(Endpoint(), allow_origins=["null", "http://localhost:8080"])
    assert cors.is_allowed_origin("null") and cors.is_allowed_origin("http://localhost:8080")
    assert not cors.is_allowed_origin("http://localhost")


# -- through the app ------------------------------------------------------------------------


def test_background_task_runs_after_a_cors_response(anyio_backend: str) -> None:
    ran: list[str] = []
    app = MicroReady()
    app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN])

    @app.get("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(ran.append, "task")
        return {"status": "queued"}

    with client_for(app, anyio_backend) as client:
        response = client.get("/work", headers={"Origin": ORIGIN})
        preflight = client.options("/work", headers=PREFLIGHT)
    assert response.json() == {"status": "queued"}
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert ran == ["task"]
    assert preflight.status_code == 200 and preflight.text == "OK"


def test_errors_from_the_app_get_cors_headers_too(anyio_backend: str) -> None:
    app = MicroReady()
    app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN])

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    client = client_for(app, anyio_backend, raise_server_exceptions=False)
    missing = client.get("/missing", headers={"Origin": ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ORIGIN
    # Starlette's 500 comes from outside its CORS middleware, so a browser cannot read it;
    # microready's app answers inside the stack, and the 500 is readable like the rest.
    failed = client.get("/broken", headers={"Origin": ORIGIN})
    assert failed.status_code == 500
    assert failed.headers["access-control-allow-origin"] == ORIGIN


# -- the same answers as Starlette ------------------------------------------------------------

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "all, credentials": {"allow_origins": ["*"], "allow_headers": ["*"], "allow_methods": ["*"],
                         "expose_headers": ["X-Status"], "allow_credentials": True},
    "all": {"allow_origins": ["*"], "allow_headers": ["*"], "allow_methods": ["*"],
            "expose_headers": ["X-Status", "X-Other"]},
    "one origin": {"allow_origins": [ORIGIN], "allow_headers": ["X-Example", "Content-Type"]},
    "regex, credentials": {"allow_origin_regex": r"https://.*\.example\.org",
                           "allow_credentials": True, "allow_headers": ["X-Example"]},
    "list and regex": {"allow_origins": [ORIGIN], "allow_origin_regex": r"https://.*\.trusted\.com",
                       "allow_methods": ["GET", "POST"], "allow_private_network": True,
                       "max_age": 7200},
    "defaults": {},
}

REQUESTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "no origin": ("GET", "/", {}),
    "allowed origin": ("GET", "/", {"Origin": ORIGIN}),
    "other origin": ("GET", "/", {"Origin": "https://another.org"}),
    "subdomain": ("GET", "/", {"Origin": "https://api.example.org"}),
    "suffix attack": ("GET", "/", {"Origin": "https://api.example.org.hacker.com"}),
    "trusted": ("POST", "/", {"Origin": "https://api.trusted.com"}),
    "null": ("GET", "/", {"Origin": "null"}),
    "cookie": ("GET", "/", {"Origin": ORIGIN, "Cookie": "session=1"}),
    "app's vary": ("GET", "/vary", {"Origin": ORIGIN}),
    "app's vary, no origin": ("GET", "/vary", {}),
    "plain options": ("OPTIONS", "/", {"Origin": ORIGIN}),
    "preflight": ("OPTIONS", "/", PREFLIGHT),
    "preflight, headers": ("OPTIONS", "/", {
        **PREFLIGHT, "Access-Control-Request-Headers": "X-Example, content-type"}),
    "preflight, bad headers": ("OPTIONS", "/", {
        **PREFLIGHT, "Access-Control-Request-Headers": "X-Nope-1, X-Nope-2"}),
    "preflight, other origin": ("OPTIONS", "/", {"Origin": "https://another.org",
                                                "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "X-Nope"}),
    "preflight, subdomain": ("OPTIONS", "/", {"Origin": "https://api.example.org",
                                             "Access-Control-Request-Method": "GET"}),
    "preflight, trusted": ("OPTIONS", "/", {"Origin": "https://api.trusted.com",
                                           "Access-Control-Request-Method": "POST"}),
    "preflight, lower-case method": ("OPTIONS", "/", {**PREFLIGHT,
                                                     "access-control-request-method": "post"}),
    "preflight, private network": ("OPTIONS", "/", {
        **PREFLIGHT, "Access-Control-Request-Private-Network": "true"}),
    "preflight, null": ("OPTIONS", "/", {"Origin": "null", "Access-Control-Request-Method": "GET"}),
}

# Headers the transport adds on its own, which the comparison leaves out.
TRANSPORT_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}

Answer = tuple[int, bytes, list[tuple[str, str]]]


def asgi_answer(app: Any, method: str, target: str, headers: dict[str, str],
                backend: str) -> Answer:
    """What an ASGI app answers to one request, as (status, body, sorted headers).

    Starlette's app is called the way an ASGI server calls it, with the same
    ``Host`` as microready's ``TestClient`` sends (Starlette's own test client
    warns on the httpx installed here, and warnings are errors).
    """
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": unquote(path), "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(k.lower().encode(), v.encode("latin-1"))
                    for k, v in {"host": "testserver", **{k.lower(): v for k, v in
                                                          headers.items()}}.items()],
        "client": ("testclient", 50000), "server": ("testserver", 80),
    }
    status = 0
    body: list[bytes] = []
    sent: list[tuple[str, str]] = []
    request_sent = False

    async def call() -> None:
        complete = anyio.Event()

        async def receive() -> dict[str, Any]:
            # The (empty) body once; then, as a server does, a disconnect once the
            # response is complete (Starlette's streams listen for it meanwhile).
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                sent.extend((k.decode("latin-1"), v.decode("latin-1"))
                            for k, v in message["headers"])
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    complete.set()

        await app(scope, receive, send)

    anyio.run(call, backend=backend)
    return status, b"".join(body), sorted(
        (name.lower(), value) for name, value in sent if name.lower() not in TRANSPORT_HEADERS)


def client_answer(client: Any, method: str, target: str, headers: dict[str, str]) -> Answer:
    """The same, from microready's ``TestClient`` (the body decoded, as a browser has it)."""
    response = client.request(method, target, headers=headers)
    return response.status_code, response.content, sorted(
        (name.lower(), value) for name, value in response.headers.multi_items()
        if name.lower() not in TRANSPORT_HEADERS)


def starlette_app(options: dict[str, Any]) -> Starlette:
    def homepage(request: StarletteRequest) -> StarlettePlainTextResponse:
        return StarlettePlainTextResponse("Homepage")

    def with_vary(request: StarletteRequest) -> StarlettePlainTextResponse:
        return StarlettePlainTextResponse("Varies", headers={"Vary": "Accept-Encoding"})

    return Starlette(
        routes=[StarletteRoute("/", homepage, methods=["GET", "POST", "OPTIONS"]),
                StarletteRoute("/vary", with_vary)],
        middleware=[StarletteMiddleware(StarletteCORSMiddleware, **options)],
    )


def microready_app(options: dict[str, Any]) -> MicroReady:
    app = MicroReady()
    app.add_middleware(CORSMiddleware, **options)

    @app.api_route("/", methods=["GET", "POST", "OPTIONS"])
    async def homepage() -> PlainTextResponse:
        return PlainTextResponse("Homepage")

    @app.get("/vary")
    async def with_vary() -> PlainTextResponse:
        return PlainTextResponse("Varies", headers={"Vary": "Accept-Encoding"})

    return app


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_the_same_answers_as_starlette(configuration: str, anyio_backend: str) -> None:
    options = CONFIGURATIONS[configuration]
    theirs = starlette_app(options)
    ours = client_for(microready_app(options), anyio_backend)
    differences = []
    for name, (method, path, headers) in REQUESTS.items():
        expected = asgi_answer(theirs, method, path, headers, anyio_backend)
        got = client_answer(ours, method, path, headers)
        if got != expected:
            differences.append(f"{name}:\n  starlette:  {expected}\n  microready: {got}")
    assert not differences, "\n".join(differences)


def test_the_table_covers_every_kind_of_answer(anyio_backend: str) -> None:
    # So the comparison above cannot pass by comparing only uneventful answers.
    statuses: set[int] = set()
    allow_origins: set[str] = set()
    for options in CONFIGURATIONS.values():
        client = client_for(microready_app(options), anyio_backend)
        for method, path, headers in REQUESTS.values():
            status, _, sent = client_answer(client, method, path, headers)
            statuses.add(status)
            allow_origins.add(dict(sent).get("access-control-allow-origin", "(none)"))
    assert statuses == {200, 400}
    assert {"*", ORIGIN, "https://api.example.org", "https://api.trusted.com", "null",
            "(none)"} <= allow_origins
