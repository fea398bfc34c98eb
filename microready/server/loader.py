"""Find the app named by ``MODULE:ATTR`` on the command line.

Every failure raises ``AppLoadError`` with one line that names what is wrong
(the module, the attribute, or what the attribute turned out to be), so the CLI
can print it without a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from .._asgi.served import LifespanMode, as_served
from .._exchange import ServedApp

__all__ = ["AppLoadError", "load_app"]


class AppLoadError(Exception):
    """The ``MODULE:ATTR`` given does not lead to a microready app."""


# The packages microready's extras bring: an app that imports one of them
# without it installed is told which extra to install.
_EXTRA_OF_PACKAGE = {
    "celery": "celery", "kombu": "celery", "redis": "celery",
    "python_multipart": "forms", "jinja2": "templates",
    "wsproto": "websockets", "trio": "trio", "uvloop": "uvloop", "watchfiles": "reload",
    "dotenv": "dotenv", "yaml": "yaml",
}


def load_app(spec: str, *, factory: bool = False, app_dir: str = ".",
             lifespan: LifespanMode = "auto") -> ServedApp:
    """The app named by ``spec``: a microready app, or an ASGI app made servable."""
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise AppLoadError(
            f'app must be given as "MODULE:ATTR", e.g. "examples.notifications:app"; got "{spec}"'
        )
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise AppLoadError(
                f'could not import module "{module_name}": no such module '
                f"(looked in --app-dir {directory} and on sys.path)"
            ) from None
        extra = _EXTRA_OF_PACKAGE.get((exc.name or "").partition(".")[0])
        hint = f"; pip install 'microready[{extra}]'" if extra else ""
        raise AppLoadError(f'could not import module "{module_name}": {exc}{hint}') from exc
    except Exception as exc:
        raise AppLoadError(
            f'could not import module "{module_name}": {type(exc).__name__}: {exc}'
        ) from exc

    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(
                f'module "{module_name}" has no attribute "{attr_path}"'
            ) from None

    if factory:
        if not callable(obj):
            raise AppLoadError(
                f'"{spec}" is not callable, so --factory cannot call it; '
                "drop --factory to serve it as the app"
            )
        try:
            obj = obj()
        except Exception as exc:
            raise AppLoadError(
                f'the app factory "{spec}" raised {type(exc).__name__}: {exc}'
            ) from exc

    try:
        return as_served(obj, lifespan=lifespan)
    except TypeError as exc:
        raise AppLoadError(f'"{spec}": {exc}') from None
