"""Route path templates: ``/items/{item_id}`` parsed once into a regular expression.

A parameter matches one path segment, unless a convertor says otherwise:
``{file_path:path}`` matches the rest of the path, and ``{user_id:int}``,
``{price:float}`` and ``{id:uuid}`` match only their form and arrive
converted. The convertors are Starlette's, with the same regular expressions.
``{$...}`` is not a parameter but an OpenAPI runtime expression, kept as text
(a callback's path starts with one).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["PathTemplate"]

# name: (regex, conversion of the matched text). The same set as Starlette's.
_CONVERTORS: dict[str, tuple[str, Callable[[str], Any] | None]] = {
    "str": (r"[^/]+", None),
    "path": (r".*", None),
    "int": (r"[0-9]+", int),
    "float": (r"[0-9]+(?:\.[0-9]+)?", float),
    "uuid": (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
             uuid.UUID),
}
_PARAM = re.compile(r"\{([^{}]*)\}")
_EXPRESSION = re.compile(r"\{\$[^{}]*\}")


class PathTemplate:
    """A parsed route path: ``/items/{item_id}`` -> a regex and the parameter names."""

    __slots__ = ("path", "names", "regex", "conversions", "prefix", "is_static")

    def __init__(self, path: str) -> None:
        if not isinstance(path, str):
            raise TypeError(f"a route path is a str such as '/items/{{item_id}}', not {path!r}")
        if not path.startswith(("/", "{$")):
            raise ValueError(
                f"route path {path!r} must start with '/':\n"
                f"    wrong: @app.get({path!r})\n"
                f"    right: @app.get({'/' + path!r})"
            )
        self.path = path
        names: list[str] = []
        conversions: dict[str, Callable[[str], Any]] = {}
        pattern: list[str] = []
        position = 0
        for match in _PARAM.finditer(path):
            if match.group(1).startswith("$"):
                # An OpenAPI runtime expression ("{$callback_url}/invoices/{$request.body.id}",
                # FastAPI's "OpenAPI Callbacks"): text of the path, as in Starlette.
                continue
            pattern.append(self._literal(path[position:match.start()]))
            name, _, convertor = match.group(1).partition(":")
            name = name.strip()
            convertor = convertor.strip() or "str"
            if not name.isidentifier():
                raise ValueError(
                    f"route path {path!r}: {{{match.group(1)}}} is not a valid parameter; "
                    "a parameter is a Python name, e.g. /items/{item_id} or /files/{file_path:path}"
                )
            if convertor not in _CONVERTORS:
                raise ValueError(
                    f"route path {path!r}: unknown convertor {convertor!r} in "
                    f"{{{match.group(1)}}}; "
                    f"use one of {', '.join(_CONVERTORS)}, e.g. {{{name}:int}}"
                )
            if name in names:
                raise ValueError(f"route path {path!r} uses the parameter {{{name}}} twice")
            names.append(name)
            regex, conversion = _CONVERTORS[convertor]
            pattern.append(f"(?P<{name}>{regex})")
            if conversion is not None:
                conversions[name] = conversion
            position = match.end()
        pattern.append(self._literal(path[position:]))
        self.names = tuple(names)
        self.is_static = not names
        self.regex = re.compile("".join(pattern))
        self.conversions = conversions
        # Text every match starts with: a cheap test before the regex.
        self.prefix = path.split("{", 1)[0]

    def _literal(self, text: str) -> str:
        bare = _EXPRESSION.sub("", text)
        if "{" in bare or "}" in bare:
            raise ValueError(
                f"route path {self.path!r} has an unbalanced brace; parameters look like "
                "{item_id}"
            )
        return re.escape(text)

    def match(self, path: str) -> dict[str, Any] | None:
        """The parameters if ``path`` matches this template, else None."""
        if not path.startswith(self.prefix):
            return None
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        params: dict[str, Any] = found.groupdict()
        for name, conversion in self.conversions.items():
            params[name] = conversion(params[name])
        return params

    def __repr__(self) -> str:
        return f"PathTemplate({self.path!r})"
