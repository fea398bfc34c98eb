"""``Depends()`` and ``Security()`` markers: a parameter filled by calling a dependency.

``microready.params`` re-exports them with the other markers (FastAPI keeps
them all in ``fastapi.params``); they live apart to keep that module short.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

__all__ = ["Dependency", "SecurityDependency"]


class Dependency:
    """``Depends(fn)``: call ``fn`` (with its own parameters solved) and pass its result.

    ``scope`` is for ``yield`` dependencies (FastAPI 0.121): ``"request"`` (the
    default) closes them after the response and its background tasks,
    ``"function"`` as soon as the endpoint has returned, before the response.
    """

    __slots__ = ("dependency", "use_cache", "scope")

    def __init__(self, dependency: Callable[..., Any] | None = None, *,
                 use_cache: bool = True, scope: str | None = None) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(_not_callable_message(dependency))
        if scope not in (None, "function", "request"):
            raise ValueError(
                f"Depends(scope=...) is 'function' or 'request', not {scope!r}:\n"
                f"    right: Depends(get_db, scope=\"function\")"
            )
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", None) or repr(self.dependency)
        cache = "" if self.use_cache else ", use_cache=False"
        return f"{self._marker}({'' if self.dependency is None else name}{cache})"

    _marker: ClassVar[str] = "Depends"


class SecurityDependency(Dependency):
    """``Security(fn, scopes=[...])``: a dependency that also names the OAuth2 scopes
    it needs; ``SecurityScopes`` parameters below it receive them, accumulated."""

    __slots__ = ("scopes",)
    _marker = "Security"

    def __init__(self, dependency: Callable[..., Any] | None = None, *,
                 scopes: Sequence[str] | None = None, use_cache: bool = True) -> None:
        super().__init__(dependency, use_cache=use_cache)
        if isinstance(scopes, str):
            raise TypeError(
                f"Security(scopes=...) takes a list of scopes:\n"
                f"    wrong: scopes={scopes!r}\n"
                f"    right: scopes=[{scopes!r}]"
            )
        self.scopes: tuple[str, ...] = tuple(scopes or ())


def _not_callable_message(value: object) -> str:
    if inspect.iscoroutine(value) or inspect.isgenerator(value):
        name = value.__name__
        value.close()  # silences "never awaited"; it was a mistake anyway
        return (
            f"Depends() needs the function, not the result of calling it:\n"
            f"    wrong: Depends({name}())\n"
            f"    right: Depends({name})"
        )
    return (
        f"Depends() needs a function or class to call, not {type(value).__name__} {value!r}:\n"
        f"    right: Depends(get_db)"
    )
