"""Every import path users write keeps working, whatever moves inside the package."""

import importlib
import re
from pathlib import Path

import pytest

import microready

# (module, names users import from it)
PUBLIC_PATHS = [
    ("microready", microready.__all__),
    ("microready.responses", ["Response", "JSONResponse", "HTMLResponse", "PlainTextResponse",
                              "RedirectResponse", "StreamingResponse", "FileResponse"]),
    ("microready.requests", ["Request"]),
    ("microready.testing", ["TestClient"]),
    ("microready.params", ["Query", "Path", "Header", "Cookie", "Body", "Depends", "Form",
                           "File", "Security"]),
    ("microready.routing", ["Router", "PathTemplate", "APIRoute", "Mount", "NoMatchFound",
                            "WebSocketRoute", "APIWebSocketRoute"]),
    ("microready.exceptions", ["HTTPException", "RequestValidationError",
                               "ResponseValidationError", "FastAPIError", "MicroReadyError",
                               "WebSocketException"]),
    ("microready.websockets", ["WebSocket", "WebSocketDisconnect", "WebSocketState"]),
    ("microready.background.celery", ["CeleryOffload", "RemoteTask", "at_least_once"]),
    ("microready.middleware", ["Middleware"]),
    ("microready.middleware.base", ["BaseHTTPMiddleware"]),
    ("microready.middleware.cors", ["CORSMiddleware"]),
    ("microready.middleware.gzip", ["GZipMiddleware"]),
    ("microready.middleware.trustedhost", ["TrustedHostMiddleware"]),
    ("microready.middleware.httpsredirect", ["HTTPSRedirectMiddleware"]),
    ("microready.security", ["OAuth2PasswordBearer", "OAuth2PasswordRequestForm",
                             "OAuth2PasswordRequestFormStrict", "OAuth2AuthorizationCodeBearer",
                             "OAuth2", "SecurityScopes", "HTTPBasic", "HTTPBasicCredentials",
                             "HTTPBearer", "HTTPDigest", "HTTPAuthorizationCredentials",
                             "APIKeyHeader", "APIKeyQuery", "APIKeyCookie", "OpenIdConnect"]),
    ("microready.sse", ["EventSourceResponse", "ServerSentEvent"]),
    ("microready.staticfiles", ["StaticFiles"]),
    ("microready.templating", ["Jinja2Templates"]),
    ("microready.formparsers", ["parse_form"]),
    ("microready.exception_handlers", ["http_exception_handler",
                                       "request_validation_exception_handler"]),
    ("microready.encoders", ["jsonable_encoder"]),
    ("microready.status", ["HTTP_200_OK", "HTTP_404_NOT_FOUND", "WS_1008_POLICY_VIOLATION"]),
    ("microready.datastructures", ["Headers", "QueryParams", "URL", "Address", "State",
                                   "UploadFile", "FormData"]),
    ("microready.config", ["Config", "ConfigError"]),
    ("microready.background", ["BackgroundTask", "BackgroundTasks"]),
    ("microready.server", ["Server", "ServerStartupError"]),
]


@pytest.mark.parametrize(("module_name", "names"), PUBLIC_PATHS, ids=[m for m, _ in PUBLIC_PATHS])
def test_public_import_path_still_works(module_name: str, names: list[str]) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, f"{module_name} no longer has {missing}"


def test_the_public_face_is_the_same_objects_as_their_modules() -> None:
    from microready.background import BackgroundTasks
    from microready.config import Config
    from microready.responses import JSONResponse

    assert microready.BackgroundTasks is BackgroundTasks
    assert microready.Config is Config
    assert microready.JSONResponse is JSONResponse


def test_logger_names_are_unchanged() -> None:
    # Users configure these by name (README, "Running the server"); a move must not rename them.
    root = Path(microready.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        found.update(re.findall(r'getLogger\(\s*"([^"]+)"\s*\)', path.read_text()))
    assert found == {
        "microready", "microready.server", "microready.error", "microready.access",
        "microready.background",
    }
