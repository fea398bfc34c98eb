"""Read a form body (urlencoded or multipart) as it streams in, within limits.

The parsing itself is python-multipart's, the streaming parser FastAPI and
Starlette use: it is an extra (``pip install 'microready[forms]'``), imported
only when a form is first read. Its parsers call back synchronously for each
piece they find in a chunk; the callbacks here only record those pieces, and
``parse_form`` then acts on them between chunks, so writing a file part to its
(possibly on-disk) spooled file can await.

What a hostile body meets:

* the server's ``max_body_size`` bounds the whole body (413), before this runs;
* ``max_fields`` and ``max_files`` (1000 each, as Starlette) bound the number
  of parts, ``max_part_size`` (1 MiB) the size of a field that is not a file,
  and python-multipart bounds each part's header lines (4 KiB) and count (8):
  each answers 400 with a detail that names the limit;
* a file part goes to a ``SpooledTemporaryFile`` that moves to an anonymous
  file on disk past 1 MiB, so memory stays bounded whatever the file's size;
  the client's filename is kept as data (``UploadFile.filename``) and never
  used as a path;
* a multipart body that ends before its closing boundary is refused (400)
  instead of being read as a shorter form.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from contextlib import aclosing
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from .datastructures import FormData, Headers, UploadFile
from .exceptions import HTTPException

if TYPE_CHECKING:
    from .requests import Request

__all__ = ["FORMS_EXTRA", "SPOOL_MAX_SIZE", "parse_form", "require_multipart"]

FORMS_EXTRA = "pip install 'microready[forms]'"
SPOOL_MAX_SIZE = 1024 * 1024  # a file part past this size moves from memory to disk


def _python_multipart() -> ModuleType:
    try:
        return importlib.import_module("python_multipart")
    except ImportError:
        raise RuntimeError(
            f"forms need python-multipart, which is not installed: {FORMS_EXTRA}"
        ) from None


def require_multipart(where: str) -> None:
    """Raise at registration, naming the pip command, if python-multipart is missing."""
    try:
        _python_multipart()
    except RuntimeError as exc:
        raise RuntimeError(f"{where}: {exc}") from None


def _media_type(request: Request) -> tuple[bytes, dict[bytes, bytes]]:
    for name, value in request.raw_headers:
        if name == b"content-type":
            parse: Callable[[bytes], tuple[bytes, dict[bytes, bytes]]] = (
                _python_multipart().multipart.parse_options_header
            )
            return parse(value)
    return b"", {}


async def parse_form(request: Request, *, max_files: int | float = 1000,
                     max_fields: int | float = 1000,
                     max_part_size: int = 1024 * 1024) -> FormData:
    """The request's form; an empty one when its Content-Type is not a form (as Starlette)."""
    media_type, options = _media_type(request)
    if media_type == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPException(400, "Missing boundary in multipart.")
        return await _MultipartReader(boundary, max_files, max_fields, max_part_size).read(
            request
        )
    if media_type == b"application/x-www-form-urlencoded":
        return await _read_urlencoded(request, max_fields)
    return FormData()


async def _read_urlencoded(request: Request, max_fields: int | float) -> FormData:
    fields: list[tuple[bytes, bytes]] = []
    name = bytearray()
    value = bytearray()

    def on_field_start() -> None:
        name.clear()
        value.clear()

    def on_field_name(data: bytes, start: int, end: int) -> None:
        name.extend(data[start:end])

    def on_field_data(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_field_end() -> None:
        fields.append((bytes(name), bytes(value)))

    parser = _python_multipart().QuerystringParser({
        "on_field_start": on_field_start, "on_field_name": on_field_name,
        "on_field_data": on_field_data, "on_field_end": on_field_end,
    })
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            parser.write(chunk)
            if len(fields) > max_fields:
                raise HTTPException(
                    400, f"Too many fields. Maximum number of fields is {max_fields}."
                )
    parser.finalize()
    if len(fields) > max_fields:
        raise HTTPException(400, f"Too many fields. Maximum number of fields is {max_fields}.")
    return FormData(
        (unquote_plus(key.decode("latin-1")), unquote_plus(val.decode("latin-1")))
        for key, val in fields
    )


_NO_NAME = 'The Content-Disposition header field "name" must be provided.'  # Starlette's words

# What the multipart callbacks record, acted on after each chunk.
_HEADER_FIELD, _HEADER_VALUE, _HEADER_END, _HEADERS_DONE, _DATA, _PART_END, _END = range(7)


class _MultipartReader:
    """One multipart body: the parser's callbacks, and what ``read`` builds from them."""

    def __init__(self, boundary: bytes, max_files: int | float, max_fields: int | float,
                 max_part_size: int) -> None:
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self.pieces: list[tuple[int, bytes]] = []
        record = self.pieces.append

        def data_callback(kind: int) -> Callable[[bytes, int, int], None]:
            def on_data(data: bytes, start: int, end: int) -> None:
                record((kind, data[start:end]))
            return on_data

        def notify(kind: int) -> Callable[[], None]:
            def on_event() -> None:
                record((kind, b""))
            return on_event

        self.parser = _python_multipart().MultipartParser(boundary, {
            "on_header_field": data_callback(_HEADER_FIELD),
            "on_header_value": data_callback(_HEADER_VALUE),
            "on_header_end": notify(_HEADER_END),
            "on_headers_finished": notify(_HEADERS_DONE),
            "on_part_data": data_callback(_DATA),
            "on_part_end": notify(_PART_END),
            "on_end": notify(_END),
        })
        self.items: list[tuple[str, str | UploadFile]] = []
        self.files: list[UploadFile] = []  # every file opened, to close them if parsing fails
        self.fields = 0
        self.ended = False
        # The part being read:
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: list[tuple[bytes, bytes]] = []
        self.name = ""
        self.upload: UploadFile | None = None
        self.value = bytearray()

    async def read(self, request: Request) -> FormData:
        parse_error: type[Exception] = _python_multipart().exceptions.ParseError
        try:
            async with aclosing(request.stream()) as stream:
                async for chunk in stream:
                    try:
                        self.parser.write(chunk)
                    except parse_error as exc:
                        raise HTTPException(400, f"Invalid multipart body: {exc}") from None
                    await self._act()
            self.parser.finalize()
            if not self.ended:
                raise HTTPException(
                    400, "Invalid multipart body: it ended before its closing boundary."
                )
        except BaseException:
            for upload in self.files:
                upload.file.close()
            raise
        return FormData(self.items)

    async def _act(self) -> None:
        pieces = self.pieces
        for kind, data in pieces:
            if kind == _DATA:
                if self.upload is not None:
                    await self.upload.write(data)
                else:
                    self.value.extend(data)
                    if len(self.value) > self.max_part_size:
                        raise HTTPException(
                            400,
                            f"Part exceeded maximum size of {self.max_part_size // 1024}KB.",
                        )
            elif kind == _HEADER_FIELD:
                self.header_name.extend(data)
            elif kind == _HEADER_VALUE:
                self.header_value.extend(data)
            elif kind == _HEADER_END:
                self.headers.append((bytes(self.header_name).lower(), bytes(self.header_value)))
                self.header_name.clear()
                self.header_value.clear()
            elif kind == _HEADERS_DONE:
                self._start_part()
            elif kind == _PART_END:
                await self._end_part()
            else:  # _END
                self.ended = True
        pieces.clear()

    def _start_part(self) -> None:
        disposition: bytes | None = None
        for name, value in self.headers:
            if name == b"content-disposition":
                disposition = value
        if disposition is None:
            raise HTTPException(400, _NO_NAME)
        options: dict[bytes, bytes] = _python_multipart().multipart.parse_options_header(
            disposition
        )[1]
        raw_name = options.get(b"name")
        if raw_name is None:
            raise HTTPException(400, _NO_NAME)
        self.name = raw_name.decode("utf-8", errors="replace")
        raw_filename = options.get(b"filename")
        if raw_filename is None:
            self.fields += 1
            if self.fields > self.max_fields:
                raise HTTPException(
                    400, f"Too many fields. Maximum number of fields is {self.max_fields}."
                )
            self.upload = None
            return
        if len(self.files) >= self.max_files:
            raise HTTPException(
                400, f"Too many files. Maximum number of files is {self.max_files}."
            )
        spooled: Any = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)  # noqa: SIM115
        self.upload = UploadFile(
            spooled, size=0, filename=raw_filename.decode("utf-8", errors="replace"),
            headers=Headers(self.headers),
        )
        self.files.append(self.upload)

    async def _end_part(self) -> None:
        upload = self.upload
        if upload is not None:
            await upload.seek(0)
            self.items.append((self.name, upload))
        else:
            self.items.append((self.name, self.value.decode("utf-8", errors="replace")))
        self.upload = None
        self.value = bytearray()
        self.headers = []
