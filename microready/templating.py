"""``Jinja2Templates``: HTML pages from Jinja2 templates (``fastapi.templating``).

::

    templates = Jinja2Templates(directory="templates")

    @app.get("/items/{id}", response_class=HTMLResponse)
    async def read_item(request: Request, id: str):
        return templates.TemplateResponse(request=request, name="item.html", context={"id": id})

The context gets ``request``, and templates get ``url_for(name, **params)``,
which builds absolute URLs to named routes and mounts
(``url_for('static', path='/styles.css')``), as in Starlette.

Jinja2 is an optional dependency: ``pip install 'microready[templates]'``.
Importing this module works without it; creating ``Jinja2Templates`` says
what to install.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .requests import Request
from .responses import Background, HTMLResponse

if TYPE_CHECKING:
    import jinja2

__all__ = ["Jinja2Templates"]

_INSTALL = "pip install 'microready[templates]'"

ContextProcessor = Callable[[Request], dict[str, Any]]


def _jinja2() -> Any:
    try:
        import jinja2
    except ImportError:
        raise ImportError(f"Jinja2Templates needs jinja2, which is not installed: {_INSTALL}") \
            from None
    return jinja2


class _TemplateResponse(HTMLResponse):
    """The rendered page; ``template`` and ``context`` stay on it, for tests to inspect."""

    def __init__(self, template: jinja2.Template, context: dict[str, Any],
                 status_code: int = 200, headers: Mapping[str, str] | None = None,
                 media_type: str | None = None, background: Background = None) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)


class Jinja2Templates:
    """Templates from ``directory`` (a path or a list of them), or from your own ``env``.

    ``Jinja2Templates(directory="templates", context_processors=None)`` or
    ``Jinja2Templates(env=jinja2.Environment(...))``. Autoescaping is on for
    ``.html``, ``.htm`` and ``.xml`` templates (``jinja2.select_autoescape()``).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        context_processors: list[ContextProcessor] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        jinja = _jinja2()
        if (directory is None) == (env is None):
            raise TypeError(
                "Jinja2Templates takes either a directory or a Jinja2 environment, not "
                f"{'both' if env is not None else 'neither'}:\n"
                "    right: Jinja2Templates(directory=\"templates\")\n"
                "    right: Jinja2Templates(env=jinja2.Environment(loader=...))"
            )
        self.context_processors = list(context_processors or [])
        if env is None:
            env = jinja.Environment(
                loader=jinja.FileSystemLoader(directory), autoescape=jinja.select_autoescape()
            )
        self.env: jinja2.Environment = env

        def url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> str:
            request: Request = context["request"]
            return request.url_for(name, **path_params)

        # pass_context: Jinja2 hands url_for the template's context, which holds request.
        env.globals.setdefault("url_for", jinja.pass_context(url_for))

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
    ) -> HTMLResponse:
        """Render ``name`` with ``context`` (plus ``request``) into an HTML response."""
        if not isinstance(request, Request):
            shown = f"{request!r}, " if isinstance(request, str) else ""
            raise TypeError(
                "TemplateResponse takes the request first, then the template's name "
                "(FastAPI's current signature):\n"
                f"    wrong: templates.TemplateResponse({shown}{{\"request\": request, ...}})\n"
                "    right: templates.TemplateResponse(request, \"item.html\", {\"id\": id})"
            )
        context = {} if context is None else context
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        return _TemplateResponse(self.get_template(name), context, status_code, headers,
                                 media_type, background)
