"""pydantic's functional validators in ``Annotated``: Before, After, Plain and Wrap.

``Annotated[int, AfterValidator(check)]`` on a parameter or a record field runs
``check`` as pydantic does. Each validator wraps what comes before it in the
``Annotated`` list, so the chain is built once, left to right, at
registration:

- ``BeforeValidator(f)``: ``f`` gets the value as it arrived, the rest gets ``f``'s result
  (stacked ones therefore run right to left);
- ``AfterValidator(f)``: ``f`` gets the converted, constraint-checked value (left to right);
- ``PlainValidator(f)``: ``f`` replaces everything before it, conversion included;
- ``WrapValidator(f)``: ``f(value, handler)``, ``handler`` running everything before it.

Constraints (``gt``, ``max_length``...) are checked right after conversion,
inside every validator. A validator's ``ValueError``, ``AssertionError`` or
``PydanticCustomError`` becomes pydantic's error dict, with the value it was
given as the ``input``. pydantic is never imported here: the classes are only
looked up in ``sys.modules``, where they are whenever an annotation holds one.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any

from .errors import (
    ConversionError,
    Converter,
    ErrorDict,
    UnsupportedType,
    error_dict,
    json_ctx,
    pydantic_errors,
)

__all__ = ["has_validators", "with_validators"]

_KINDS = ("BeforeValidator", "AfterValidator", "PlainValidator", "WrapValidator")


def _kind(item: Any) -> str | None:
    """Which of pydantic's four validators ``item`` is, if any."""
    module = sys.modules.get("pydantic.functional_validators")
    if module is None:
        return None
    for kind in _KINDS:
        cls = getattr(module, kind, None)
        if isinstance(cls, type) and isinstance(item, cls):
            return kind
    return None


def _refuse_unknown(item: Any) -> None:
    # Something else that hooks into pydantic's validation (SkipValidation,
    # InstanceOf, a class with its own core schema): refuse it rather than skip it.
    if hasattr(item, "__get_pydantic_core_schema__") and not isinstance(item, str | bytes):
        raise UnsupportedType(
            f"microready cannot apply {item!r} from Annotated: it changes pydantic's "
            "validation in a way microready does not reproduce; use AfterValidator, "
            "BeforeValidator, PlainValidator or WrapValidator, or a pydantic model"
        )


def has_validators(metadata: Iterable[Any]) -> bool:
    """Whether any ``Annotated`` extra is a validator (raises for ones we cannot run)."""
    found = False
    for item in metadata:
        if _kind(item) is not None:
            found = True
        else:
            _refuse_unknown(item)
    return found


class _Info:
    """The little of pydantic's ``ValidationInfo`` a field validator can use here."""

    __slots__ = ()
    context = None
    config = None
    mode = "python"
    data: dict[str, Any] = {}  # noqa: RUF012 - read-only by convention, as pydantic's
    field_name = None


_INFO = _Info()
_SAME = object()  # a layer's errors report the value it was given


def _takes_info(func: Callable[..., Any], plain_arity: int) -> bool:
    """Whether ``func`` wants the extra ``info`` argument: its required positionals, as pydantic."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [
        p for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(required) > plain_arity


def _errors_of(exc: Exception, value: Any) -> list[ErrorDict] | None:
    """pydantic's errors for what a validator raised, or None to let it propagate."""
    pydantic_core = sys.modules.get("pydantic_core")
    if pydantic_core is not None:
        if isinstance(exc, pydantic_core.ValidationError):
            return pydantic_errors(exc)
        if isinstance(exc, pydantic_core.PydanticCustomError | pydantic_core.PydanticKnownError):
            context = exc.context
            return [error_dict(exc.type, exc.message(), value,
                               None if context is None else json_ctx(context))]
    if isinstance(exc, ValueError):
        return [error_dict("value_error", f"Value error, {exc}", value, {"error": {}})]
    if isinstance(exc, AssertionError):
        return [error_dict("assertion_error", f"Assertion failed, {exc}", value, {"error": {}})]
    return None


def _as_validation_error(errors: list[ErrorDict]) -> Exception | None:
    """Our errors as a pydantic ``ValidationError``, for a wrap validator to catch."""
    try:
        pydantic_core = importlib.import_module("pydantic_core")  # loaded: a validator exists
        line_errors = [
            {"type": e["type"], "loc": tuple(e["loc"]), "input": e["input"],
             **({"ctx": e["ctx"]} if "ctx" in e else {})}
            for e in errors
        ]
        error: Exception = pydantic_core.ValidationError.from_exception_data(
            "ValidationError", line_errors
        )
    except Exception:  # an error type pydantic does not know: keep ours
        return None
    return error


def _layer(kind: str, func: Callable[..., Any], inner: Converter | None) -> Converter:
    """One validator around ``inner`` (None: the value as it is)."""
    info = _takes_info(func, 2 if kind == "WrapValidator" else 1)
    run_inner: Converter = inner if inner is not None else (lambda value: value)

    def call(value: Any, *args: Any, given: Any = _SAME) -> Any:
        # ``given``: the value this layer received, which errors report (pydantic's input).
        try:
            return func(value, *args, _INFO) if info else func(value, *args)
        except (ValueError, AssertionError) as exc:
            errors = _errors_of(exc, value if given is _SAME else given)
            if errors is None:
                raise
            raise ConversionError(errors) from None

    if kind == "BeforeValidator":
        return lambda value: run_inner(call(value))
    if kind == "AfterValidator":
        return lambda value: call(run_inner(value), given=value)
    if kind == "PlainValidator":
        return call

    def wrap(value: Any) -> Any:
        raised: list[tuple[Exception, list[ErrorDict]]] = []

        def handler(item: Any, *_outer_location: Any) -> Any:
            try:
                return run_inner(item)
            except ConversionError as exc:
                translated = _as_validation_error(exc.errors)
                if translated is None:
                    raise
                raised.append((translated, exc.errors))
                raise translated from None

        try:
            return call(value, handler)
        except ConversionError as exc:
            for translated, errors in raised:  # the handler's own error, let through
                if exc.__cause__ is translated or exc.__context__ is translated:
                    raise ConversionError(errors) from None
            raise

    return wrap


def with_validators(converter: Converter | None, metadata: Iterable[Any]) -> Converter | None:
    """``converter`` wrapped in the validators of ``metadata``, in pydantic's order."""
    result = converter
    for item in metadata:
        kind = _kind(item)
        if kind is not None:
            result = _layer(kind, item.func, result)
    return result
