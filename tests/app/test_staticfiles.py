"""StaticFiles and app.mount: serving a directory, safely, in Starlette's order.

Every way out of the directory a client might try answers 404; html=True
serves index.html and 404.html; a mount takes only what it can serve.
"""

import os
from pathlib import Path

import pytest

from microready import HTTPException, MicroReady, Request, Router
from microready.responses import PlainTextResponse, Response
from microready.routing import Mount, NoMatchFound
from microready.staticfiles import StaticFiles
from microready.testing import TestClient

from .helpers import client_for


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tmp/static: styles.css, docs/index.html, docs/page.txt, 404.html; tmp/secret.txt."""
    static = tmp_path / "static"
    (static / "docs").mkdir(parents=True)
    (static / "styles.css").write_text("h1 { color: green; }\n")
    (static / "docs" / "index.html").write_text("<p>docs</p>")
    (static / "docs" / "page.txt").write_text("a page")
    (static / "404.html").write_text("<p>no such page</p>")
    (tmp_path / "secret.txt").write_text("secret")
    return static


def static_client(site: Path, backend: str, **options: bool) -> TestClient:
    app = MicroReady()
    app.mount("/static", StaticFiles(directory=site, **options), name="static")
    return client_for(app, backend, follow_redirects=False)


def test_files_are_served_with_file_response_headers(anyio_backend: str, site: Path) -> None:
    client = static_client(site, anyio_backend)
    response = client.get("/static/styles.css")
    assert (response.status_code, response.text) == (200, "h1 { color: green; }\n")
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["content-length"] == "21"
    assert "etag" in response.headers and "last-modified" in response.headers
    assert client.get("/static/docs/page.txt").text == "a page"
    ranged = client.get("/static/styles.css", headers={"Range": "bytes=0-1"})
    assert (ranged.status_code, ranged.text) == (206, "h1")
    head = client.head("/static/styles.css")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "21")


def test_missing_files_and_directories_are_404_json(anyio_backend: str, site: Path) -> None:
    client = static_client(site, anyio_backend)
    for path in ("/static/nothing.css", "/static/docs", "/static/docs/", "/static/styles.css/x",
                 "/static/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("path", [
    "/static/../secret.txt",
    "/static/docs/../../secret.txt",
    "/static/docs/../styles.css",  # even when it would stay inside: no ".." at all
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/docs%2fpage.txt",  # an encoded slash
    "/static/docs%5cpage.txt",  # an encoded backslash
    "/static/docs\\page.txt",
    "/static//etc/passwd",  # absolute-looking
    "/static/docs//page.txt",
    "/static/styles.css%00.txt",  # NUL
])
def test_no_way_out_of_the_directory(anyio_backend: str, site: Path, path: str) -> None:
    response = static_client(site, anyio_backend).get(path)
    assert response.status_code == 404, path
    assert b"secret" not in response.content


def test_symlinks_out_of_the_directory(anyio_backend: str, site: Path) -> None:
    (site / "link.txt").symlink_to(site.parent / "secret.txt")
    (site / "inside.css").symlink_to(site / "styles.css")
    client = static_client(site, anyio_backend)
    assert client.get("/static/link.txt").status_code == 404
    assert client.get("/static/inside.css").status_code == 200  # a link that stays inside
    following = static_client(site, anyio_backend, follow_symlink=True)
    assert following.get("/static/link.txt").text == "secret"  # allowed on purpose


def test_only_get_and_head(anyio_backend: str, site: Path) -> None:
    response = static_client(site, anyio_backend).post("/static/styles.css")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_not_modified(anyio_backend: str, site: Path) -> None:
    client = static_client(site, anyio_backend)
    full = client.get("/static/styles.css")
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'},
                    {"If-None-Match": "*"}, {"If-Modified-Since": modified}):
        response = client.get("/static/styles.css", headers=headers)
        assert response.status_code == 304, headers
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert "content-length" not in response.headers
    for headers in ({"If-None-Match": '"other"'},
                    {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
                    {"If-None-Match": '"other"', "If-Modified-Since": modified},  # INM decides
                    {"If-Modified-Since": "not a date"}):
        assert client.get("/static/styles.css", headers=headers).status_code == 200, headers


def test_html_mode_serves_index_and_404_pages(anyio_backend: str, site: Path) -> None:
    client = static_client(site, anyio_backend, html=True)
    redirect = client.get("/static/docs?x=1")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "/static/docs/?x=1"
    index = client.get("/static/docs/")
    assert (index.status_code, index.text) == (200, "<p>docs</p>")
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    missing = client.get("/static/nothing")
    assert (missing.status_code, missing.text) == (404, "<p>no such page</p>")
    assert missing.headers["content-type"] == "text/html; charset=utf-8"
    # The mount's own path: the app redirects /static to /static/, which has no index.
    assert client.get("/static").headers["location"] == "http://testserver/static/"
    assert client.get("/static/").text == "<p>no such page</p>"


def test_html_mode_without_a_404_page(anyio_backend: str, site: Path) -> None:
    (site / "404.html").unlink()
    response = static_client(site, anyio_backend, html=True).get("/static/nothing")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_the_directory_is_checked(tmp_path: Path, anyio_backend: str) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(RuntimeError, match=f"Directory '{missing}' does not exist"):
        StaticFiles(directory=missing)
    app = MicroReady()
    app.mount("/static", StaticFiles(directory=missing, check_dir=False))
    with pytest.raises(RuntimeError, match=f"StaticFiles directory '{missing}' does not exist"):
        client_for(app, anyio_backend).get("/static/x")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    app = MicroReady()
    app.mount("/static", StaticFiles(directory=a_file, check_dir=False))
    with pytest.raises(RuntimeError, match="is not a directory"):
        client_for(app, anyio_backend).get("/static/x")
    with pytest.raises(TypeError, match=r'right: StaticFiles\(directory="static"\)'):
        StaticFiles(directory=None)  # type: ignore[arg-type]


def test_an_unreadable_directory_is_401_as_in_starlette(
    anyio_backend: str, site: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: StaticFiles, relative: str) -> None:
        raise PermissionError(relative)

    monkeypatch.setattr(StaticFiles, "lookup_path", refuse)
    assert static_client(site, anyio_backend).get("/static/styles.css").status_code == 401


# -- the mount in the route table -----------------------------------------------------------


def test_routes_before_a_mount_win_and_routes_after_it_are_shadowed(
    anyio_backend: str, site: Path,
) -> None:
    app = MicroReady()

    @app.get("/static/styles.css")
    async def before() -> str:
        return "the route registered first"

    app.mount("/static", StaticFiles(directory=site))

    @app.get("/static/docs/page.txt")
    async def after() -> str:
        return "never reached"  # pragma: no cover

    @app.get("/elsewhere/{name}")
    async def elsewhere(name: str) -> str:
        return name

    client = client_for(app, anyio_backend)
    assert client.get("/static/styles.css").json() == "the route registered first"
    assert client.post("/static/styles.css").status_code == 405  # the mount's answer
    assert client.get("/static/docs/page.txt").text == "a page"
    assert client.get("/elsewhere/x").json() == "x"
    assert client.get("/staticky").status_code == 404  # a prefix matches whole segments


def test_a_mount_at_the_root_and_under_routers(anyio_backend: str, site: Path) -> None:
    app = MicroReady()

    @app.get("/api")
    async def api() -> str:
        return "api"

    app.mount("/", StaticFiles(directory=site))
    client = client_for(app, anyio_backend)
    assert client.get("/api").json() == "api"
    assert client.get("/styles.css").text == "h1 { color: green; }\n"

    router = Router(prefix="/v1")
    router.mount("/assets", StaticFiles(directory=site), name="assets")
    outer = MicroReady()
    outer.include_router(router, prefix="/site")
    mount = outer.routes[0]
    assert isinstance(mount, Mount) and mount.path == "/site/v1/assets"
    assert client_for(outer, anyio_backend).get("/site/v1/assets/docs/page.txt").text == "a page"
    assert outer.url_path_for("assets", path="/docs/page.txt") == "/site/v1/assets/docs/page.txt"


def test_a_mountable_object_of_your_own(anyio_backend: str) -> None:
    class Echo:
        async def serve(self, request: Request, path: str) -> Response:
            if path == "boom":
                raise HTTPException(418, "teapot")
            return PlainTextResponse(f"{request.method} {path}")

    app = MicroReady()
    app.mount("/echo", Echo())
    client = client_for(app, anyio_backend)
    assert client.put("/echo/a/b").text == "PUT a/b"
    assert client.get("/echo/").text == "GET "
    assert (client.get("/echo/boom").status_code, client.get("/echo/boom").json()) == (
        418, {"detail": "teapot"},
    )
    assert repr(app.routes[0]) == "<Mount /echo -> Echo>"


def test_only_mountable_objects_are_mounted(site: Path) -> None:
    app = MicroReady()
    with pytest.raises(TypeError, match=r"right: app.include_router\(router, prefix='/sub'\)"):
        app.mount("/sub/", Router())

    def not_asgi(scope: object) -> None:
        pass  # pragma: no cover

    with pytest.raises(TypeError, match=r"takes a sub-app \(MicroReady or any ASGI app\)"):
        app.mount("/sync", not_asgi)
    with pytest.raises(TypeError, match=r"needs an instance, not the class StaticFiles"):
        app.mount("/static", StaticFiles)
    with pytest.raises(TypeError, match="str is none"):
        app.mount("/static", "static")
    with pytest.raises(TypeError, match="takes the path first"):
        app.mount(StaticFiles(directory=site), "/static")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"right: app.mount\('/static', ...\)"):
        app.mount("static", StaticFiles(directory=site))
    assert app.routes == []


def test_url_path_for_a_mount(site: Path) -> None:
    app = MicroReady()
    app.mount("/static", StaticFiles(directory=site), name="static")
    app.mount("/unnamed", StaticFiles(directory=site))
    assert app.url_path_for("static", path="/styles.css") == "/static/styles.css"
    assert app.url_path_for("static", path="css/a b.css") == "/static/css/a%20b.css"
    with pytest.raises(NoMatchFound, match='No route exists for name "static" and params ""'):
        app.url_path_for("static")
    with pytest.raises(NoMatchFound):
        app.url_path_for("unnamed", path="x")


def test_the_sub_path_reaches_serve_decoded(anyio_backend: str, site: Path) -> None:
    (site / "a b.txt").write_text("spaced")
    assert static_client(site, anyio_backend).get("/static/a%20b.txt").text == "spaced"
    assert os.path.exists(site / "a b.txt")
