"""Middleware: ``app.add_middleware(cls, **options)``, as ``fastapi.middleware``.

The built-ins are in their own modules, named as FastAPI's and Starlette's:
``microready.middleware.cors.CORSMiddleware``, ``.gzip.GZipMiddleware``,
``.trustedhost.TrustedHostMiddleware``, ``.httpsredirect.HTTPSRedirectMiddleware``,
and ``.base.BaseHTTPMiddleware`` (what ``@app.middleware("http")`` uses). Any
pure ASGI middleware class can be added the same way. See README.md's
"Middleware" section for how background tasks go through them.
"""

from .._middleware_stack import Middleware

__all__ = ["Middleware"]
