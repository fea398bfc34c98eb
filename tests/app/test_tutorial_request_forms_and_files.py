"""FastAPI tutorial, "Request Forms and Files" (docs_src/request_forms_and_files/
tutorial001, with and without Annotated), on microready, with the answers FastAPI's own
tests expect (tests/test_tutorial/test_request_forms_and_files/), the OpenAPI schema
aside."""

from pathlib import Path
from typing import Annotated, Any

import pytest

from microready import File, Form, MicroReady, UploadFile

from .helpers import client_for

# tutorial001_an_py310
app_an = MicroReady()


@app_an.post("/files/")
async def create_file_an(
    file: Annotated[bytes, File()],
    fileb: Annotated[UploadFile, File()],
    token: Annotated[str, Form()],
) -> dict[str, Any]:
    return {
        "file_size": len(file),
        "token": token,
        "fileb_content_type": fileb.content_type,
    }


# tutorial001_py310
app = MicroReady()


@app.post("/files/")
async def create_file(
    file: bytes = File(),
    fileb: UploadFile = File(),  # noqa: B008
    token: str = Form(),
) -> dict[str, Any]:
    return {
        "file_size": len(file),
        "token": token,
        "fileb_content_type": fileb.content_type,
    }


APPS = pytest.mark.parametrize("app", [app_an, app], ids=["annotated", "default"])


def missing(*names: str) -> dict[str, Any]:
    return {"detail": [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None}
        for name in names
    ]}


@APPS
def test_post_form_no_body(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/")
    assert response.status_code == 422, response.text
    assert response.json() == missing("file", "fileb", "token")


@APPS
def test_post_form_no_file(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/", data={"token": "foo"})
    assert response.status_code == 422, response.text
    assert response.json() == missing("file", "fileb")


@APPS
def test_post_body_json(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/", json={"file": "Foo", "token": "Bar"})
    assert response.status_code == 422, response.text
    assert response.json() == missing("file", "fileb", "token")


@APPS
def test_post_file_no_token(anyio_backend: str, app: MicroReady, tmp_path: Path) -> None:
    path = tmp_path / "test.txt"
    path.write_bytes(b"<file content>")
    with path.open("rb") as file:
        response = client_for(app, anyio_backend).post("/files/", files={"file": file})
    assert response.status_code == 422, response.text
    assert response.json() == missing("fileb", "token")


@APPS
def test_post_files_and_token(anyio_backend: str, app: MicroReady, tmp_path: Path) -> None:
    patha = tmp_path / "test.txt"
    pathb = tmp_path / "testb.txt"
    patha.write_text("<file content>")
    pathb.write_text("<file b content>")
    with patha.open("rb") as filea, pathb.open("rb") as fileb:
        response = client_for(app, anyio_backend).post(
            "/files/",
            data={"token": "foo"},
            files={"file": filea, "fileb": ("testb.txt", fileb, "text/plain")},
        )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "file_size": 14,
        "token": "foo",
        "fileb_content_type": "text/plain",
    }
