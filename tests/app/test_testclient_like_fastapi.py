"""TestClient behaves as FastAPI's (httpx's) where tests touch it.

What each test expects is what FastAPI 0.165's TestClient (Starlette 1.10, httpx
0.28) does with the same app and calls; where httpx itself can answer (its
``Cookies`` jar, ``BasicAuth``, ``Client.build_request``), it is asked here.
"""

from __future__ import annotations

import base64
import builtins
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from microready import BackgroundTasks, MicroReady, Request, Response
from microready._client_headers import ClientHeaders
from microready._client_response import ClientRequest, reason_phrase
from microready._client_url import URL, merge_url, with_params
from microready._cookie_jar import CookieConflict, Cookies
from microready.responses import PlainTextResponse, RedirectResponse
from microready.testing import _unwrapped

from .helpers import client_for


def echo_app() -> MicroReady:
    """``/echo`` (and ``/sub/echo``, ``/api/items``) answer what they were sent."""
    app = MicroReady()

    async def echo(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "headers": [[k.decode(), v.decode()] for k, v in request.headers.raw],
            "cookies": dict(request.cookies),
            "path": request.url.path,
            "query": request.url.query,
            "body": (await request.body()).decode(),
        }

    for path in ("/echo", "/sub/echo", "/api/items", "/api/", "/items/{name}"):
        for method in (app.get, app.post, app.put):
            method(path)(echo)
    return app


def sent(response: Any, name: str) -> list[str]:
    """The values of header ``name`` that the app received."""
    return [v for k, v in response.json()["headers"] if k == name]


# -- cookies: a jar kept from Set-Cookie ---------------------------------------------------


def cookie_app() -> MicroReady:
    app = echo_app()

    @app.post("/login")
    async def login(response: Response) -> dict[str, str]:
        response.set_cookie("session", "abc")
        response.set_cookie("theme", "dark", path="/sub")
        return {}

    @app.post("/logout")
    async def logout(response: Response) -> dict[str, str]:
        response.delete_cookie("session")  # Max-Age=0
        return {}

    @app.post("/expire")
    async def expire() -> Response:
        return Response(headers={"set-cookie": "theme=old; Expires=Thu, 01 Jan 1970 00:00:00 GMT;"
                                               " Path=/sub"})

    @app.post("/domains")
    async def domains(response: Response) -> dict[str, str]:
        response.set_cookie("plain", "1")
        response.set_cookie("local", "2", domain="testserver.local")
        response.set_cookie("bare", "3", domain="testserver")
        response.set_cookie("foreign", "4", domain="example.com")
        return {}

    @app.get("/hop")
    async def hop() -> Response:
        response = RedirectResponse("/echo", status_code=302)
        response.set_cookie("hopped", "yes")
        return response

    return app


def test_set_cookie_fills_the_jar_and_is_sent_back(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    login = client.post("/login")
    assert dict(login.cookies) == {"session": "abc", "theme": "dark"}  # what it set
    assert client.cookies["session"] == "abc"
    assert client.cookies.get("theme") == "dark"
    answer = client.get("/echo")
    assert answer.json()["cookies"] == {"session": "abc"}  # theme is for /sub only
    assert dict(answer.cookies) == {}  # this response set none
    assert client.get("/sub/echo").json()["cookies"] == {"theme": "dark", "session": "abc"}
    # Longest path first, as the standard library's jar (and so httpx) orders them.
    assert sent(client.get("/sub/echo"), "cookie") == ["theme=dark; session=abc"]


def test_max_age_0_and_a_past_expires_delete_the_cookie(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    client.post("/login")
    client.post("/logout")
    assert "session" not in client.cookies
    assert client.get("/sub/echo").json()["cookies"] == {"theme": "dark"}
    client.post("/expire")
    assert client.get("/sub/echo").json()["cookies"] == {}
    assert len(client.cookies) == 0


def test_domains_as_httpx_cookiejar_sees_testserver(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    client.post("/domains")
    stored = sorted((c.name, c.domain) for c in client.cookies.jar)
    # "testserver" has no dot, so the jar calls it "testserver.local"; example.com is
    # refused; Domain=testserver is kept as ".testserver" but never matches again.
    assert stored == [("bare", ".testserver"), ("local", ".testserver.local"),
                      ("plain", "testserver.local")]
    assert client.get("/echo").json()["cookies"] == {"plain": "1", "local": "2"}
    # The same headers, read by httpx's own jar, leave the same cookies.
    reference = httpx.Cookies()
    reference.extract_cookies(httpx.Response(
        200, headers=[("set-cookie", v) for v in client.post("/domains").headers.get_list(
            "set-cookie")],
        request=httpx.Request("POST", "http://testserver/domains"),
    ))
    assert sorted((c.name, c.domain) for c in reference.jar) == stored


def test_a_redirect_sets_cookies_that_the_next_hop_sends(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    response = client.get("/hop")
    assert response.json()["cookies"] == {"hopped": "yes"}
    assert dict(response.history[0].cookies) == {"hopped": "yes"}
    assert client.cookies["hopped"] == "yes"


def test_cookies_the_test_sets_gets_and_deletes(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    client.cookies["a"] = "1"
    client.cookies.set("b", "2", domain="testserver.local", path="/sub")
    client.cookies.set("c", "3", domain="example.com")
    assert client.get("/echo").json()["cookies"] == {"a": "1"}
    assert client.get("/sub/echo").json()["cookies"] == {"a": "1", "b": "2"}
    assert (client.cookies["a"], client.cookies.get("b"), client.cookies.get("zz")) == (
        "1", "2", None)
    assert sorted(client.cookies) == ["a", "b", "c"] and "c" in client.cookies
    del client.cookies["a"]
    client.cookies.delete("c")
    assert sorted(client.cookies) == ["b"]
    with pytest.raises(KeyError):
        client.cookies["a"]
    client.cookies.clear()
    assert not client.cookies and client.get("/sub/echo").json()["cookies"] == {}


def test_two_cookies_of_one_name_conflict_until_a_domain_is_given() -> None:
    jar = Cookies()
    jar.set("a", "1")
    jar.set("a", "2", domain="other.example")
    with pytest.raises(CookieConflict, match="Multiple cookies exist with name=a"):
        jar["a"]
    assert (jar.get("a", domain=""), jar.get("a", domain="other.example")) == ("1", "2")
    reference = httpx.Cookies()
    reference.set("a", "1")
    reference.set("a", "2", domain="other.example")
    with pytest.raises(httpx.CookieConflict):
        reference["a"]


def test_client_cookies_from_the_constructor_and_by_assignment(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend, cookies={"first": "1"})
    assert client.get("/echo").json()["cookies"] == {"first": "1"}
    client.cookies = {"second": "2"}  # as httpx: the setter makes a jar of them
    assert client.get("/echo").json()["cookies"] == {"second": "2"}
    assert isinstance(client.cookies, Cookies)


def test_per_request_cookies_are_sent_but_not_kept(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    client.post("/login")
    response = client.get("/echo", cookies={"extra": "x"})
    assert response.json()["cookies"] == {"session": "abc", "extra": "x"}
    assert "extra" not in client.cookies
    assert client.get("/echo").json()["cookies"] == {"session": "abc"}


def test_a_cookie_header_the_test_gives_is_sent_as_given(anyio_backend: str) -> None:
    client = client_for(cookie_app(), anyio_backend)
    client.post("/login")
    assert sent(client.get("/echo", headers={"Cookie": "mine=1"}), "cookie") == ["mine=1"]


# -- auth=, params=, headers=, base_url ----------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auth_tuple_per_request_and_on_the_client(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    assert sent(client.get("/echo", auth=("user", "pässword")), "authorization") == [
        basic("user", "pässword")
    ]
    assert basic("user", "pässword") == httpx.BasicAuth("user", "pässword")._auth_header
    assert sent(client.get("/echo"), "authorization") == []
    client.auth = ("cu", "cp")
    assert sent(client.get("/echo"), "authorization") == [basic("cu", "cp")]
    assert sent(client.get("/echo", auth=("r", "q")), "authorization") == [basic("r", "q")]
    assert sent(client.get("/echo", auth=None), "authorization") == []  # as httpx
    # auth= wins over an Authorization header, as httpx's BasicAuth sets it last.
    given = client.get("/echo", headers={"Authorization": "Bearer t"}, auth=("u", "p"))
    assert sent(given, "authorization") == [basic("u", "p")]
    with pytest.raises(TypeError, match=r"auth= takes a \(username, password\) tuple"):
        client.get("/echo", auth="user:password")
    other = client_for(echo_app(), anyio_backend, auth=("init", "pw"))
    assert sent(other.get("/echo"), "authorization") == [basic("init", "pw")]


@pytest.mark.parametrize(("url", "params", "query"), [
    ("/echo?a=1&b=2", {"a": "3"}, "a=3"),  # httpx 0.28: params= replaces the query
    ("/echo?a=1", [("a", "2"), ("b", "x"), ("a", "3")], "a=2&a=3&b=x"),
    ("/echo", {"l": [1, 2], "t": True, "n": None, "f": 1.5, "no": False},
     "l=1&l=2&t=true&n=&f=1.5&no=false"),
    ("/echo?q", "c=d&c=e", "c=d&c=e"),
    ("/echo", {"s": "a b/c&é"}, "s=a+b%2Fc%26%C3%A9"),
    ("/echo?z=1", {}, ""),
    ("/echo?z=1", None, "z=1"),
    ("/echo?q=a b&r=é", None, "q=a%20b&r=%C3%A9"),
])
def test_params_as_httpx(anyio_backend: str, url: str, params: Any, query: str) -> None:
    response = client_for(echo_app(), anyio_backend).get(url, params=params)
    assert response.json()["query"] == query
    expected = httpx.Client(base_url="http://testserver").build_request(
        "GET", url, params=params).url
    assert response.url == str(expected)


def test_url_building_matches_httpx() -> None:
    for base_url in ("http://testserver", "http://testserver/api", "http://testserver/api/",
                     "http://testserver:80"):
        client = httpx.Client(base_url=base_url)
        for url in ("/items", "items", "", "/", "/a b/é/%41/{x}", "http://other:8080/z?q=1",
                    "/x?a=1#frag"):
            assert merge_url(base_url, url) == str(client.build_request("GET", url).url), (
                base_url, url)
    assert with_params(merge_url("http://testserver", "/x"), [("k", "v")]) == (
        "http://testserver/x?k=v")


def test_base_url_with_a_path_prefix(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend, base_url="http://testserver/api")
    assert client.base_url == "http://testserver/api/"
    assert client.get("/items").json()["path"] == "/api/items"
    assert client.get("items").json()["path"] == "/api/items"
    assert client.get("").json()["path"] == "/api/"
    assert client.get("http://testserver/echo").json()["path"] == "/echo"  # absolute
    other = client_for(echo_app(), anyio_backend, base_url="http://example.com:8080")
    assert sent(other.get("/echo"), "host") == ["example.com:8080"]


def test_a_path_is_percent_encoded_as_httpx_does(anyio_backend: str) -> None:
    response = client_for(echo_app(), anyio_backend).get("/items/a b")
    assert response.json()["path"] == "/items/a b"
    assert response.url == "http://testserver/items/a%20b"
    assert response.url.path == "/items/a b"


def test_headers_as_dict_or_pairs_and_client_headers(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend, headers={"X-Init": "1"})
    assert list(client.headers.items()) == [
        ("accept", "*/*"), ("accept-encoding", "gzip, deflate"), ("connection", "keep-alive"),
        ("x-init", "1"), ("user-agent", "testclient"),
    ]
    response = client.get("/echo", headers=[("X-A", "1"), ("x-a", "2")])
    assert sent(response, "x-a") == ["1", "2"]
    client.headers["X-Client"] = "c"
    assert "x-client" in client.headers and client.headers["X-CLIENT"] == "c"
    assert sent(client.get("/echo"), "x-client") == ["c"]
    assert sent(client.get("/echo", headers={"x-client": "mine"}), "x-client") == ["mine"]
    del client.headers["x-client"]
    assert sent(client.get("/echo"), "x-client") == []
    client.headers = {"X-New": "n"}  # as httpx: added to the defaults
    assert sent(client.get("/echo"), "x-new") == ["n"]
    assert sent(client.get("/echo"), "accept") == ["*/*"]


def test_a_host_or_user_agent_header_the_test_gives_is_sent_as_given(
    anyio_backend: str,
) -> None:
    client = client_for(echo_app(), anyio_backend)
    response = client.get("/echo", headers={"Host": "example.org", "User-Agent": "me"})
    assert sent(response, "host") == ["example.org"]
    assert sent(response, "user-agent") == ["me"]
    assert response.request.headers["host"] == "example.org"
    assert sent(client.get("/echo"), "host") == ["testserver"]


def test_the_bodies_still_work(anyio_backend: str) -> None:
    client = client_for(echo_app(), anyio_backend)
    assert client.post("/echo", json={"a": 1}).json()["body"] == '{"a": 1}'
    assert client.post("/echo", content="text").json()["body"] == "text"
    assert client.post("/echo", data={"a": "1"}).json()["body"] == "a=1"
    form = client.post("/echo", files={"f": ("f.txt", b"x")})
    assert sent(form, "content-type")[0].startswith("multipart/form-data; boundary=")
    assert sent(client.post("/echo"), "content-length") == ["0"]
    assert sent(client.get("/echo"), "content-length") == []


# -- redirects -------------------------------------------------------------------------------


def redirect_app() -> MicroReady:
    app = echo_app()

    async def redirect(code: int, to: str = "/echo") -> Response:
        return RedirectResponse(to, status_code=code)

    for method in (app.get, app.post, app.put):
        method("/r/{code}")(redirect)
    return app


@pytest.mark.parametrize(("code", "method", "then", "body"), [
    (301, "POST", "GET", ""), (301, "PUT", "PUT", "body"),
    (302, "POST", "GET", ""), (302, "PUT", "GET", ""),
    (303, "POST", "GET", ""), (303, "PUT", "GET", ""),
    (307, "POST", "POST", "body"), (308, "PUT", "PUT", "body"),
])
def test_redirects_change_the_method_as_httpx(anyio_backend: str, code: int, method: str,
                                              then: str, body: str) -> None:
    client = client_for(redirect_app(), anyio_backend)
    response = client.request(method, f"/r/{code}", content=b"body",
                              headers={"authorization": "secret"})
    assert (response.status_code, response.json()["method"], response.json()["body"]) == (
        200, then, body)
    assert response.request.method == then
    assert response.url == "http://testserver/echo"
    assert [(r.status_code, r.request.method, r.url) for r in response.history] == [
        (code, method, f"http://testserver/r/{code}")]
    assert sent(response, "authorization") == ["secret"]  # same origin: kept
    assert sent(response, "content-length") == ([] if then == "GET" else ["4"])


def test_a_redirect_away_drops_authorization_and_sets_host(anyio_backend: str) -> None:
    client = client_for(redirect_app(), anyio_backend)
    response = client.get("/r/302", params={"to": "http://other.example/echo"},
                          headers={"Authorization": "secret"})
    assert response.url == "http://other.example/echo"
    assert (sent(response, "host"), sent(response, "authorization")) == (["other.example"], [])


def test_follow_redirects_false(anyio_backend: str) -> None:
    client = client_for(redirect_app(), anyio_backend)
    response = client.get("/r/307", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/echo")
    assert response.is_redirect and response.history == []
    client = client_for(redirect_app(), anyio_backend, follow_redirects=False)
    assert client.get("/r/307").status_code == 307
    assert client.get("/r/307", follow_redirects=True).status_code == 200


def test_too_many_redirects(anyio_backend: str) -> None:
    app = MicroReady()
    calls: list[int] = []

    @app.get("/loop")
    async def loop() -> Response:
        calls.append(1)
        return RedirectResponse("/loop")

    with pytest.raises(RuntimeError, match="more than 20 redirects"):
        client_for(app, anyio_backend).get("/loop")
    assert len(calls) == 21  # as httpx: 20 redirects followed, the 21st refused


# -- exceptions come out as themselves -------------------------------------------------------


def lifespan_app(log: list[str], fail: str = "") -> MicroReady:
    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        if fail == "startup":
            raise ValueError("startup failed")
        log.append("startup")
        yield
        log.append("shutdown")
        if fail == "shutdown":
            raise ValueError("shutdown failed")

    app = MicroReady(lifespan=lifespan)

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("from the app")

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    return app


def test_an_exception_in_the_with_block_is_itself_and_shutdown_runs(anyio_backend: str) -> None:
    log: list[str] = []
    with pytest.raises(KeyError, match="mine"), client_for(lifespan_app(log), anyio_backend):
        raise KeyError("mine")
    assert log == ["startup", "shutdown"]


def test_an_exception_group_the_test_raises_stays_a_group(anyio_backend: str) -> None:
    # Built in from Python 3.11; the backport (which anyio brings) on 3.10.
    group: Any = getattr(builtins, "ExceptionGroup", None) or pytest.importorskip(
        "exceptiongroup").ExceptionGroup
    with pytest.raises(group) as caught, client_for(lifespan_app([]), anyio_backend):
        raise group("mine", [KeyError("a")])
    assert caught.value.message == "mine"


def test_an_app_exception_is_itself_inside_and_outside_with(anyio_backend: str) -> None:
    log: list[str] = []
    client = client_for(lifespan_app(log), anyio_backend)
    with pytest.raises(KeyError, match="from the app"), client:
        client.get("/boom")
    assert log == ["startup", "shutdown"]
    with pytest.raises(KeyError, match="from the app"):
        client.get("/boom")
    assert client_for(lifespan_app(log), anyio_backend, raise_server_exceptions=False).get(
        "/boom").status_code == 500


def test_a_failing_startup_raises_its_exception(anyio_backend: str) -> None:
    client = client_for(lifespan_app([], fail="startup"), anyio_backend)
    with pytest.raises(ValueError, match="startup failed"), client:
        pass  # pragma: no cover - never reached
    assert client.get("/ok").json() == {"ok": True}  # and the client still works


def test_a_failing_shutdown_raises_its_exception(anyio_backend: str) -> None:
    log: list[str] = []
    with pytest.raises(ValueError, match="shutdown failed"), client_for(
        lifespan_app(log, fail="shutdown"), anyio_backend
    ) as client:
        assert client.get("/ok").json() == {"ok": True}
    assert log == ["startup", "shutdown"]


def test_a_group_the_lifespan_makes_stays_a_group(anyio_backend: str) -> None:
    # As in Starlette: only the client's own task groups are unwrapped.
    async def fail() -> None:
        raise ValueError("in the lifespan's task group")

    @asynccontextmanager
    async def lifespan(app: MicroReady) -> AsyncIterator[None]:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(fail)
        yield  # pragma: no cover - never reached

    group: Any = getattr(builtins, "BaseExceptionGroup", None) or pytest.importorskip(
        "exceptiongroup").BaseExceptionGroup
    with pytest.raises(group) as caught, client_for(MicroReady(lifespan=lifespan),
                                                    anyio_backend):
        pass  # pragma: no cover - never reached
    assert caught.group_contains(ValueError, match="in the lifespan's task group")


def test_the_exchange_unwraps_groups_of_one() -> None:
    group: Any = getattr(builtins, "ExceptionGroup", None) or pytest.importorskip(
        "exceptiongroup").ExceptionGroup
    error = RuntimeError("the server closed the connection without a response")
    with pytest.raises(RuntimeError) as caught, _unwrapped():
        raise group("outer", [group("inner", [error])])
    assert caught.value is error
    with pytest.raises(group), _unwrapped():
        raise group("two", [KeyError("a"), KeyError("b")])


def test_background_tasks_finish_before_the_call_returns(anyio_backend: str) -> None:
    app = MicroReady()
    done: list[str] = []

    @app.post("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(done.append, "task")
        return {}

    client = client_for(app, anyio_backend)
    client.post("/work")
    assert done == ["task"]
    with client:
        client.post("/work")
        assert done == ["task", "task"]


# -- the response ------------------------------------------------------------------------------


def test_response_attributes(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/two")
    async def two() -> Response:
        response = PlainTextResponse("héllo".encode("latin-1"),
                                     media_type="text/plain; charset=latin-1")
        response.headers.append("x-m", "1")
        response.headers.append("x-m", "2")
        return response

    @app.get("/teapot")
    async def teapot() -> Response:
        return Response(status_code=418)

    client = client_for(app, anyio_backend)
    response = client.get("/two?x=1")
    assert (response.status_code, response.reason_phrase, response.http_version) == (
        200, "OK", "HTTP/1.1")
    assert response.headers["X-M"] == "1, 2" and response.headers.get_list("x-m") == ["1", "2"]
    assert ("x-m", "1, 2") in response.headers.items()
    assert response.content == "héllo".encode("latin-1")
    assert (response.encoding, response.text) == ("latin-1", "héllo")
    assert response.is_success and not response.is_error and not response.is_redirect
    assert response.url == "http://testserver/two?x=1"
    assert (response.url.path, response.url.query, response.url.host) == (
        "/two", b"x=1", "testserver")
    assert response.url.params["x"] == "1"
    assert (response.request.method, response.request.url) == ("GET", response.url)
    assert response.request.headers["user-agent"] == "testclient"
    assert repr(response) == "<Response [200 OK]>"
    teapot_response = client.get("/teapot")
    assert (teapot_response.reason_phrase, teapot_response.is_error) == ("I'm a teapot", True)
    assert teapot_response.reason_phrase == httpx.codes.get_reason_phrase(418)


# -- the containers, next to httpx's own -----------------------------------------------------


def test_headers_behave_as_httpx_headers() -> None:
    pairs = [("A", "1"), ("b", "2"), ("a", "3")]
    ours, theirs = ClientHeaders(pairs), httpx.Headers(pairs)
    assert (ours["a"], list(ours.items()), len(ours)) == (
        theirs["a"], list(theirs.items()), len(theirs.keys()))
    assert ours == theirs.multi_items() and ours == {"a": "1", "b": "2", "A": "3"}
    assert ours != {"a": "1"} and ours != "a: 1"
    for headers in (ours, theirs):
        headers["a"] = "x"
        del headers["b"]
        headers.update({"C": "y"})
    assert ours.multi_items() == theirs.multi_items() == [("a", "x"), ("c", "y")]
    assert repr(ours) == repr(theirs) == "Headers({'a': 'x', 'c': 'y'})"
    ours.append("c", "z")
    assert repr(ours) == "Headers([('a', 'x'), ('c', 'y'), ('c', 'z')])"
    assert ours.raw == [(b"a", b"x"), (b"c", b"y"), (b"c", b"z")]
    with pytest.raises(KeyError):
        del ours["missing"]


def test_cookies_behave_as_httpx_cookies() -> None:
    ours, theirs = Cookies([("a", "1")]), httpx.Cookies([("a", "1")])
    for cookies in (ours, theirs):
        cookies.set("b", "2", domain="testserver.local", path="/sub")
        cookies.set("c", "3", domain="testserver.local")
    assert repr(ours) == repr(theirs)
    for cookies in (ours, theirs):
        cookies.clear("testserver.local", "/sub")
    assert sorted(ours) == sorted(theirs) == ["a", "c"]
    for cookies in (ours, theirs):
        cookies.clear("testserver.local")
    assert list(ours) == list(theirs) == ["a"]
    assert dict(Cookies(ours.jar)) == {"a": "1"}  # a CookieJar is used as it is
    with pytest.raises(KeyError):
        del ours["missing"]


def test_small_parts_of_request_and_response() -> None:
    assert (reason_phrase(599), reason_phrase(299)) == ("", "")  # as httpx
    url = URL("http://testserver:8080/a%20b?q=1#top")
    assert (url.netloc, url.port, url.fragment, url.raw_path) == (
        b"testserver:8080", 8080, "top", b"/a%20b?q=1")
    request = ClientRequest("GET", url, ClientHeaders())
    assert repr(request) == "<Request('GET', 'http://testserver:8080/a%20b?q=1#top')>"


def test_an_unknown_charset_is_read_as_utf8(anyio_backend: str) -> None:
    app = MicroReady()

    @app.get("/odd")
    async def odd() -> Response:
        return Response("é".encode(), media_type="text/plain; charset=no-such-codec")

    response = client_for(app, anyio_backend).get("/odd")
    assert (response.encoding, response.text) == ("utf-8", "é")
