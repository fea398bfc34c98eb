"""``python -m microready MODULE:ATTR [options]``.

The flags are generated from ``Config``'s fields (``timeout_keep_alive`` becomes
``--timeout-keep-alive``), so the CLI and ``run()`` cannot drift apart. Names
follow uvicorn's where uvicorn has the option. ``main(argv)`` returns the exit
code, so tests call it directly.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from .._version import __version__
from .config import Config, ConfigError
from .run import serve

__all__ = ["main"]

_CHOICES = {
    "backend": ("asyncio", "trio"),
    "loop": ("auto", "asyncio", "uvloop"),
    "log_level": ("critical", "error", "warning", "info", "debug", "trace"),
    "lifespan": ("auto", "on", "off"),
    "access_log_format": ("plain", "json"),
}


def _optional(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.lower() in ("none", "") else convert(text)

    parse.__name__ = convert.__name__  # argparse names the type in its errors
    return parse


def _converter(annotation: Any) -> Callable[[str], Any]:
    hint = annotation
    args = typing.get_args(hint)
    optional = isinstance(hint, types.UnionType) and type(None) in args
    if optional:
        hint = next(a for a in args if a is not type(None))
    convert: Callable[[str], Any] = hint if hint in (int, float) else str
    return _optional(convert) if optional else convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m microready",
        description="Serve a microready app, or any ASGI 3 app, over HTTP/1.1.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("app", metavar="MODULE:ATTR", help="the app to serve, e.g. main:app")
    parser.add_argument(
        "--factory", action="store_true", help="ATTR is a callable that returns the app"
    )
    parser.add_argument(
        "--app-dir", default=".", help="directory put first on sys.path to import MODULE from"
    )
    hints = typing.get_type_hints(Config)
    for field in dataclasses.fields(Config):
        flag = "--" + field.name.replace("_", "-")
        help_text = field.metadata.get("help", "")
        hint = hints[field.name]
        if hint is bool or hint == bool | None:
            # --proxy-headers / --no-proxy-headers, as uvicorn spells them.
            parser.add_argument(
                flag, dest=field.name, default=field.default,
                action=argparse.BooleanOptionalAction, help=help_text,
            )
            continue
        if typing.get_origin(hint) is tuple:
            # Repeatable (--header A:1 --header B:2); SUPPRESS: an unused flag
            # leaves the field to Config's default.
            parser.add_argument(
                field.metadata.get("flag", flag), dest=field.name, action="append",
                default=argparse.SUPPRESS, metavar=field.metadata.get("metavar"),
                help=help_text,
            )
            continue
        parser.add_argument(
            flag,
            dest=field.name,
            default=field.default,
            type=_converter(hint),
            choices=_CHOICES.get(field.name),
            help=help_text,
        )
    parser.add_argument("--version", action="version", version=f"microready {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    spec = args.pop("app")
    factory = args.pop("factory")
    app_dir = args.pop("app_dir")
    try:
        config = Config(**args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(spec, config, factory=factory, app_dir=app_dir)


def console_main() -> None:
    sys.exit(main())
