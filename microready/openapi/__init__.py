"""OpenAPI: the document of an app's routes and the pages that show it.

``utils.get_openapi`` builds the OpenAPI 3.1.0 document as FastAPI 0.165 does
(``app.openapi()`` calls it once and keeps the result); ``docs`` makes the
Swagger UI and ReDoc pages the app serves at ``/docs`` and ``/redoc``. The
modules are FastAPI's paths (``fastapi.openapi.utils``, ``fastapi.openapi.docs``).
"""
