"""What a handler receives: its signature read once into a plan, and the plan
solved per request into arguments (parameters, bodies, dependencies).

One idea per module, each importing only the ones above it:

- ``plan``: the plan's data (``EndpointPlan``, ``CallPlan``, ``ParamPlan``,
  ``DependencyPlan``) and the ``Kind`` and ``Mode`` decided at registration;
- ``state``: ``RequestState``, what one request shares (the dependency cache,
  the exit stack of ``yield`` dependencies, the injected tasks and Response);
- ``call``: calling a planned callable, async, sync or generator: one switch;
- ``shapes``: what a parameter's annotation says about how to read it;
- ``signature``: the planner, which reads a signature into a plan, once;
- ``overrides``: ``app.dependency_overrides``' replacements, planned on first use;
- ``forms``: the values of parameter models and form fields;
- ``solve``: reading parameters and the body, resolving dependencies;
- ``endpoint``: ``run_endpoint``, what the app awaits for one request.
"""

from .endpoint import run_endpoint
from .overrides import ActiveOverrides, OverridePlans
from .plan import CallPlan, DependencyPlan, EndpointPlan, Kind, Mode, ParamPlan
from .signature import plan_endpoint
from .state import RequestState, close_failed

__all__ = [
    "CallPlan",
    "ActiveOverrides",
    "DependencyPlan",
    "EndpointPlan",
    "Kind",
    "Mode",
    "OverridePlans",
    "ParamPlan",
    "RequestState",
    "close_failed",
    "plan_endpoint",
    "run_endpoint",
]
