"""FastAPI tutorial, "Request Files" (docs_src/request_files/), on microready, with the
answers FastAPI's own tests expect (tests/test_tutorial/test_request_files/), the OpenAPI
schema aside.

Each example is built twice, as the page shows it: with ``Annotated`` and with the
marker as the default value. tutorial001: ``bytes`` and ``UploadFile``; tutorial001_02:
optional files; tutorial001_03: ``File(description=...)``; tutorial002: lists of files;
tutorial003: lists with ``File(description=...)``.
"""

from pathlib import Path
from typing import Annotated, Any

import pytest

from microready import File, HTMLResponse, MicroReady, UploadFile

from .helpers import client_for

# -- tutorial001 ------------------------------------------------------------------------

app001_an = MicroReady()


@app001_an.post("/files/")
async def create_file001_an(file: Annotated[bytes, File()]) -> dict[str, int]:
    return {"file_size": len(file)}


@app001_an.post("/uploadfile/")
async def create_upload_file001_an(file: UploadFile) -> dict[str, str | None]:
    return {"filename": file.filename}


app001 = MicroReady()


@app001.post("/files/")
async def create_file001(file: bytes = File()) -> dict[str, int]:
    return {"file_size": len(file)}


@app001.post("/uploadfile/")
async def create_upload_file001(file: UploadFile) -> dict[str, str | None]:
    return {"filename": file.filename}


# -- tutorial001_02: optional files --------------------------------------------------------

app001_02_an = MicroReady()


@app001_02_an.post("/files/")
async def create_file001_02_an(file: Annotated[bytes | None, File()] = None) -> dict[str, Any]:
    if not file:
        return {"message": "No file sent"}
    else:
        return {"file_size": len(file)}


@app001_02_an.post("/uploadfile/")
async def create_upload_file001_02_an(file: UploadFile | None = None) -> dict[str, Any]:
    if not file:
        return {"message": "No upload file sent"}
    else:
        return {"filename": file.filename}


app001_02 = MicroReady()


@app001_02.post("/files/")
async def create_file001_02(file: bytes | None = File(None)) -> dict[str, Any]:
    if not file:
        return {"message": "No file sent"}
    else:
        return {"file_size": len(file)}


@app001_02.post("/uploadfile/")
async def create_upload_file001_02(file: UploadFile | None = None) -> dict[str, Any]:
    if not file:
        return {"message": "No upload file sent"}
    else:
        return {"filename": file.filename}


# -- tutorial001_03: UploadFile with additional metadata ------------------------------------

app001_03_an = MicroReady()


@app001_03_an.post("/files/")
async def create_file001_03_an(
    file: Annotated[bytes, File(description="A file read as bytes")],
) -> dict[str, int]:
    return {"file_size": len(file)}


@app001_03_an.post("/uploadfile/")
async def create_upload_file001_03_an(
    file: Annotated[UploadFile, File(description="A file read as UploadFile")],
) -> dict[str, str | None]:
    return {"filename": file.filename}


app001_03 = MicroReady()


@app001_03.post("/files/")
async def create_file001_03(
    file: bytes = File(description="A file read as bytes"),
) -> dict[str, int]:
    return {"file_size": len(file)}


@app001_03.post("/uploadfile/")
async def create_upload_file001_03(
    file: UploadFile = File(description="A file read as UploadFile"),  # noqa: B008
) -> dict[str, str | None]:
    return {"filename": file.filename}


# -- tutorial002 and tutorial003: multiple files --------------------------------------------

FORMS_PAGE = """
<body>
<form action="/files/" enctype="multipart/form-data" method="post">
<input name="files" type="file" multiple>
<input type="submit">
</form>
<form action="/uploadfiles/" enctype="multipart/form-data" method="post">
<input name="files" type="file" multiple>
<input type="submit">
</form>
</body>
    """

app002_an = MicroReady()


@app002_an.post("/files/")
async def create_files002_an(files: Annotated[list[bytes], File()]) -> dict[str, list[int]]:
    return {"file_sizes": [len(file) for file in files]}


@app002_an.post("/uploadfiles/")
async def create_upload_files002_an(files: list[UploadFile]) -> dict[str, list[str | None]]:
    return {"filenames": [file.filename for file in files]}


@app002_an.get("/")
async def main002_an() -> HTMLResponse:
    content = FORMS_PAGE
    return HTMLResponse(content=content)


app002 = MicroReady()


@app002.post("/files/")
async def create_files002(files: list[bytes] = File()) -> dict[str, list[int]]:  # noqa: B008
    return {"file_sizes": [len(file) for file in files]}


@app002.post("/uploadfiles/")
async def create_upload_files002(files: list[UploadFile]) -> dict[str, list[str | None]]:
    return {"filenames": [file.filename for file in files]}


@app002.get("/")
async def main002() -> HTMLResponse:
    content = FORMS_PAGE
    return HTMLResponse(content=content)


app003_an = MicroReady()


@app003_an.post("/files/")
async def create_files003_an(
    files: Annotated[list[bytes], File(description="Multiple files as bytes")],
) -> dict[str, list[int]]:
    return {"file_sizes": [len(file) for file in files]}


@app003_an.post("/uploadfiles/")
async def create_upload_files003_an(
    files: Annotated[
        list[UploadFile], File(description="Multiple files as UploadFile")
    ],
) -> dict[str, list[str | None]]:
    return {"filenames": [file.filename for file in files]}


@app003_an.get("/")
async def main003_an() -> HTMLResponse:
    content = FORMS_PAGE
    return HTMLResponse(content=content)


app003 = MicroReady()


@app003.post("/files/")
async def create_files003(
    files: list[bytes] = File(description="Multiple files as bytes"),  # noqa: B008
) -> dict[str, list[int]]:
    return {"file_sizes": [len(file) for file in files]}


@app003.post("/uploadfiles/")
async def create_upload_files003(
    files: list[UploadFile] = File(description="Multiple files as UploadFile"),  # noqa: B008
) -> dict[str, list[str | None]]:
    return {"filenames": [file.filename for file in files]}


@app003.get("/")
async def main003() -> HTMLResponse:
    content = FORMS_PAGE
    return HTMLResponse(content=content)


def styles(*apps: MicroReady) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("app", apps, ids=["annotated", "default"])


def missing(name: str) -> dict[str, Any]:
    return {"detail": [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None},
    ]}


@pytest.fixture
def test_txt(tmp_path: Path) -> Path:
    path = tmp_path / "test.txt"
    path.write_bytes(b"<file content>")
    return path


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "test.txt"
    path.write_bytes(b"<file content>")
    path2 = tmp_path / "test2.txt"
    path2.write_bytes(b"<file content2>")
    return path, path2


# -- tutorial001 ------------------------------------------------------------------------


@styles(app001_an, app001)
def test001_post_form_no_body(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/")
    assert response.status_code == 422, response.text
    assert response.json() == missing("file")


@styles(app001_an, app001)
def test001_post_body_json(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/", json={"file": "Foo"})
    assert response.status_code == 422, response.text
    assert response.json() == missing("file")


@styles(app001_an, app001)
def test001_post_file(anyio_backend: str, app: MicroReady, test_txt: Path) -> None:
    with test_txt.open("rb") as file:
        response = client_for(app, anyio_backend).post("/files/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"file_size": 14}


@styles(app001_an, app001)
def test001_post_large_file(anyio_backend: str, app: MicroReady, tmp_path: Path) -> None:
    default_pydantic_max_size = 2**16
    path = tmp_path / "test.txt"
    path.write_bytes(b"x" * (default_pydantic_max_size + 1))
    with path.open("rb") as file:
        response = client_for(app, anyio_backend).post("/files/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"file_size": default_pydantic_max_size + 1}


@styles(app001_an, app001)
def test001_post_upload_file(anyio_backend: str, app: MicroReady, test_txt: Path) -> None:
    with test_txt.open("rb") as file:
        response = client_for(app, anyio_backend).post("/uploadfile/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"filename": "test.txt"}


# -- tutorial001_02 ----------------------------------------------------------------------


@styles(app001_02_an, app001_02)
def test001_02_post_form_no_body(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "No file sent"}


@styles(app001_02_an, app001_02)
def test001_02_post_uploadfile_no_body(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/uploadfile/")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "No upload file sent"}


@styles(app001_02_an, app001_02)
def test001_02_post_file(anyio_backend: str, app: MicroReady, test_txt: Path) -> None:
    with test_txt.open("rb") as file:
        response = client_for(app, anyio_backend).post("/files/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"file_size": 14}


@styles(app001_02_an, app001_02)
def test001_02_post_upload_file(anyio_backend: str, app: MicroReady, test_txt: Path) -> None:
    with test_txt.open("rb") as file:
        response = client_for(app, anyio_backend).post("/uploadfile/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"filename": "test.txt"}


# -- tutorial001_03 ----------------------------------------------------------------------


@styles(app001_03_an, app001_03)
def test001_03_post_file(anyio_backend: str, app: MicroReady, test_txt: Path) -> None:
    with test_txt.open("rb") as file:
        response = client_for(app, anyio_backend).post("/files/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"file_size": 14}


@styles(app001_03_an, app001_03)
def test001_03_post_upload_file(anyio_backend: str, app: MicroReady, test_txt: Path) -> None:
    with test_txt.open("rb") as file:
        response = client_for(app, anyio_backend).post("/uploadfile/", files={"file": file})
    assert response.status_code == 200, response.text
    assert response.json() == {"filename": "test.txt"}


# -- tutorial002 and tutorial003 ------------------------------------------------------------

MULTIPLE = pytest.mark.parametrize(
    "app", [app002_an, app002, app003_an, app003],
    ids=["002-annotated", "002-default", "003-annotated", "003-default"],
)


@styles(app002_an, app002)
def test002_post_form_no_body(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/")
    assert response.status_code == 422, response.text
    assert response.json() == missing("files")


@styles(app002_an, app002)
def test002_post_body_json(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).post("/files/", json={"file": "Foo"})
    assert response.status_code == 422, response.text
    assert response.json() == missing("files")


@MULTIPLE
def test_post_files(anyio_backend: str, app: MicroReady, two_files: tuple[Path, Path]) -> None:
    path, path2 = two_files
    with path.open("rb") as file, path2.open("rb") as file2:
        response = client_for(app, anyio_backend).post(
            "/files/",
            files=(
                ("files", ("test.txt", file)),
                ("files", ("test2.txt", file2)),
            ),
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"file_sizes": [14, 15]}


@MULTIPLE
def test_post_upload_files(anyio_backend: str, app: MicroReady,
                           two_files: tuple[Path, Path]) -> None:
    path, path2 = two_files
    with path.open("rb") as file, path2.open("rb") as file2:
        response = client_for(app, anyio_backend).post(
            "/uploadfiles/",
            files=(
                ("files", ("test.txt", file)),
                ("files", ("test2.txt", file2)),
            ),
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"filenames": ["test.txt", "test2.txt"]}


@MULTIPLE
def test_get_root(anyio_backend: str, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/")
    assert response.status_code == 200, response.text
    assert b"<form" in response.content
