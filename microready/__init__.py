"""microready: an asyncio-native web micro-framework with its own HTTP/1.1 server.

Background tasks run after the response's last byte is flushed; see README.md.
"""

__version__ = "0.1.0"

from . import status
from ._serve import run
from .app import MicroReady
from .background import BackgroundTask, BackgroundTasks
from .config import Config, ConfigError
from .exceptions import HTTPException
from .requests import Request
from .responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "Config",
    "ConfigError",
    "HTMLResponse",
    "HTTPException",
    "JSONResponse",
    "MicroReady",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "Response",
    "StreamingResponse",
    "__version__",
    "run",
    "status",
]
