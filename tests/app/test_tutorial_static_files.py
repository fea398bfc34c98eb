"""FastAPI tutorial, "Static Files" (docs_src/static_files/tutorial001).

Only the import lines differ from FastAPI's code (``app = MicroReady()``;
``microready.staticfiles``). ``StaticFiles(directory="static")`` checks the
directory when it is created, so the tutorial's code runs once the test has
made ``static/`` in a temporary working directory, as FastAPI's docs test
makes it before importing the module.
"""

from pathlib import Path

import pytest

from microready import MicroReady
from microready.testing import TestClient

from .helpers import client_for


def tutorial001() -> MicroReady:
    from microready.staticfiles import StaticFiles

    app = MicroReady()

    app.mount("/static", StaticFiles(directory="static"), name="static")
    return app


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anyio_backend: str) -> TestClient:
    monkeypatch.chdir(tmp_path)
    static_dir = tmp_path / "static"
    static_dir.mkdir()
    (static_dir / "sample.txt").write_text("This is a sample static file.")
    return client_for(tutorial001(), anyio_backend)


def test_static_files(client: TestClient) -> None:
    response = client.get("/static/sample.txt")
    assert response.status_code == 200, response.text
    assert response.text == "This is a sample static file."


def test_static_files_not_found(client: TestClient) -> None:
    response = client.get("/static/non_existent_file.txt")
    assert response.status_code == 404, response.text


def test_the_directory_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="Directory 'static' does not exist"):
        tutorial001()
