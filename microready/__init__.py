"""microready: an asyncio-native web micro-framework with its own HTTP/1.1 server.

Background tasks run after the response's last byte is flushed; see README.md.
"""

__version__ = "0.1.0"

from . import status
from ._serve import run
from .app import MicroReady
from .background import BackgroundTask, BackgroundTasks
from .config import Config, ConfigError
from .exceptions import HTTPException, RequestValidationError
from .params import Body, Cookie, Depends, Header, Path, Query
from .requests import Request
from .responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from .routing import Router

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "Config",
    "ConfigError",
    "Cookie",
    "Depends",
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
    "StreamingResponse",
    "__version__",
    "run",
    "status",
]
