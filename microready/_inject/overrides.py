"""``app.dependency_overrides``: FastAPI's dict of dependency -> replacement, for tests.

Plans are made once, at registration, so an override cannot be planned into
them; instead ``solve`` asks this dict about each dependency, and only when
it is not empty (the app hands the solver ``None`` otherwise, so a request
pays nothing for the feature). A replacement is planned the first time a
request meets it (its parameters are read from the request like any
dependency's, and it may have dependencies and ``yield`` of its own); the plan
is kept until the dict changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._utils import callable_name
from ..requests import Request
from .plan import CallPlan
from .signature import plan_dependency

__all__ = ["DependencyOverrides"]

Call = Callable[..., Any]


class DependencyOverrides(dict[Call, Call]):
    """``app.dependency_overrides[get_db] = fake_db``; ``.clear()`` restores them all."""

    def __init__(self) -> None:
        super().__init__()
        self._plans: dict[tuple[Call, frozenset[str]], CallPlan] = {}

    def replacement_for(self, call: Call, request: Request) -> tuple[Call, CallPlan] | None:
        """The replacement of ``call`` and its plan, or None if it is not overridden."""
        try:
            replacement = self[call]
        except (KeyError, TypeError):  # TypeError: an unhashable callable object
            return None
        # The route's path parameter names: a replacement's parameter named like
        # one is read from the path, as in the dependency it replaces.
        path_names = frozenset(request.path_params)
        key = (replacement, path_names)
        plan = self._plans.get(key)
        if plan is None:
            where = f"dependency override {callable_name(replacement)} of {callable_name(call)}"
            plan = self._plans[key] = plan_dependency(replacement, path_names, where)
        return replacement, plan

    # Every way of changing the dict forgets the plans made for the old values.

    def __setitem__(self, key: Call, value: Call) -> None:
        if not callable(value):
            raise TypeError(
                f"dependency_overrides[{callable_name(key)}] must be a function to call "
                f"instead, not {type(value).__name__}:\n"
                f"    right: app.dependency_overrides[{callable_name(key)}] = override_fn"
            )
        super().__setitem__(key, value)
        self._plans.clear()

    def __delitem__(self, key: Call) -> None:
        super().__delitem__(key)
        self._plans.clear()

    def clear(self) -> None:
        super().clear()
        self._plans.clear()

    def pop(self, key: Call, *default: Any) -> Any:
        self._plans.clear()
        return super().pop(key, *default)

    def popitem(self) -> tuple[Call, Call]:
        self._plans.clear()
        return super().popitem()

    def setdefault(self, key: Call, default: Call | None = None) -> Call:
        if key not in self:
            if default is None:
                raise TypeError("dependency_overrides.setdefault() needs the replacement")
            self[key] = default
        return self[key]

    def update(self, *others: Any, **more: Call) -> None:
        if more:
            raise TypeError("dependency_overrides keys are functions; pass a dict")
        for other in others:
            for key, value in (other.items() if isinstance(other, Mapping) else other):
                self[key] = value

    def __ior__(self, other: Any) -> DependencyOverrides:  # type: ignore[override,misc]
        self.update(other)
        return self
