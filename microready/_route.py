"""A route: one path operation, its plan and response model, made once at registration.

``microready.routing`` re-exports ``Route`` (and ``APIRoute``, FastAPI's name
for it); the routers that make routes are there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._convert import UnsupportedType
from ._inject import EndpointPlan, plan_endpoint
from ._path_template import PathTemplate
from ._response_model import ResponseModel, model_from_annotation
from ._route_handler import RouteHandler, checked_handler, original_handler
from ._route_options import FROM_ANNOTATION, RouteOptions, merge_route_options, model_options
from ._route_table import fill_path
from ._streaming import StreamMaker, stream_maker
from .params import Dependency
from .responses import JSONResponse, Response

__all__ = ["Route"]


class Route:
    """One path operation: a path, its methods, the endpoint and its plan.

    FastAPI's ``APIRoute`` (``microready.routing.APIRoute`` is this class). A
    subclass may override ``get_route_handler`` to wrap the handler that
    answers its requests; see ``_route_handler``.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        dependencies: Sequence[Dependency] = (),
        name: str | None = None,
        metadata: RouteOptions | None = None,
        strict_content_type: bool | None = None,
        response_model: Any = FROM_ANNOTATION,
        response_model_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(endpoint):
            raise TypeError(
                f"route {path!r}: the endpoint must be a function, got {type(endpoint).__name__}"
            )
        if isinstance(methods, str):
            raise TypeError(
                f"route {path!r}: methods= takes a list:\n"
                f"    wrong: methods={methods!r}\n"
                f"    right: methods=[{methods!r}]"
            )
        if status_code is not None and not (
            isinstance(status_code, int) and 100 <= status_code <= 599
        ):
            raise ValueError(f"route {path!r}: status_code must be an int from 100 to 599")
        if response_class is not None and not (
            isinstance(response_class, type) and issubclass(response_class, Response)
        ):
            raise TypeError(
                f"route {path!r}: response_class must be a Response class such as "
                f"HTMLResponse, not {response_class!r}"
            )
        self.path = path
        self.template = PathTemplate(path)
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", repr(endpoint))
        ordered = [m.upper() for m in (methods or ["GET"])]
        if "GET" in ordered and "HEAD" not in ordered:
            ordered.append("HEAD")
        self.methods: tuple[str, ...] = tuple(dict.fromkeys(ordered))
        self.method_set = frozenset(self.methods)
        self.status_code = status_code
        self.response_class: type[Response] = response_class or JSONResponse
        self.response_class_explicit = response_class is not None
        self.dependencies = tuple(dependencies)
        self.metadata: RouteOptions = metadata or {}
        # None: not set on the route or its routers; the app's value applies.
        self.strict_content_type = strict_content_type
        where = f"{'/'.join(m for m in self.methods if m != 'HEAD') or 'HEAD'} {path}"
        self.plan: EndpointPlan = plan_endpoint(
            endpoint, frozenset(self.template.names), self.dependencies, where
        )
        self.response_model_declared = response_model
        self.response_model_options = dict(response_model_options or {})
        if self.plan.streams:  # its items are streamed as they come (no item model yet)
            response_model = None
        elif response_model is FROM_ANNOTATION:
            response_model = model_from_annotation(endpoint, where)
        try:
            self.response_model: ResponseModel | None = (
                None if response_model is None else ResponseModel(
                    response_model, **model_options(self.response_model_options))
            )
        except UnsupportedType as exc:
            raise TypeError(
                f"{where}: {exc}; to send the returned value as it is, say "
                f"response_model=None"
            ) from None
        # A generator endpoint: what turns its generator into the response.
        self.stream: StreamMaker | None = (
            stream_maker(self.response_class, where,
                         getattr(endpoint, "__name__", self.plan.root.name))
            if self.plan.streams else None
        )
        # None for a plain Route: the app runs the endpoint itself, at no extra cost.
        self.handler: RouteHandler | None = None if (
            type(self).get_route_handler is Route.get_route_handler
        ) else checked_handler(self, self.get_route_handler(), where)

    def get_route_handler(self) -> RouteHandler:
        """The async function that answers this route's requests: ``Request -> Response``.

        It runs the endpoint with the route's plan and makes its response. A
        subclass may override this to wrap it (FastAPI's ``APIRoute`` hook; see
        ``_route_handler``); it is called once, when the route is made. To hand
        the endpoint a ``Request`` subclass: ``MyRequest.from_request(request)``.
        """
        return original_handler(self)

    def copy_with(self, *, prefix: str, dependencies: Sequence[Dependency],
                  default_response_class: type[Response] | None,
                  metadata: RouteOptions, strict_content_type: bool | None = None) -> Route:
        """This route as mounted under ``prefix`` with extra leading dependencies."""
        response_class = self.response_class if self.response_class_explicit else (
            default_response_class
        )
        merged = merge_route_options(metadata, self.metadata)
        return type(self)(  # an included route keeps its class, as in FastAPI
            prefix + self.path,
            self.endpoint,
            methods=[m for m in self.methods if m != "HEAD" or "GET" not in self.methods],
            status_code=self.status_code,
            response_class=response_class,
            dependencies=(*dependencies, *self.dependencies),
            name=self.name,
            metadata=merged,
            strict_content_type=(
                self.strict_content_type if self.strict_content_type is not None
                else strict_content_type
            ),
            response_model=self.response_model_declared,
            response_model_options=self.response_model_options,
        )

    def url_path(self, name: str, params: dict[str, Any]) -> str | None:
        """This route's path with ``params`` in it, if it is called ``name`` and takes them."""
        if name != self.name or set(params) != set(self.template.names):
            return None
        return fill_path(self.path, params)

    def __repr__(self) -> str:
        return f"<Route {', '.join(self.methods)} {self.path} -> {self.name}>"
