"""FastAPI advanced guide, "Custom Response": StreamingResponse and FileResponse
(docs_src/custom_response/tutorial007, 008, 009, 009b).

Only the import lines differ from FastAPI's code (``app = MicroReady()``). As in
FastAPI's docs tests, the file path is pointed at a file the test writes.
"""

from pathlib import Path

import pytest

from microready import MicroReady
from microready.responses import FileResponse, StreamingResponse

from .helpers import client_for

# tutorial007: an async generator of bytes
app007 = MicroReady()


async def fake_video_streamer():  # type: ignore[no-untyped-def]
    for _ in range(10):
        yield b"some fake video bytes"


@app007.get("/")
async def main007():  # type: ignore[no-untyped-def]
    return StreamingResponse(fake_video_streamer())


# tutorial008: a file-like object, read by a sync generator in a worker thread
some_file_path = "large-video-file.mp4"
app008 = MicroReady()


@app008.get("/")
def main008():  # type: ignore[no-untyped-def]
    def iterfile():  # (1)  # type: ignore[no-untyped-def]
        with open(some_file_path, mode="rb") as file_like:  # (2)
            yield from file_like  # (3)

    return StreamingResponse(iterfile(), media_type="video/mp4")


# tutorial009: FileResponse returned directly
app009 = MicroReady()


@app009.get("/")
async def main009():  # type: ignore[no-untyped-def]
    return FileResponse(some_file_path)


# tutorial009b: response_class=FileResponse, the path operation returns the path
app009b = MicroReady()


@app009b.get("/", response_class=FileResponse)
async def main009b():  # type: ignore[no-untyped-def]
    return some_file_path


@pytest.fixture
def video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    file_path = tmp_path / "large-video-file.mp4"
    test_content = b"Fake video bytes"
    file_path.write_bytes(test_content)
    monkeypatch.setitem(globals(), "some_file_path", str(file_path))
    return test_content


def test007(anyio_backend: str) -> None:
    response = client_for(app007, anyio_backend).get("/")
    assert response.content == b"some fake video bytes" * 10


def test008(anyio_backend: str, video: bytes) -> None:
    response = client_for(app008, anyio_backend).get("/")
    assert response.content == video
    assert response.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("app", [app009, app009b], ids=["tutorial009", "tutorial009b"])
def test009(anyio_backend: str, video: bytes, app: MicroReady) -> None:
    response = client_for(app, anyio_backend).get("/")
    assert response.content == video
    assert response.headers["content-type"] == "video/mp4"  # guessed from the path
    assert response.headers["content-length"] == str(len(video))
    assert "etag" in response.headers and "last-modified" in response.headers
