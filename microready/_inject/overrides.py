"""``app.dependency_overrides``: FastAPI's dict of dependency -> replacement, for tests.

Plans are made once, at registration, so an override cannot be planned into
them; instead ``solve`` asks ``ActiveOverrides`` about each dependency, and
only for a request of an app whose ``dependency_overrides`` is not empty (the
app hands the solver ``None`` otherwise, so a request pays nothing for the
feature). ``dependency_overrides`` itself stays whatever mapping the user put
there (FastAPI's docs assign ``{}`` or ``None`` to reset it, and may keep
changing the dict they assigned). A replacement is planned the first time a
request meets it (its parameters are read from the request like any
dependency's; it may have dependencies and ``yield`` of its own), and that plan
is kept, keyed by the replacement and the route's path parameter names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._utils import callable_name
from ..requests import Request
from .plan import CallPlan
from .signature import plan_dependency

__all__ = ["ActiveOverrides", "OverridePlans"]

Call = Callable[..., Any]


class OverridePlans:
    """The plans made for replacements, one app's worth."""

    def __init__(self) -> None:
        self._plans: dict[tuple[Call, frozenset[str]], CallPlan] = {}

    def plan_for(self, call: Call, replacement: Call, request: Request) -> CallPlan:
        # A replacement's parameter named like a path parameter is read from the
        # path, as in the dependency it replaces.
        path_names = frozenset(request.path_params)
        key = (replacement, path_names)
        plan = self._plans.get(key)
        if plan is None:
            if not callable(replacement):
                raise TypeError(
                    f"dependency_overrides[{callable_name(call)}] must be a function to call "
                    f"instead, not {type(replacement).__name__}:\n"
                    f"    right: app.dependency_overrides[{callable_name(call)}] = override_fn"
                )
            where = f"dependency override {callable_name(replacement)} of {callable_name(call)}"
            plan = self._plans[key] = plan_dependency(replacement, path_names, where)
        return plan


class ActiveOverrides:
    """One request's view of the app's overrides: what ``solve`` asks."""

    __slots__ = ("overrides", "plans")

    def __init__(self, overrides: Mapping[Call, Call], plans: OverridePlans) -> None:
        self.overrides = overrides
        self.plans = plans

    def replacement_for(self, call: Call, request: Request) -> tuple[Call, CallPlan] | None:
        """The replacement of ``call`` and its plan, or None if it is not overridden."""
        try:
            replacement = self.overrides[call]
        except (KeyError, TypeError):  # TypeError: an unhashable callable object
            return None
        return replacement, self.plans.plan_for(call, replacement, request)
