"""The interactive docs pages: Swagger UI (``/docs``), ReDoc (``/redoc``) and the
page Swagger UI's OAuth2 login returns to (``/docs/oauth2-redirect``).

FastAPI's functions, with its keywords and its default CDN URLs; to host the
assets yourself (FastAPI's "Custom Docs UI Static Assets"), turn the default
page off with ``MicroReady(docs_url=None)``, mount the files with
``app.mount("/static", StaticFiles(directory="static"))`` and serve
``get_swagger_ui_html(openapi_url=app.openapi_url, title=...,
swagger_js_url="/static/swagger-ui-bundle.js",
swagger_css_url="/static/swagger-ui.css")`` from your own route.

Values written into a ``<script>`` go through ``_script_json``, so a title or
a parameter cannot close the script element.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ..encoders import jsonable_encoder
from ..responses import HTMLResponse

__all__ = [
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "swagger_ui_default_parameters",
]

FAVICON_URL = "https://fastapi.tiangolo.com/img/favicon.png"
SWAGGER_JS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
REDOC_JS_URL = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
GOOGLE_FONTS = "https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700"

# Swagger UI's configuration unless swagger_ui_parameters says otherwise (FastAPI's).
swagger_ui_default_parameters: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}


def _script_json(value: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` left as they are."""
    text = json.dumps(jsonable_encoder(value))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = SWAGGER_JS_URL,
    swagger_css_url: str = SWAGGER_CSS_URL,
    swagger_favicon_url: str = FAVICON_URL,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for the document at ``openapi_url``."""
    parameters = {**swagger_ui_default_parameters, **(swagger_ui_parameters or {})}
    config = "".join(f"    {_script_json(key)}: {_script_json(value)},\n"
                     for key, value in parameters.items())
    if oauth2_redirect_url:
        redirect = _script_json(oauth2_redirect_url)
        config += f"    oauth2RedirectUrl: window.location.origin + {redirect},\n"
    init = f"  ui.initOAuth({_script_json(init_oauth)})\n" if init_oauth else ""
    html = f"""<!DOCTYPE html>
<html>
<head>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{swagger_css_url}">
<link rel="shortcut icon" href="{swagger_favicon_url}">
<title>{escape(title)}</title>
</head>
<body>
<div id="swagger-ui">
</div>
<script src="{swagger_js_url}"></script>
<!-- `SwaggerUIBundle` is now available on the page -->
<script>
  const ui = SwaggerUIBundle({{
    url: {_script_json(openapi_url)},
{config}    presets: [
      SwaggerUIBundle.presets.apis,
      SwaggerUIBundle.SwaggerUIStandalonePreset
    ],
  }})
{init}</script>
</body>
</html>
"""
    return HTMLResponse(html)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = REDOC_JS_URL,
    redoc_favicon_url: str = FAVICON_URL,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """The ReDoc page for the document at ``openapi_url``."""
    fonts = f'<link href="{GOOGLE_FONTS}" rel="stylesheet">\n' if with_google_fonts else ""
    html = f"""<!DOCTYPE html>
<html>
<head>
<title>{escape(title)}</title>
<!-- needed for adaptive design -->
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
{fonts}<link rel="shortcut icon" href="{redoc_favicon_url}">
<!-- ReDoc doesn't change outer page styles -->
<style>
  body {{
    margin: 0;
    padding: 0;
  }}
</style>
</head>
<body>
<noscript>
  ReDoc requires Javascript to function. Please enable it to browse the documentation.
</noscript>
<redoc spec-url="{escape(openapi_url)}"></redoc>
<script src="{redoc_js_url}"> </script>
</body>
</html>
"""
    return HTMLResponse(html)


# The page the OAuth2 server sends the browser back to: it reads the code (or the
# token, or the error) from the URL and hands it to the Swagger UI window that
# opened it (``window.opener.swaggerUIRedirectOauth2``), then closes itself. The
# protocol is Swagger UI's own (swagger-ui's dist/oauth2-redirect.html).
_OAUTH2_REDIRECT_HTML = """<!doctype html>
<html lang="en-US">
<head>
    <title>Swagger UI: OAuth2 Redirect</title>
</head>
<body>
<script>
    'use strict';
    function run () {
        var oauth2 = window.opener.swaggerUIRedirectOauth2;
        var sentState = oauth2.state;
        var redirectUrl = oauth2.redirectUrl;
        var query = /code|token|error/.test(window.location.hash)
            ? window.location.hash.substring(1).replace('?', '&')
            : location.search.substring(1);
        var params = {};
        new URLSearchParams(query).forEach(function (value, key) { params[key] = value; });
        var isValid = params.state === sentState;
        var flow = oauth2.auth.schema.get("flow");
        var codeFlow = flow === "accessCode" || flow === "authorizationCode"
            || flow === "authorization_code";
        if (codeFlow && !oauth2.auth.code) {
            if (!isValid) {
                oauth2.errCb({
                    authId: oauth2.auth.name, source: "auth", level: "warning",
                    message: "Authorization may be unsafe, passed state was changed in server. "
                        + "The passed state wasn't returned from auth server."
                });
            }
            if (params.code) {
                delete oauth2.state;
                oauth2.auth.code = params.code;
                oauth2.callback({auth: oauth2.auth, redirectUrl: redirectUrl});
            } else {
                var message = "[Authorization failed]: no accessCode received from the server.";
                if (params.error) {
                    message = "[" + params.error + "]: "
                        + (params.error_description ? params.error_description + ". "
                           : "no accessCode received from the server. ")
                        + (params.error_uri ? "More info: " + params.error_uri : "");
                }
                oauth2.errCb({authId: oauth2.auth.name, source: "auth", level: "error",
                              message: message});
            }
        } else {
            oauth2.callback({auth: oauth2.auth, token: params, isValid: isValid,
                             redirectUrl: redirectUrl});
        }
        window.close();
    }
    if (document.readyState !== 'loading') {
        run();
    } else {
        document.addEventListener('DOMContentLoaded', run);
    }
</script>
</body>
</html>
"""


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The OAuth2 redirect page Swagger UI needs (served at ``/docs/oauth2-redirect``)."""
    return HTMLResponse(_OAUTH2_REDIRECT_HTML)
