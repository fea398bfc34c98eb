"""The microready benchmark app with CORS and GZip in front, as many deployments run it.

Same endpoints as ``microready_app``; the difference between the two targets
is what the two middlewares cost. The benchmark's requests send an ``Origin``
header only when the load generator does, so CORS mostly checks and passes;
GZip leaves the small bodies alone (under its 500-byte minimum) and compresses
what is larger when the client accepts it.

Serve: ``python -m microready benchmarks.apps.microready_middleware_app:app``.
"""

from __future__ import annotations

from microready.middleware.cors import CORSMiddleware
from microready.middleware.gzip import GZipMiddleware

from .microready_app import app

app.add_middleware(GZipMiddleware, minimum_size=500)
app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"], allow_methods=["*"],
                   allow_headers=["*"])

__all__ = ["app"]
