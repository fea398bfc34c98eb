"""Jinja2Templates, url_for (in templates and on the request) and url_path_for.

jinja2 is an optional extra: without it, creating Jinja2Templates raises an
ImportError whose one line names the pip command.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from microready import BackgroundTask, MicroReady, Request
from microready.responses import HTMLResponse
from microready.routing import NoMatchFound
from microready.staticfiles import StaticFiles
from microready.templating import Jinja2Templates

from .helpers import client_for


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        "<h1>{{ title }}</h1><a href=\"{{ url_for('read_user', user_id=7) }}\">user</a>"
        "<link href=\"{{ url_for('static', path='/site.css') }}\">{{ request.method }}"
    )
    (tmp_path / "templates" / "plain.txt").write_text("{{ value }}")
    (tmp_path / "static").mkdir()
    return tmp_path


def build_app(root: Path, **options: Any) -> tuple[MicroReady, Jinja2Templates]:
    app = MicroReady()
    app.mount("/static", StaticFiles(directory=root / "static"), name="static")
    templates = Jinja2Templates(directory=root / "templates", **options)

    @app.get("/users/{user_id:int}")
    async def read_user(user_id: int) -> int:
        return user_id

    @app.get("/page", response_class=HTMLResponse)
    async def page(request: Request, title: str = "Home") -> HTMLResponse:
        return templates.TemplateResponse(request, "page.html", {"title": title})

    return app, templates


def test_a_template_renders_with_url_for(anyio_backend: str, templates_dir: Path) -> None:
    app, _ = build_app(templates_dir)
    response = client_for(app, anyio_backend).get("/page?title=<b>Hi</b>")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == (
        "<h1>&lt;b&gt;Hi&lt;/b&gt;</h1>"  # autoescaped: an .html template
        '<a href="http://testserver/users/7">user</a>'
        '<link href="http://testserver/static/site.css">GET'
    )


def test_the_response_keeps_template_and_context(templates_dir: Path) -> None:
    templates = Jinja2Templates(directory=templates_dir / "templates")
    request = Request(method="GET", target=b"/")
    task = BackgroundTask(print)
    response = templates.TemplateResponse(request, "plain.txt", {"value": "<x>"}, status_code=201,
                                          headers={"X-A": "1"}, media_type="text/plain",
                                          background=task)
    assert response.body == b"<x>"  # .txt: not escaped
    assert (response.status_code, response.headers["x-a"]) == (201, "1")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.background is task
    assert response.template.name == "plain.txt"  # type: ignore[attr-defined]
    assert response.context == {"value": "<x>", "request": request}  # type: ignore[attr-defined]
    assert templates.get_template("plain.txt").render(value=1) == "1"


def test_context_processors_and_an_environment_of_your_own(templates_dir: Path) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ user }}/{{ site }}"}))
    env.globals["url_for"] = "kept"
    templates = Jinja2Templates(env=env, context_processors=[lambda request: {"site": "shop"}])
    response = templates.TemplateResponse(Request(method="GET", target=b"/"), "t", {"user": "ann"})
    assert response.body == b"ann/shop"
    assert env.globals["url_for"] == "kept"  # setdefault: an existing global stays


def test_wrong_calls_say_the_right_one(templates_dir: Path) -> None:
    with pytest.raises(TypeError, match="not neither"):
        Jinja2Templates()
    with pytest.raises(TypeError, match="not both"):
        Jinja2Templates(directory="templates", env=jinja2.Environment())
    templates = Jinja2Templates(directory=templates_dir / "templates")
    with pytest.raises(TypeError) as info:
        templates.TemplateResponse("page.html", {"request": None})  # type: ignore[arg-type]
    assert "wrong: templates.TemplateResponse('page.html', {\"request\": request, ...})" in str(
        info.value
    )
    assert 'right: templates.TemplateResponse(request, "item.html", {"id": id})' in str(info.value)


def test_without_jinja2_the_error_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)  # what an uninstalled module looks like
    with pytest.raises(ImportError) as info:
        Jinja2Templates(directory="templates")
    assert str(info.value) == (
        "Jinja2Templates needs jinja2, which is not installed: pip install 'microready[templates]'"
    )


def test_the_module_imports_without_jinja2() -> None:
    code = (
        "import sys; sys.modules['jinja2'] = None\n"
        "from microready.templating import Jinja2Templates\n"
        "try:\n    Jinja2Templates(directory='templates')\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip().splitlines() == [
        "Jinja2Templates needs jinja2, which is not installed: pip install 'microready[templates]'"
    ]


# -- url_for and url_path_for ---------------------------------------------------------------


def test_url_path_for_fills_and_encodes_parameters(templates_dir: Path) -> None:
    app, _ = build_app(templates_dir)

    @app.get("/files/{file_path:path}", name="file")
    async def files(file_path: str) -> str:
        return file_path

    @app.get("/tags/{tag}")
    async def tag(tag: str) -> str:
        return tag

    assert app.url_path_for("read_user", user_id=3) == "/users/3"
    assert app.url_path_for("file", file_path="a/b c.txt") == "/files/a/b%20c.txt"
    assert app.url_path_for("tag", tag="x?y#z") == "/tags/x%3Fy%23z"
    assert app.url_path_for("page") == "/page"
    with pytest.raises(ValueError, match=r"'tag' is one path segment.*declare it \{tag:path\}"):
        app.url_path_for("tag", tag="a/b")
    with pytest.raises(NoMatchFound) as info:
        app.url_path_for("read_user", id=3)
    assert str(info.value).startswith('No route exists for name "read_user" and params "id".')
    with pytest.raises(NoMatchFound):
        app.url_path_for("nobody")


def test_request_url_for_uses_the_host_header(anyio_backend: str, templates_dir: Path) -> None:
    app, _ = build_app(templates_dir)

    @app.get("/where")
    async def where(request: Request) -> str:
        return request.url_for("read_user", user_id=1)

    assert client_for(app, anyio_backend).get("/where").json() == "http://testserver/users/1"
    other_host = client_for(app, anyio_backend, base_url="http://example.com:8080")
    assert other_host.get("/where").json() == "http://example.com:8080/users/1"


def test_request_url_for_needs_an_app() -> None:
    with pytest.raises(RuntimeError, match=r"needs the app the request came to"):
        Request(method="GET", target=b"/").url_for("x")
