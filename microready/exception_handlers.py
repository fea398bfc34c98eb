"""The default exception handlers, importable to reuse inside your own (as in FastAPI).

    @app.exception_handler(HTTPException)
    async def log_and_answer(request, exc):
        print(f"OMG! An HTTP error!: {exc!r}")
        return await http_exception_handler(request, exc)
"""

from __future__ import annotations

from ._utils import NO_CONTENT_STATUSES
from .encoders import jsonable_encoder
from .exceptions import HTTPException, RequestValidationError
from .requests import Request
from .responses import JSONResponse, Response

__all__ = ["http_exception_handler", "request_validation_exception_handler"]



async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """``{"detail": exc.detail}`` with the exception's status and headers."""
    if exc.status_code in NO_CONTENT_STATUSES:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    """422 ``{"detail": [every error]}``."""
    return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
