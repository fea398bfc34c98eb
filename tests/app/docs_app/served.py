"""examples/notifications.py's endpoint with self-hosted Swagger UI assets.

As FastAPI's "Custom Docs UI Static Assets" page does it: the default ``/docs``
off, the files of npm's ``swagger-ui-dist`` mounted at ``/static`` and a ``/docs``
route of the app's own. The directory comes from ``SWAGGER_UI_DIST`` (which
tests/app/test_docs_in_a_browser.py sets; .ci/run fetches the package).

Run it:  SWAGGER_UI_DIST=.ci/cache/node_modules/swagger-ui-dist \\
         python -m microready tests.app.docs_app.served:app
"""

from __future__ import annotations

import os

from examples import notifications
from microready import MicroReady
from microready.openapi.docs import get_swagger_ui_html
from microready.responses import HTMLResponse
from microready.staticfiles import StaticFiles

app = MicroReady(docs_url=None)
app.add_api_route("/send-notification/{email}", notifications.send_notification,
                  methods=["POST"])
app.mount("/static", StaticFiles(directory=os.environ["SWAGGER_UI_DIST"]), name="static")


@app.get("/docs", include_in_schema=False)
async def custom_swagger_ui_html() -> HTMLResponse:
    assert app.openapi_url is not None
    return get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title="microready - Swagger UI",
        swagger_js_url="/static/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui.css",
        swagger_favicon_url="/static/favicon-32x32.png",
    )
