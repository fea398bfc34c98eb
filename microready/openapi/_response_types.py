"""Which type a route's documented response describes, as FastAPI 0.165 decides it.

The route's own ``response_model`` is what microready validates against; the
document follows FastAPI's ``APIRoute``, which also takes, from the return
annotation:

* ``-> Any``: a response model of ``Any`` (microready validates nothing, so it
  keeps none), whose schema is ``{"title": "Response ..."}`` rather than ``{}``;
* ``-> AsyncIterable[Item]`` (``Iterable``, ``AsyncIterator``, ``Iterator``,
  ``AsyncGenerator``, ``Generator``) on a generator endpoint: the type of the
  streamed items, described by the JSON Lines or server-sent events
  ``itemSchema`` (``ServerSentEvent`` items are the events themselves, no data
  model).
"""

from __future__ import annotations

import collections.abc
import inspect
from typing import Any, get_args, get_origin

from .._route import Route
from .._route_options import FROM_ANNOTATION
from ..sse import EventSourceResponse, ServerSentEvent

__all__ = ["NO_MODEL", "response_type", "stream_item_type"]

NO_MODEL: Any = object()
_STREAM_ORIGINS = (
    collections.abc.AsyncIterable, collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator, collections.abc.Iterable, collections.abc.Iterator,
    collections.abc.Generator,
)


def _return_annotation(route: Route) -> Any:
    try:
        return inspect.signature(route.endpoint, eval_str=True).return_annotation
    except (NameError, TypeError, ValueError):
        return inspect.Signature.empty  # the parameter planner reports unreadable signatures


def response_type(route: Route) -> Any:
    """The type the route's response schema describes, or ``NO_MODEL``."""
    if route.response_model is not None:
        return route.response_model.type
    if (not route.plan.streams and route.response_model_declared is FROM_ANNOTATION
            and _return_annotation(route) is Any):
        return Any
    return NO_MODEL


def stream_item_type(route: Route) -> Any:
    """The type of a streaming route's items, from its return annotation, or ``NO_MODEL``."""
    if not route.plan.streams or route.response_model_declared is not FROM_ANNOTATION:
        return NO_MODEL
    is_events = issubclass(route.response_class, EventSourceResponse)
    if route.response_class_explicit and not is_events:
        return NO_MODEL
    annotation = _return_annotation(route)
    if get_origin(annotation) not in _STREAM_ORIGINS:
        return NO_MODEL
    item = next(iter(get_args(annotation)), Any)
    if isinstance(item, type) and issubclass(item, ServerSentEvent):
        return NO_MODEL
    return item
