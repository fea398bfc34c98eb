"""``--log-config FILE``: a logging configuration from a file, as uvicorn reads one.

``.json``, ``.yaml`` or ``.yml``: a ``logging.config.dictConfig`` mapping (YAML
needs PyYAML, the ``microready[yaml]`` extra); any other name: an INI file for
``logging.config.fileConfig``. A file that cannot be used is a start-up error
of one line (``ConfigError``), never a traceback.

One difference from a bare ``dictConfig``: a file that does not say
``disable_existing_loggers`` keeps the loggers that exist already (as
``fileConfig`` is called here, and as uvicorn calls it). Otherwise a file that
configures only the root logger would silently switch off ``microready.*``,
which exist from the moment the server is imported.
"""

from __future__ import annotations

import importlib
import json
import logging.config
import os
from typing import Any

from .config import ConfigError

__all__ = ["apply_log_config"]

_YAML_SUFFIXES = (".yaml", ".yml")


def apply_log_config(path: str) -> None:
    """Configure logging from ``path``; raises ConfigError with one line on failure."""
    if not os.path.isfile(path):
        raise ConfigError(f"--log-config {path}: no such file")
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix == ".json" or suffix in _YAML_SUFFIXES:
            logging.config.dictConfig(_read_mapping(path, suffix))
        else:
            logging.config.fileConfig(path, disable_existing_loggers=False)
    except ConfigError:
        raise
    except Exception as exc:  # dictConfig and fileConfig raise many kinds
        raise ConfigError(f"--log-config {path} cannot be used: {_one_line(exc)}") from exc


def _read_mapping(path: str, suffix: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        text = file.read()
    if suffix == ".json":
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--log-config {path} is not valid JSON: {exc}") from exc
    else:
        try:
            # By name: PyYAML is an optional extra, and type-checking must not
            # depend on whether it (or its stubs) happens to be installed.
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            raise ConfigError(
                f"--log-config {path} is YAML, which needs PyYAML: pip install 'microready[yaml]'"
            ) from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problem = _yaml_problem(exc)
            raise ConfigError(f"--log-config {path} is not valid YAML: {problem}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"--log-config {path} must hold a dictConfig mapping such as "
            f'{{"version": 1, "loggers": {{"microready": {{"level": "INFO"}}}}}}, '
            f"not {type(loaded).__name__}"
        )
    loaded.setdefault("disable_existing_loggers", False)
    return loaded


def _yaml_problem(exc: Any) -> str:
    """``expected ',' or ']', but got ':' (line 2, column 2)``: PyYAML's own text
    spans several lines, with a caret under the place."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem is None or mark is None:
        return _one_line(exc)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"


def _one_line(exc: BaseException) -> str:
    """The error and what caused it (dictConfig wraps the real reason), on one line."""
    # fileConfig's KeyError for a missing section says only "'formatters'".
    text = f"missing {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return " ".join(text.split())
