"""The requests ``TestClient`` sends, built as httpx builds them: the body, the
headers httpx adds, Basic auth, and the request that follows a redirect.

Most of it is forms: ``data=`` and ``files=``, encoded as httpx encodes them.

FastAPI's TestClient is httpx, so tests written for it expect httpx's bytes. The
rules below are httpx's (``httpx/_content.py`` and ``httpx/_multipart.py``):

* ``data`` alone is ``application/x-www-form-urlencoded``. A list or tuple value
  is sent as repeated keys; ``True``/``False`` are spelled ``true``/``false`` and
  ``None`` is an empty value.
* With ``files``, the body is ``multipart/form-data`` (RFC 7578): the ``data``
  fields first, in order, then the files. Each part is ``--boundary``, its
  headers, a blank line, its bytes and CRLF, and the body ends with
  ``--boundary--``. The boundary is 16 random bytes in hex, unless the caller's
  own Content-Type header names one (httpx then uses that one).
* Names and filenames are quoted as the HTML standard's form encoding does
  (``"`` becomes ``%22``, a control character but ESC becomes ``%XX``); httpx
  also doubles backslashes, so this module does too.
* A file is ``content``, ``(filename, content)``, ``(filename, content,
  content_type)`` or ``(filename, content, content_type, headers)``, where
  ``content`` is bytes, a str (sent as UTF-8) or a binary file object. A bare
  file object is named by its ``.name``; bare bytes or str are named
  ``upload``. Without a given type, the filename's type is guessed with
  ``mimetypes``, falling back to ``application/octet-stream``. A part whose
  filename is ``None`` has neither a filename nor a Content-Type, so a server
  reads it as an ordinary field.

One deliberate difference: httpx sends a ``bytes`` value in an urlencoded form
as its ``repr`` (``b'...'``); here it is sent as those bytes. (The others, in
``json=`` and redirects, are told where they are made.)
"""

from __future__ import annotations

import base64
import contextlib
import io
import json as jsonlib
import mimetypes
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import IO, Any, TypeAlias
from urllib.parse import urlencode

from ._client_headers import ClientHeaders
from ._client_response import ClientRequest, TestResponse
from ._client_url import URL, host_header, is_https_upgrade, join, same_origin
from ._cookie_jar import Cookies

__all__ = [
    "AuthTypes", "FileTypes", "FormFiles", "basic_auth", "boundary_from_content_type",
    "build_request", "encode_body", "encode_multipart", "encode_urlencoded", "redirect_request",
    "refuse_two_bodies",
]

AuthTypes: TypeAlias = "tuple[str | bytes, str | bytes]"

FileContent: TypeAlias = "bytes | str | IO[bytes]"
FileTypes: TypeAlias = (
    "FileContent"
    " | tuple[str | None, FileContent]"
    " | tuple[str | None, FileContent, str | None]"
    " | tuple[str | None, FileContent, str | None, Mapping[str, str]]"
)
FormFiles: TypeAlias = "Mapping[str, FileTypes] | Sequence[tuple[str, FileTypes]]"

_CHUNK = 64 * 1024

# The HTML standard's escapes for names and filenames in Content-Disposition,
# plus httpx's doubling of the backslash.
_QUOTED = {'"': "%22", "\\": "\\\\"} | {
    chr(code): f"%{code:02X}" for code in range(0x20) if code != 0x1B
}
_TO_QUOTE = re.compile("|".join(re.escape(char) for char in _QUOTED))


def _text(value: Any) -> str:
    """A form value as text: httpx's JSON-style spelling of booleans and None."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _items(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``data``'s fields in order, a list or tuple value as repeated keys."""
    for name, value in data.items():
        if isinstance(value, list | tuple):
            for item in value:
                yield name, item
        else:
            yield name, value


def encode_urlencoded(data: Mapping[str, Any]) -> bytes:
    pairs = [(name, value if isinstance(value, bytes) else _text(value))
             for name, value in _items(data)]
    return urlencode(pairs).encode("ascii")


def boundary_from_content_type(content_type: str | None) -> bytes | None:
    """The boundary a caller's ``multipart/form-data; boundary=...`` header names, if any."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    for section in content_type.split(";")[1:]:
        key, _, value = section.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip().strip('"').encode("latin-1")
    return None


def encode_multipart(data: Mapping[str, Any], files: FormFiles,
                     boundary: bytes | None = None) -> tuple[bytes, str]:
    """The multipart body and its Content-Type, ``multipart/form-data; boundary=...``."""
    if boundary is None:
        boundary = os.urandom(16).hex().encode("ascii")
    parts = [_field_part(name, value) for name, value in _items(data)]
    file_items = files.items() if isinstance(files, Mapping) else files
    parts += [_file_part(name, value) for name, value in file_items]
    delimiter = b"--" + boundary
    body = b"".join(delimiter + b"\r\n" + part + b"\r\n" for part in parts)
    body += delimiter + b"--\r\n"
    return body, "multipart/form-data; boundary=" + boundary.decode("latin-1")


def _quote(key: str, value: str) -> bytes:
    return f'{key}="{_TO_QUOTE.sub(lambda match: _QUOTED[match.group(0)], value)}"'.encode()


def _field_part(name: Any, value: Any) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"Invalid type for name. Expected str, got {type(name)}: {name!r}")
    if value is not None and not isinstance(value, str | bytes | int | float):
        raise TypeError(
            f"Invalid type for value. Expected primitive type, got {type(value)}: {value!r}"
        )
    content = value if isinstance(value, bytes) else _text(value).encode()
    return b"Content-Disposition: form-data; " + _quote("name", name) + b"\r\n\r\n" + content


def _file_part(name: str, value: FileTypes) -> bytes:
    headers: Mapping[str, str] = {}
    content_type: str | None = None
    filename: str | None
    if isinstance(value, tuple):
        if not 2 <= len(value) <= 4:
            raise TypeError(
                f"files={{{name!r}: ...}} got a tuple of {len(value)}; a file is (filename, "
                "content), (filename, content, content_type) or (filename, content, "
                "content_type, headers)"
            )
        filename, content = value[0], value[1]
        if len(value) >= 3:
            content_type = value[2]
        if len(value) == 4:
            headers = value[3]
    else:
        filename, content = PurePath(str(getattr(value, "name", "upload"))).name, value
    if content_type is None and filename:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    part_headers = dict(headers)
    # As httpx: a Content-Type among the part's own headers wins over the third item.
    if content_type is not None and not any("content-type" in k.lower() for k in part_headers):
        part_headers["Content-Type"] = content_type
    head = b"Content-Disposition: form-data; " + _quote("name", name)
    if filename:
        head += b"; " + _quote("filename", filename)
    for key, header_value in part_headers.items():
        head += f"\r\n{key}: ".encode() + header_value.encode()
    return head + b"\r\n\r\n" + _read(content)


def _read(content: FileContent) -> bytes:
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, bytes):
        return content
    if isinstance(content, io.StringIO):
        raise TypeError("Multipart file uploads require 'io.BytesIO', not 'io.StringIO'.")
    if isinstance(content, io.TextIOBase):
        raise TypeError("Multipart file uploads must be opened in binary mode, not text mode.")
    # httpx sends a file object from its start, wherever a read has left it.
    if hasattr(content, "seek"):
        with contextlib.suppress(io.UnsupportedOperation):
            content.seek(0)
    chunks = []
    while chunk := content.read(_CHUNK):
        chunks.append(chunk.encode() if isinstance(chunk, str) else chunk)
    return b"".join(chunks)


# -- the whole request, as TestClient.request builds it ---------------------------------


def refuse_two_bodies(method: str, json: Any, content: bytes | str | None,
                       data: Mapping[str, Any] | None, files: FormFiles | None) -> None:
    call = f"client.{method.lower()}(url, ...)"
    form = [name for name, value in (("data=", data), ("files=", files)) if value is not None]
    for name, value in (("json=", json), ("content=", content)):
        if value is not None and form:
            raise TypeError(
                f"{call} got {name} and {' and '.join(form)}: a request has one body.\n"
                f"    keep {name} to send {'JSON' if name == 'json=' else 'raw bytes'}: "
                f"{call.replace('...', name + '...')}\n"
                f"    or keep {' and '.join(form)} to send a form: "
                f"{call.replace('...', ', '.join(f + '...' for f in form))}"
            )
    if json is not None and content is not None:
        raise TypeError(
            f"{call} got json= and content=: a request has one body.\n"
            "    keep json= to send JSON, or content= (with a Content-Type header) "
            "to send raw bytes"
        )


def encode_body(json: Any, content: bytes | str | None, data: Mapping[str, Any] | None,
                 files: FormFiles | None, given_type: str | None) -> tuple[bytes, str | None]:
    if json is not None:
        # ``{"a": 1}``, as httpx before 0.28 (and tests here) spell it; httpx 0.28
        # sends ``{"a":1}``, with non-ASCII unescaped: a deliberate difference.
        return jsonlib.dumps(json).encode(), "application/json"
    if data is not None and not isinstance(data, Mapping):
        raise TypeError(
            f"data= takes form fields (a dict), got {type(data).__name__}; "
            "send raw bytes or text with content= instead"
        )
    # As httpx: empty files= (or data=) count as not given.
    if files:
        return encode_multipart(data or {}, files, boundary_from_content_type(given_type))
    if data:
        return encode_urlencoded(data), "application/x-www-form-urlencoded"
    if isinstance(content, str):
        return content.encode(), None
    return (content or b""), None


def basic_auth(auth: AuthTypes) -> str:
    """The Authorization header for ``auth=(username, password)`` (RFC 7617), as httpx
    builds it: both encoded as UTF-8."""
    if not (isinstance(auth, tuple) and len(auth) == 2):
        raise TypeError(
            f"auth= takes a (username, password) tuple, got {auth!r}; for another scheme set "
            "the header: headers={'Authorization': 'Bearer ...'}"
        )
    pair = b":".join(part.encode() if isinstance(part, str) else part for part in auth)
    return "Basic " + base64.b64encode(pair).decode("ascii")


def build_request(method: str, url: URL, headers: ClientHeaders, cookies: Cookies,
                  body: bytes, content_type: str | None) -> ClientRequest:
    """The request ``httpx.Request`` would build. A header the test gave is sent as it
    gave it; the rest is added around it: Cookie from the jar (unless a Cookie header
    was given) after the given headers, then Content-Length and Content-Type, and
    Host (from the URL) first, with Content-Length 0 for an empty POST, PUT or PATCH."""
    cookie = cookies.header_for(url, headers)
    if cookie is not None:
        headers.append("cookie", cookie)
    if body:
        headers.setdefault("content-length", str(len(body)))
    if content_type is not None:
        headers.setdefault("content-type", content_type)
    added = []
    if "host" not in headers:
        added.append(("host", host_header(url)))
    if method in ("POST", "PUT", "PATCH") and not (
        "content-length" in headers or "transfer-encoding" in headers
    ):
        added.append(("content-length", "0"))
    return ClientRequest(method, url, ClientHeaders([*added, *headers.multi_items()]), body)


def redirect_request(request: ClientRequest, response: TestResponse,
                     cookies: Cookies) -> ClientRequest:
    """The request that follows ``response``'s redirect, by httpx's rules.

    303, and 302 (as browsers do), become GET, and so does a POST answered with 301;
    HEAD stays HEAD. Leaving the origin drops Authorization (but not for http ->
    https on the same host) and sets Host to the new one. The Cookie header is made
    again from ``cookies``, so what the redirect set is sent; a Cookie header the
    test gave is not sent on.

    Two deliberate differences from httpx, both so the app sees what a test means:
    a request turned into a GET loses its Content-Type with its body (httpx keeps
    the Content-Type of a body it no longer sends), and TestClient passes the jar
    with the request's ``cookies=`` in it, which httpx drops after the first hop
    (so ``get("/items", cookies=...)``, redirected to ``/items/``, keeps them).
    """
    status, method = response.status_code, request.method
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    url = join(request.url, response.headers["location"])
    headers = request.headers.copy()
    if not same_origin(url, request.url):
        if not is_https_upgrade(request.url, url):
            headers.pop("authorization", None)
        headers["host"] = host_header(url)
    body = request.content
    if method != request.method and method == "GET":
        for name in ("content-length", "transfer-encoding", "content-type"):
            headers.pop(name, None)
        body = b""
    headers.pop("cookie", None)
    cookie = cookies.header_for(url, headers)
    if cookie is not None:
        headers.append("cookie", cookie)
    return ClientRequest(method, url, headers, body)
