"""``StaticFiles``: serve a directory's files under a mounted prefix (``fastapi.staticfiles``).

``app.mount("/static", StaticFiles(directory="static"), name="static")``

A file is sent as a ``FileResponse`` (its type guessed from its name, with
``Content-Length``, ``Last-Modified``, ``ETag`` and byte ranges), or as 304
Not Modified when the client's ``If-None-Match`` / ``If-Modified-Since`` say
it has it already, as Starlette answers. Only GET and HEAD are served (405
otherwise). With ``html=True`` a directory serves its ``index.html`` (after a
redirect that adds the trailing slash) and a missing file the directory's
``404.html``, when there is one.

Nothing outside the directory is reachable: a path with a ``..`` segment, an
empty segment (``//etc/passwd``), a backslash or NUL, or a percent-encoded
slash, backslash or NUL in the request, answers 404 before the disk is
touched, and a path whose real location (symlinks resolved) is outside the
directory answers 404 too, unless ``follow_symlink=True`` allows links that
point out of it. The disk is read in a worker thread.
"""

from __future__ import annotations

import errno
import os
import stat
from email.utils import parsedate
from typing import Union

import anyio.to_thread

from .datastructures import Headers
from .exceptions import HTTPException
from .requests import Request
from .responses import FileResponse, RedirectResponse, Response

__all__ = ["NotModifiedResponse", "StaticFiles"]

PathLike = Union[str, "os.PathLike[str]"]

# Percent-encoded "/", "\" and NUL: the decoded path would hide them, and no
# file name a static directory holds contains one.
_ENCODED_SEPARATORS = (b"%2f", b"%5c", b"%00")


class NotModifiedResponse(Response):
    """304, with the validator and caching headers the full response would have had."""

    NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires",
                            "vary")

    def __init__(self, headers: Headers) -> None:
        super().__init__(
            status_code=304,
            headers={name: value for name, value in headers.items()
                     if name in self.NOT_MODIFIED_HEADERS},
        )


def _relative_path(path: str, raw_target: bytes) -> str | None:
    """``path`` (what follows the mount) as a path inside the directory, or None to refuse it."""
    raw_path = raw_target.partition(b"?")[0].lower()
    if any(encoded in raw_path for encoded in _ENCODED_SEPARATORS):
        return None
    segments = path.split("/")
    for position, segment in enumerate(segments):
        if segment == ".." or "\\" in segment or "\0" in segment:
            return None
        if not segment and position != len(segments) - 1:  # "//x" or "a//b": absolute-looking
            return None
    kept = [segment for segment in segments if segment not in ("", ".")]
    return os.path.join(*kept) if kept else "."


def is_not_modified(response_headers: Headers, request_headers: Headers) -> bool:
    """Whether a 304 may answer: RFC 9110 13.1.2 and 13.1.3, as Starlette reads them.

    ``If-None-Match`` (weak comparison, ``*`` matches anything) decides when it
    is there; ``If-Modified-Since`` is only read without it.
    """
    if_none_match = request_headers.get("if-none-match")
    if if_none_match:
        if if_none_match.strip() == "*":
            return True
        etag = response_headers.get("etag")
        return etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    if_modified_since = request_headers.get("if-modified-since")
    last_modified = response_headers.get("last-modified")
    if if_modified_since is None or last_modified is None:
        return False
    since, modified = parsedate(if_modified_since), parsedate(last_modified)
    return since is not None and modified is not None and since >= modified


class StaticFiles:
    """The files of ``directory``, for ``app.mount``; see the module docstring.

    ``StaticFiles(directory="static", html=False, check_dir=True, follow_symlink=False)``.
    With ``check_dir`` a missing directory is an error here, at startup; without
    it, at the first request.
    """

    def __init__(self, *, directory: PathLike, html: bool = False, check_dir: bool = True,
                 follow_symlink: bool = False) -> None:
        if directory is None:
            raise TypeError(
                "StaticFiles needs the directory to serve:\n"
                "    right: StaticFiles(directory=\"static\")"
            )
        self.directory = directory
        self.html = html
        self.follow_symlink = follow_symlink
        self._config_checked = False
        if check_dir and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    async def serve(self, request: Request, path: str) -> Response:
        """The response for ``request``, whose path under the mount is ``path``."""
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        if not self._config_checked:
            await self._check_config()
            self._config_checked = True
        relative = _relative_path(path, request.raw_target)
        if relative is None:
            raise HTTPException(404)
        full_path, stat_result = await self._lookup(relative)
        if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
            return self.file_response(full_path, stat_result, request)
        if stat_result is not None and stat.S_ISDIR(stat_result.st_mode) and self.html:
            full_path, stat_result = await self._lookup(os.path.join(relative, "index.html"))
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                raw_path, question, query = request.raw_target.partition(b"?")
                if not raw_path.endswith(b"/"):
                    # A directory's URL ends in "/", so the page's relative links work.
                    return RedirectResponse((raw_path + b"/" + question + query).decode("latin-1"))
                return self.file_response(full_path, stat_result, request)
        if self.html:
            full_path, stat_result = await self._lookup("404.html")
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return FileResponse(full_path, status_code=404, stat_result=stat_result)
        raise HTTPException(404)

    async def _lookup(self, relative: str) -> tuple[str, os.stat_result | None]:
        try:
            return await anyio.to_thread.run_sync(self.lookup_path, relative)
        except PermissionError:
            raise HTTPException(401) from None  # Starlette's answer
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise HTTPException(404) from None
            raise
        except ValueError:  # a character the file system refuses
            raise HTTPException(404) from None

    def lookup_path(self, relative: str) -> tuple[str, os.stat_result | None]:
        """The file's full path and ``os.stat``, or ``("", None)``; runs in a worker thread."""
        joined = os.path.join(self.directory, relative)
        if self.follow_symlink:
            full_path, root = os.path.abspath(joined), os.path.abspath(self.directory)
        else:
            full_path, root = os.path.realpath(joined), os.path.realpath(self.directory)
        if os.path.commonpath([full_path, root]) != root:
            return "", None  # a symlink (or anything else) pointing out of the directory
        try:
            return full_path, os.stat(full_path)
        except (FileNotFoundError, NotADirectoryError):
            return "", None

    def file_response(self, full_path: PathLike, stat_result: os.stat_result,
                      request: Request, status_code: int = 200) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        if is_not_modified(response.headers, request.headers):
            return NotModifiedResponse(response.headers)
        return response

    async def _check_config(self) -> None:
        """A missing directory fails loudly at the first request (check_dir=False)."""
        try:
            stat_result = await anyio.to_thread.run_sync(os.stat, self.directory)
        except FileNotFoundError:
            raise RuntimeError(
                f"StaticFiles directory '{self.directory}' does not exist."
            ) from None
        if not stat.S_ISDIR(stat_result.st_mode):
            raise RuntimeError(f"StaticFiles path '{self.directory}' is not a directory.")

    def __repr__(self) -> str:
        return f"StaticFiles(directory={self.directory!r}, html={self.html})"
