"""FastAPI advanced guide, "Stream Data" (docs_src/stream_data/tutorial001-002).

Only the import lines differ from FastAPI's code (``app = MicroReady()``;
``StreamingResponse`` from ``microready.responses``). The image is a smaller
PNG than the docs' (the bytes do not matter, only that they arrive intact),
opened per request with ``read_image()`` and a ``with`` block, as the page
describes.
"""

import base64
from collections.abc import AsyncIterable, Iterable
from io import BytesIO

import pytest

from microready import MicroReady
from microready.responses import StreamingResponse

from .helpers import client_for

# -- tutorial001: strings and bytes, async and sync, with and without annotations ---------------
app = MicroReady()


message = """
Rick: (stumbles in drunkenly, and turns on the lights) Morty! You gotta come on. You got--... you gotta come with me.
Morty: (rubs his eyes) What, Rick? What's going on?
Rick: I got a surprise for you, Morty.
Morty: It's the middle of the night. What are you talking about?
Rick: (spills alcohol on Morty's bed) Come on, I got a surprise for you. (drags Morty by the ankle) Come on, hurry up. (pulls Morty out of his bed and into the hall)
Morty: Ow! Ow! You're tugging me too hard!
Rick: We gotta go, gotta get outta here, come on. Got a surprise for you Morty.
"""  # noqa: E501


@app.get("/story/stream", response_class=StreamingResponse)
async def stream_story() -> AsyncIterable[str]:
    for line in message.splitlines():
        yield line


@app.get("/story/stream-no-async", response_class=StreamingResponse)
def stream_story_no_async() -> Iterable[str]:
    for line in message.splitlines():  # noqa: UP028
        yield line


@app.get("/story/stream-no-annotation", response_class=StreamingResponse)
async def stream_story_no_annotation():  # type: ignore[no-untyped-def]
    for line in message.splitlines():
        yield line


@app.get("/story/stream-no-async-no-annotation", response_class=StreamingResponse)
def stream_story_no_async_no_annotation():  # type: ignore[no-untyped-def]
    for line in message.splitlines():  # noqa: UP028
        yield line


@app.get("/story/stream-bytes", response_class=StreamingResponse)
async def stream_story_bytes() -> AsyncIterable[bytes]:
    for line in message.splitlines():
        yield line.encode("utf-8")


@app.get("/story/stream-no-async-bytes", response_class=StreamingResponse)
def stream_story_no_async_bytes() -> Iterable[bytes]:
    for line in message.splitlines():
        yield line.encode("utf-8")


@app.get("/story/stream-no-annotation-bytes", response_class=StreamingResponse)
async def stream_story_no_annotation_bytes():  # type: ignore[no-untyped-def]
    for line in message.splitlines():
        yield line.encode("utf-8")


@app.get("/story/stream-no-async-no-annotation-bytes", response_class=StreamingResponse)
def stream_story_no_async_no_annotation_bytes():  # type: ignore[no-untyped-def]
    for line in message.splitlines():
        yield line.encode("utf-8")


expected_text = "".join(message.splitlines())


@pytest.mark.parametrize("path", [
    "/story/stream",
    "/story/stream-no-async",
    "/story/stream-no-annotation",
    "/story/stream-no-async-no-annotation",
    "/story/stream-bytes",
    "/story/stream-no-async-bytes",
    "/story/stream-no-annotation-bytes",
    "/story/stream-no-async-no-annotation-bytes",
])
def test_stream_story(anyio_backend: str, path: str) -> None:
    response = client_for(app, anyio_backend).get(path)
    assert response.status_code == 200, response.text
    assert response.text == expected_text
    assert expected_text.startswith("Rick: (stumbles in drunkenly")


# -- tutorial002: a PNGStreamingResponse, from a file-like object -------------------------------
image_base64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M/wHwAEAQH/cetH5QAAAABJRU5ErkJggg=="  # noqa: E501
binary_image = base64.b64decode(image_base64)


def read_image() -> BytesIO:
    return BytesIO(binary_image)


app002 = MicroReady()


class PNGStreamingResponse(StreamingResponse):
    media_type = "image/png"


@app002.get("/image/stream", response_class=PNGStreamingResponse)
async def stream_image() -> AsyncIterable[bytes]:
    with read_image() as image_file:
        for chunk in image_file:
            yield chunk


@app002.get("/image/stream-no-async", response_class=PNGStreamingResponse)
def stream_image_no_async() -> Iterable[bytes]:
    with read_image() as image_file:
        for chunk in image_file:  # noqa: UP028
            yield chunk


@app002.get("/image/stream-no-async-yield-from", response_class=PNGStreamingResponse)
def stream_image_no_async_yield_from() -> Iterable[bytes]:
    with read_image() as image_file:
        yield from image_file


@app002.get("/image/stream-no-annotation", response_class=PNGStreamingResponse)
async def stream_image_no_annotation():  # type: ignore[no-untyped-def]
    with read_image() as image_file:
        for chunk in image_file:
            yield chunk


@pytest.mark.parametrize("path", [
    "/image/stream",
    "/image/stream-no-async",
    "/image/stream-no-async-yield-from",
    "/image/stream-no-annotation",
])
def test_stream_image(anyio_backend: str, path: str) -> None:
    client = client_for(app002, anyio_backend)
    for _ in range(2):  # a new file-like object per request: the second is whole too
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content == binary_image
    assert binary_image.startswith(b"\x89PNG")
