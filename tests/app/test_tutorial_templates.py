"""FastAPI advanced guide, "Templates" (docs_src/templates/tutorial001 and its files).

Only the import lines differ from FastAPI's code (``app = MicroReady()``;
``microready.responses``, ``microready.staticfiles``, ``microready.templating``).
As FastAPI's docs test does, the test first copies the page's ``templates/``
and ``static/`` into the working directory, then runs the code.
"""

from pathlib import Path

import pytest

from microready import MicroReady
from microready.testing import TestClient

from .helpers import client_for

ITEM_HTML = """\
<html>
<head>
    <title>Item Details</title>
    <link href="{{ url_for('static', path='/styles.css') }}" rel="stylesheet">
</head>
<body>
    <h1><a href="{{ url_for('read_item', id=id) }}">Item ID: {{ id }}</a></h1>
</body>
</html>
"""

STYLES_CSS = """\
h1 {
    color: green;
}
"""


def tutorial001() -> MicroReady:
    from microready import Request
    from microready.responses import HTMLResponse
    from microready.staticfiles import StaticFiles
    from microready.templating import Jinja2Templates

    app = MicroReady()

    app.mount("/static", StaticFiles(directory="static"), name="static")

    templates = Jinja2Templates(directory="templates")

    @app.get("/items/{id}", response_class=HTMLResponse)
    async def read_item(request: Request, id: str):  # type: ignore[no-untyped-def]
        return templates.TemplateResponse(
            request=request, name="item.html", context={"id": id}
        )

    return app


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anyio_backend: str) -> TestClient:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "item.html").write_text(ITEM_HTML)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "styles.css").write_text(STYLES_CSS)
    return client_for(tutorial001(), anyio_backend)


def test_main(client: TestClient) -> None:
    response = client.get("/items/foo")
    assert response.status_code == 200, response.text
    assert (
        b'<h1><a href="http://testserver/items/foo">Item ID: foo</a></h1>'
        in response.content
    )
    assert b'<link href="http://testserver/static/styles.css" rel="stylesheet">' in (
        response.content
    )
    response = client.get("/static/styles.css")
    assert response.status_code == 200, response.text
    assert b"color: green;" in response.content
