"""Solve a plan for one request: read parameters and the body, resolve dependencies.

``solve(plan, state)`` walks the plan ``signature`` built at registration:
dependencies first (each solved the same way, to any depth, then called
through ``call_plan``), then the callable's own path, query, header, cookie
and body parameters. It gathers *every* conversion error before giving up, so
a 422 lists them all. As in FastAPI, a dependency whose own parameters failed
is not called, the others are.

``read_params`` alone serves the endpoints that need nothing else (the
``SIMPLE`` mode), without a ``RequestState``.
"""

from __future__ import annotations

import json
from typing import Any

from .._convert import ConversionError, ErrorDict, missing_error, relocate
from ..datastructures import FormData
from ..exceptions import HTTPException, RequestValidationError
from ..requests import Request
from ..security.base import SecurityScopes
from .call import call_plan
from .forms import header_locations, model_input, read_form_params
from .plan import CallPlan, ParamPlan
from .state import RequestState

__all__ = ["load_body", "read_params", "solve"]

_MISSING: Any = object()
_FAILED: Any = object()  # cached for a dependency whose parameters did not convert


def _store(param: ParamPlan, raw: Any, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
    if raw is None:
        if param.required:
            errors.append(missing_error(param.loc))
        else:
            kwargs[param.name] = param.default_value()
        return
    convert = param.convert
    if convert is None:
        kwargs[param.name] = raw
        return
    try:
        kwargs[param.name] = convert(raw)
    except ConversionError as exc:
        errors.extend(relocate(exc.errors, param.loc))


def read_params(plan: CallPlan, request: Request, kwargs: dict[str, Any],
                errors: list[ErrorDict]) -> None:
    """Fill ``kwargs`` from the path, query string, headers and cookies."""
    if plan.path:
        path_params = request.path_params
        for param in plan.path:
            _store(param, path_params.get(param.key), kwargs, errors)
    if plan.query:
        query = request.query_params
        for param in plan.query:
            if param.many:
                _store(param, query.getlist(param.key) or None, kwargs, errors)
            else:
                _store(param, query.get(param.key), kwargs, errors)
    if plan.header:
        raw_headers = request.raw_headers
        for param in plan.header:
            wanted = param.raw_key
            if param.many:
                values = [v.decode("latin-1") for n, v in raw_headers if n == wanted]
                _store(param, values or None, kwargs, errors)
                continue
            found: str | None = None
            for header_name, value in raw_headers:
                if header_name == wanted:
                    found = value.decode("latin-1")
                    break
            _store(param, found, kwargs, errors)
    if plan.cookie:
        cookies = request.cookies
        for param in plan.cookie:
            _store(param, cookies.get(param.key), kwargs, errors)
    if plan.models:
        _read_models(plan, request, kwargs, errors)


def _read_models(plan: CallPlan, request: Request, kwargs: dict[str, Any],
                 errors: list[ErrorDict]) -> None:
    """Fill ``kwargs`` with the Query/Header/Cookie parameter models."""
    for param in plan.models:
        fields = param.fields or ()
        location = param.loc[0]
        if location == "query":
            _store(param, model_input(fields, request.query_params), kwargs, errors)
        elif location == "header":
            before = len(errors)
            _store(param, model_input(fields, request.headers), kwargs, errors)
            header_locations(fields, errors[before:])
        else:
            _store(param, model_input(fields, request.cookies), kwargs, errors)


def _read_body_params(plan: CallPlan, body: Any, kwargs: dict[str, Any],
                      errors: list[ErrorDict]) -> None:
    for param in plan.body:
        value = body
        if param.embed:
            # A body that is not an object has none of the keys: each is missing.
            value = body.get(param.key) if isinstance(body, dict) else None
        # FastAPI treats an explicit null like an absent value.
        _store(param, value, kwargs, errors)


def _is_json(content_type: str | None, strict: bool) -> bool:
    if not content_type:
        # FastAPI's "strict Content-Type": a body that does not say it is JSON is not
        # read as JSON (a browser sends one cross-site without a CORS preflight).
        return not strict
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def load_body(state: RequestState, *, form: bool = False) -> None:
    """Read and parse the body once, for every body parameter of the request.

    A form is parsed by python-multipart (``Request.form``). Malformed
    JSON answers 422 ``json_invalid`` at once, as FastAPI does.
    """
    request = state.request
    if form:
        state.body = await request.form()  # closed by the app after the background tasks
        return
    raw = await request.body()
    if not raw:
        state.body = None
        return
    content_type = None
    for name, value in request.raw_headers:
        if name == b"content-type":
            content_type = value.decode("latin-1")
            break
    if not _is_json(content_type, state.strict_content_type):
        state.body = raw.decode("utf-8", errors="replace")
        return
    try:
        state.body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [{
                "type": "json_invalid",
                "loc": ("body", exc.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }],
            body=exc.doc,
        ) from None
    except ValueError:  # not UTF-8/16/32 at all
        raise HTTPException(400, "There was an error parsing the body") from None


async def solve(plan: CallPlan, state: RequestState,
                scopes: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The keyword arguments for ``plan.call``, or None if anything below it failed.

    Failures are appended to ``state.errors``; solving goes on, so that every
    failing parameter of the request is reported together. ``scopes`` are the
    OAuth2 scopes ``Security(...)`` markers required on the way to ``plan``.
    """
    errors = state.errors
    before = len(errors)
    failed = False
    kwargs: dict[str, Any] = {}
    cache = state.cache
    overrides = state.overrides
    for dependency in plan.dependencies:
        call = dependency.call
        sub_plan = dependency.plan
        if overrides is not None:  # only when app.dependency_overrides has entries
            replaced = overrides.replacement_for(call, state.request)
            if replaced is not None:
                call, sub_plan = replaced
        sub_scopes = scopes
        if dependency.own_scopes:
            sub_scopes = scopes + tuple(s for s in dependency.own_scopes if s not in scopes)
        # FastAPI's cache key: the scopes in force count for what depends on them.
        key: Any = call
        if dependency.cache_by_scopes and sub_scopes:
            key = (call, tuple(sorted(set(sub_scopes))))
        value = cache.get(key, _MISSING) if dependency.use_cache else _MISSING
        if value is _MISSING:
            sub_kwargs = await solve(sub_plan, state, sub_scopes)
            if sub_kwargs is None:
                cache.setdefault(key, _FAILED)
                failed = True
                continue
            value = await call_plan(sub_plan, sub_kwargs, state, dependency.closes_early)
            cache.setdefault(key, value)
        elif value is _FAILED:
            failed = True
            continue
        if dependency.name is not None:
            kwargs[dependency.name] = value
    read_params(plan, state.request, kwargs, errors)
    if plan.body:
        if isinstance(state.body, FormData):  # the endpoint reads a form: every body param
            await read_form_params(plan.body, state.body, kwargs, errors, _store)
        else:
            _read_body_params(plan, state.body, kwargs, errors)
    for name in plan.request_names:
        kwargs[name] = state.request
    if plan.tasks_names:
        tasks = state.background_tasks()
        for name in plan.tasks_names:
            kwargs[name] = tasks
    if plan.response_names:
        response = state.sub_response()
        for name in plan.response_names:
            kwargs[name] = response
    for name in plan.scopes_names:
        kwargs[name] = SecurityScopes(list(scopes))
    if failed or len(errors) != before:
        return None
    return kwargs
