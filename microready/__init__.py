"""microready: an asyncio-native web micro-framework with its own HTTP/1.1 server.

Background tasks run after the response's last byte is flushed; see README.md.
"""

from . import status
from ._version import __version__
from .app import MicroReady
from .background import BackgroundTask, BackgroundTasks
from .config import Config, ConfigError
from .datastructures import UploadFile
from .exceptions import HTTPException, RequestValidationError
from .params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from .requests import Request
from .responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from .routing import Router
from .server.run import run
from .websockets import WebSocket, WebSocketDisconnect, WebSocketException

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "Config",
    "ConfigError",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "JSONResponse",
    "MicroReady",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "Security",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "__version__",
    "run",
    "status",
]
